"""Tune: a bounded search over each model's hyperparameters on the time-ordered validation folds
of the training loans. Run on its own (`kedro run --pipeline tune`), never inside `loan`."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import search_hyperparameters, summarise_tuning


def create_pipeline(**kwargs) -> Pipeline:
    """Build the tuning stage (the registry adds the stages that prepare its folds)."""
    return stage(
        [
            Node(
                search_hyperparameters,
                [
                    "prepared_folds",
                    "cv_folds",
                    "train_loans",
                    "params:dataset",
                    "params:training",
                    "params:tuning",
                ],
                "tuning.tuning_trials",
                name="search_hyperparameters",
            ),
            Node(
                summarise_tuning,
                ["tuning.tuning_trials", "params:training", "params:tuning"],
                ["tuned_parameters", "tuning_trial_runs", "tuning_metrics"],
                name="summarise_tuning",
            ),
        ],
        "tune",
        {"tune"},
    )
