"""Evaluation: out-of-time metrics of every configuration and baseline, the ranked comparison,
plots, the champion's metrics and a written finding."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import (
    compare_strategies,
    describe_strategy_effects,
    evaluate_test,
    plot_champion_confusion,
    plot_curves,
    plot_metric_by_strategy,
    render_comparison,
    summarise_champion,
    write_model_finding,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the evaluation stage."""
    return stage(
        [
            Node(
                evaluate_test,
                [
                    "test_predictions",
                    "baseline_test_predictions",
                    "operating_points",
                    "baseline_operating_points",
                    "test_loans",
                    "params:dataset",
                ],
                "test_metrics",
                name="evaluate_test",
            ),
            Node(
                compare_strategies,
                [
                    "cv_results",
                    "baseline_cv_results",
                    "test_metrics",
                    "operating_points",
                    "baseline_operating_points",
                    "params:training",
                ],
                "evaluation.strategy_comparison",
                name="compare_strategies",
            ),
            Node(
                render_comparison,
                ["evaluation.strategy_comparison", "params:evaluation", "params:training"],
                "strategy_comparison_md",
                name="render_comparison",
                tags={"reporting"},
            ),
            Node(
                summarise_champion,
                ["champion", "evaluation.strategy_comparison"],
                "champion_metrics",
                name="summarise_champion",
            ),
            Node(
                plot_curves,
                [
                    "test_predictions",
                    "baseline_test_predictions",
                    "evaluation.strategy_comparison",
                    "champion",
                    "operating_points",
                    "baseline_operating_points",
                    "test_loans",
                    "test_set",
                    "params:dataset",
                    "params:evaluation",
                ],
                ["roc_curves_plot", "pr_curves_plot", "calibration_curves_plot"],
                name="plot_curves",
                tags={"reporting"},
            ),
            Node(
                plot_metric_by_strategy,
                ["evaluation.strategy_comparison", "params:evaluation", "params:training"],
                "metric_by_strategy_plot",
                name="plot_metric_by_strategy",
                tags={"reporting"},
            ),
            Node(
                plot_champion_confusion,
                ["test_predictions", "champion", "test_loans", "test_set", "params:dataset"],
                "champion_confusion_matrix_plot",
                name="plot_champion_confusion",
                tags={"reporting"},
            ),
            Node(
                write_model_finding,
                [
                    "evaluation.strategy_comparison",
                    "champion",
                    "test_set",
                    "params:evaluation",
                    "params:training",
                ],
                "model_finding",
                name="write_model_finding",
                tags={"reporting"},
            ),
            Node(
                describe_strategy_effects,
                [
                    "evaluation.strategy_comparison",
                    "test_loans",
                    "test_set",
                    "params:evaluation",
                    "params:training",
                    "params:dataset",
                ],
                "strategy_effects",
                name="describe_strategy_effects",
                tags={"reporting"},
            ),
        ],
        "evaluation",
        {"evaluation"},
    )
