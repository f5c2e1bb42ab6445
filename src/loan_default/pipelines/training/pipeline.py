"""Training: cross-validated model x strategy grid, final fits, out-of-time scores, champion."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.nodes import summarise_folds
from loan_default.pipelines.stage import stage

from .nodes import (
    build_champion_model,
    calibrate_predictions,
    choose_operating_points,
    cross_validate_models,
    fit_calibrators,
    fit_final_models,
    preprocess_folds,
    score_test_loans,
    select_champion,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the training stage."""
    return stage(
        [
            Node(
                preprocess_folds,
                ["train_loans", "fitted_preprocessor", "cv_folds", "params:dataset"],
                "prepared_folds",
                name="preprocess_folds",
            ),
            Node(
                cross_validate_models,
                ["prepared_folds", "train_loans", "params:dataset", "params:training"],
                "raw_cv_predictions",
                name="cross_validate_models",
            ),
            Node(
                preprocess_folds,
                ["train_loans", "fitted_preprocessor", "comparison_cv_folds", "params:dataset"],
                "comparison_prepared_folds",
                name="preprocess_comparison_folds",
                tags={"reporting"},
            ),
            Node(
                cross_validate_models,
                [
                    "comparison_prepared_folds",
                    "train_loans",
                    "params:dataset",
                    "params:training",
                ],
                "raw_comparison_cv_predictions",
                name="cross_validate_models_for_comparison",
                tags={"reporting"},
            ),
            Node(
                calibrate_predictions,
                ["raw_comparison_cv_predictions", "calibrators"],
                "comparison_cv_predictions",
                name="calibrate_comparison_cv_predictions",
                tags={"reporting"},
            ),
            Node(
                summarise_folds,
                [
                    "comparison_cv_predictions",
                    "operating_points",
                    "train_loans",
                    "params:dataset",
                ],
                "evaluation.comparison_cv_results",
                name="summarise_comparison_cv",
                tags={"reporting"},
            ),
            Node(
                fit_calibrators,
                ["raw_cv_predictions", "train_loans", "params:dataset", "params:training"],
                "calibrators",
                name="fit_calibrators",
            ),
            Node(
                calibrate_predictions,
                ["raw_cv_predictions", "calibrators"],
                "cv_predictions",
                name="calibrate_cv_predictions",
            ),
            Node(
                choose_operating_points,
                ["cv_predictions", "train_loans", "params:dataset", "params:training"],
                "operating_points",
                name="choose_operating_points",
            ),
            Node(
                summarise_folds,
                ["cv_predictions", "operating_points", "train_loans", "params:dataset"],
                "cv_results",
                name="summarise_cv",
            ),
            Node(
                fit_final_models,
                ["train_features", "fitted_preprocessor", "params:dataset", "params:training"],
                "final_models",
                name="fit_final_models",
            ),
            Node(
                score_test_loans,
                ["final_models", "calibrators", "fitted_preprocessor", "test_features"],
                "test_predictions",
                name="score_test_loans",
                tags={"evaluation"},
            ),
            Node(
                select_champion,
                ["cv_results", "operating_points", "params:training"],
                "champion",
                name="select_champion",
            ),
            Node(
                build_champion_model,
                ["champion", "final_models", "calibrators", "fitted_preprocessor"],
                "champion_model",
                name="build_champion_model",
            ),
        ],
        "training",
        {"training"},
    )
