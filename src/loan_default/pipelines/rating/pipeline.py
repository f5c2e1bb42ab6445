"""Rating: the master scale (modelling phase, training PDs only) and its backtest on the
out-of-time test loans (validation phase), in two namespaces as each phase runs in one stretch."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import backtest_ratings, fit_rating_scale, tabulate_rating_scale


def create_pipeline(**kwargs) -> Pipeline:
    """Build the rating and backtest stages."""
    scale = stage(
        [
            Node(
                fit_rating_scale,
                [
                    "cv_predictions",
                    "champion",
                    "train_loans",
                    "params:dataset",
                    "params:rating",
                ],
                "rating_scale",
                name="fit_rating_scale",
            ),
            Node(
                tabulate_rating_scale,
                "rating_scale",
                "calibration.master_scale",
                name="tabulate_rating_scale",
                tags={"reporting"},
            ),
        ],
        "rating",
        {"training"},
    )
    checks = stage(
        [
            Node(
                backtest_ratings,
                [
                    "test_predictions",
                    "champion",
                    "calibrators",
                    "rating_scale",
                    "test_loans",
                    "params:dataset",
                    "params:rating",
                ],
                [
                    "calibration.rating_backtest",
                    "calibration.calibration_summary",
                    "calibration_metrics",
                ],
                name="backtest_ratings",
            ),
        ],
        "backtest",
        {"evaluation"},
    )
    return scale + checks
