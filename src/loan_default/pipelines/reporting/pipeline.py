"""Reporting: headline metrics for the MLflow run and one HTML report of the whole job."""

from kedro.pipeline import Node, Pipeline

from .nodes import PLOTS, collect_run_metrics, describe_configuration_runs, render_report

TABLES = [
    "split_summary",
    "dropped_columns",
    "missing_value_report",
    "iv_ranking",
    "text_feature_stability",
    "text_fill_rates",
    "strategy_comparison",
    "comparison_cv_results",
    "cv_scheme",
    "ablation",
    "champion",
    "champion_metrics",
    "model_finding",
    "fairness_audit",
    "proxy_strength",
    "fairness_trade_off",
    "fairness_finding",
]


def create_pipeline(**kwargs) -> Pipeline:
    """Build the reporting stage."""
    report_inputs = {name: name for name in TABLES} | {"dataset": "params:dataset"}
    report_inputs |= {"training": "params:training", "reports": "params:features.reports"}
    report_inputs |= {"test_set": "test_set"}
    report_inputs |= {plot: plot for plot in PLOTS}
    return Pipeline(
        [
            Node(
                collect_run_metrics,
                ["strategy_comparison", "champion"],
                "run_metrics",
                name="collect_run_metrics",
            ),
            Node(
                describe_configuration_runs,
                ["strategy_comparison", "params:training"],
                "configuration_runs",
                name="describe_configuration_runs",
            ),
            Node(render_report, report_inputs, "loan_report", name="render_report"),
        ],
        namespace="reporting",
        inputs={*TABLES, "test_set", *PLOTS},
        outputs={"run_metrics", "loan_report", "configuration_runs"},
        parameters={"params:dataset", "params:training", "params:features.reports"},
        tags={"reporting"},
    )
