"""Project hooks around kedro-mlflow."""

from __future__ import annotations

from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl


class CloseMlflowRunHook:
    """Close every stacked copy of the pipeline's MLflow run once the pipeline ends.

    kedro-mlflow 2.0.3 re-opens the active run before each node; with MLflow 3.17 that pushes
    the same run onto MLflow's run stack again, and its `after_pipeline_run` pops only one
    copy. Without this hook the run stays active in the process (notebooks, tests, benchmark)
    and the next session logs into it.
    """

    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Pop the leftover copies as FINISHED."""
        _end_all_runs("FINISHED")

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        """Pop the leftover copies as FAILED."""
        _end_all_runs("FAILED")


def _end_all_runs(status: str) -> None:
    while mlflow.active_run() is not None:
        mlflow.end_run(status)
