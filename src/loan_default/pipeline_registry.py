"""Project pipelines: every stage on its own, and `loan`, the whole job."""

from __future__ import annotations

from kedro.framework.project import find_pipelines, pipelines
from kedro.pipeline import Pipeline

# Stages that are not part of the training job: scoring consumes its outputs; tuning is an
# occasional search whose result is written into conf/base by hand.
NOT_IN_LOAN_JOB = {"score", "tune"}


def register_pipelines() -> dict[str, Pipeline]:
    """Register each stage, `loan` (all training stages), `tune` (the search with the stages it
    needs) and `__default__` (= loan)."""
    # Kedro 1.x imports only the stage folders named on the command line; `loan` is composed
    # from every stage, so lift that filter and discover them all.
    pipelines.set_requested(None)
    stages = find_pipelines(raise_errors=True)
    stages.pop("__default__", None)
    loan = sum(
        (pipeline for name, pipeline in stages.items() if name not in NOT_IN_LOAN_JOB),
        start=Pipeline([]),
    )
    # `tune` runs on its own: the stages that give it the training loans and prepared folds,
    # and the raw file recorded as the run's MLflow input, as in `loan`.
    tune = loan.to_outputs("prepared_folds", "cv_folds", "train_loans", "raw_data_input")
    tune += stages["tune"]
    return {**stages, "tune": tune, "loan": loan, "__default__": loan}
