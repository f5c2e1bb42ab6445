"""Project pipelines: every stage on its own, and `loan`, the whole job."""

from __future__ import annotations

from kedro.framework.project import find_pipelines, pipelines
from kedro.pipeline import Pipeline

# Stages that are not part of the training job (they consume its outputs).
NOT_IN_LOAN_JOB = {"score"}


def register_pipelines() -> dict[str, Pipeline]:
    """Register each stage, `loan` (all training stages) and `__default__` (= loan)."""
    # Kedro 1.x imports only the stage folders named on the command line; `loan` is composed
    # from every stage, so lift that filter and discover them all.
    pipelines.set_requested(None)
    stages = find_pipelines(raise_errors=True)
    stages.pop("__default__", None)
    loan = sum(
        (pipeline for name, pipeline in stages.items() if name not in NOT_IN_LOAN_JOB),
        start=Pipeline([]),
    )
    return {**stages, "loan": loan, "__default__": loan}
