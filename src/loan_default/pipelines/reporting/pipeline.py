"""Reporting: headline metrics for the MLflow run and one HTML report of the whole job."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import (
    collect_run_metrics,
    describe_configuration_runs,
    measure_score_stability,
    rank_champion_drivers,
    render_report,
    summarise_for_committee,
    tabulate_gains,
)

# The report's inputs: each is passed as the render_report argument named by its last part.
# To add a section, add its dataset here and its argument and entry in render_report.
TABLES = [
    "executive_summary",
    "reporting.gains",
    "reporting.champion_drivers",
    "reporting.score_stability",
    "data.split_summary",
    "data.dropped_columns",
    "duplicate_summary",
    "baselines.scorecard_points",
    "data_quality.missing_value_report",
    "features.iv_ranking",
    "features.text_feature_stability",
    "features.text_fill_rates",
    "evaluation.strategy_comparison",
    "evaluation.comparison_cv_results",
    "cv_scheme",
    "evaluation.ablation",
    "champion",
    "champion_metrics",
    "model_finding",
    "strategy_effects",
    "fairness.fairness_audit",
    "fairness.proxy_strength",
    "fairness.fairness_trade_off",
    "fairness_finding",
    "fairness.adverse_action_reasons",
    "fairness.application_only_comparison",
    "calibration.rating_backtest",
    "calibration.calibration_summary",
    "calibration.master_scale",
]
# Figures from the `"{name}_plot"` dataset factory (conf/base/catalog.yml).
PLOTS = [
    "missing_value_plot",
    "woe_plot",
    "metric_by_strategy_plot",
    "roc_curves_plot",
    "pr_curves_plot",
    "calibration_curves_plot",
    "champion_confusion_matrix_plot",
    "fairness_by_group_plot",
]


def create_pipeline(**kwargs) -> Pipeline:
    """Build the reporting stage."""
    report_inputs = {name.split(".")[-1]: name for name in TABLES} | {"dataset": "params:dataset"}
    report_inputs |= {"training": "params:training", "reports": "params:features.reports"}
    report_inputs |= {"test_set": "test_set"}
    report_inputs |= {plot: plot for plot in PLOTS}
    return stage(
        [
            Node(
                collect_run_metrics,
                [
                    "evaluation.strategy_comparison",
                    "champion",
                    "ablation_metrics",
                    "fairness_metrics",
                    "calibration_metrics",
                ],
                "run_metrics",
                name="collect_run_metrics",
            ),
            Node(
                describe_configuration_runs,
                ["evaluation.strategy_comparison", "params:training"],
                "configuration_runs",
                name="describe_configuration_runs",
            ),
            Node(
                tabulate_gains,
                ["test_predictions", "champion", "test_loans", "params:dataset"],
                "reporting.gains",
                name="tabulate_gains",
            ),
            Node(
                measure_score_stability,
                [
                    "cv_predictions",
                    "test_predictions",
                    "champion",
                    "scoring_profile",
                    "train_loans",
                    "test_loans",
                    "params:dataset",
                    "params:features.reports",
                ],
                "reporting.score_stability",
                name="measure_score_stability",
            ),
            Node(
                rank_champion_drivers,
                ["test_features", "scoring_profile", "params:dataset"],
                "reporting.champion_drivers",
                name="rank_champion_drivers",
            ),
            Node(
                summarise_for_committee,
                [
                    "evaluation.strategy_comparison",
                    "champion",
                    "reporting.gains",
                    "data.split_summary",
                    "test_set",
                    "params:dataset",
                ],
                "executive_summary",
                name="summarise_for_committee",
            ),
            Node(render_report, report_inputs, "loan_report", name="render_report"),
        ],
        "reporting",
        {"reporting"},
    )
