"""Ablation: one configuration rebuilt step by step (base, + text, + monotone, + tuning,
+ ensemble), on the grid's folds and the test loans."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import cross_validate_ablation, score_ablation_test, tabulate_ablation


def create_pipeline(**kwargs) -> Pipeline:
    """Build the ablation stage."""
    return stage(
        [
            Node(
                cross_validate_ablation,
                [
                    "prepared_folds",
                    "fitted_preprocessor",
                    "train_loans",
                    "params:dataset",
                    "params:training",
                    "params:evaluation",
                ],
                "ablation_cv_predictions",
                name="cross_validate_ablation",
            ),
            Node(
                score_ablation_test,
                [
                    "train_features",
                    "test_features",
                    "fitted_preprocessor",
                    "params:dataset",
                    "params:training",
                    "params:evaluation",
                ],
                "ablation_test_predictions",
                name="score_ablation_test",
                tags={"evaluation"},
            ),
            Node(
                tabulate_ablation,
                [
                    "ablation_cv_predictions",
                    "ablation_test_predictions",
                    "fitted_preprocessor",
                    "evaluation.strategy_comparison",
                    "train_loans",
                    "test_loans",
                    "params:dataset",
                    "params:training",
                    "params:evaluation",
                ],
                ["evaluation.ablation", "ablation_metrics"],
                name="tabulate_ablation",
                tags={"reporting"},
            ),
        ],
        "ablation",
        {"ablation", "training"},
    )
