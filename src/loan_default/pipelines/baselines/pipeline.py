"""Baselines: approve-everyone, rules, single-column scores and a WoE scorecard, scored like
the models (same CV folds, same metrics, same out-of-time test loans)."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.nodes import summarise_folds
from loan_default.pipelines.stage import stage

from .nodes import (
    band_scorecard_points,
    choose_baseline_operating_points,
    cross_validate_baselines,
    fit_scorecard,
    score_baselines_test,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the baselines stage."""
    return stage(
        [
            Node(
                cross_validate_baselines,
                [
                    "train_loans",
                    "binning_process",
                    "cv_folds",
                    "params:dataset",
                    "params:baselines",
                ],
                "baseline_cv_predictions",
                name="cross_validate_baselines",
            ),
            Node(
                fit_scorecard,
                ["train_loans", "binning_process", "params:dataset", "params:baselines"],
                "scorecard_model",
                name="fit_scorecard",
            ),
            Node(
                score_baselines_test,
                [
                    "train_loans",
                    "test_loans",
                    "scorecard_model",
                    "params:dataset",
                    "params:baselines",
                ],
                "baseline_test_predictions",
                name="score_baselines_test",
                tags={"evaluation"},
            ),
            Node(
                choose_baseline_operating_points,
                [
                    "baseline_cv_predictions",
                    "train_loans",
                    "params:dataset",
                    "params:baselines",
                    "params:training",
                ],
                "baseline_operating_points",
                name="choose_baseline_operating_points",
            ),
            Node(
                summarise_folds,
                [
                    "baseline_cv_predictions",
                    "baseline_operating_points",
                    "train_loans",
                    "params:dataset",
                ],
                "baseline_cv_results",
                name="summarise_baseline_cv",
            ),
            Node(
                band_scorecard_points,
                ["scorecard_model", "test_loans", "params:dataset", "params:baselines"],
                "baselines.scorecard_points",
                name="band_scorecard_points",
                tags={"reporting"},
            ),
        ],
        "baselines",
        {"baselines", "training"},
    )
