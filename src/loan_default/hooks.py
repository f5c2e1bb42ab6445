"""Project hooks: run metadata in MLflow, and closing the run cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

from loan_default import tracking

RAW_DATASET = "raw_loans"
SPLIT_SUMMARY = "split_summary"
COMPARISON = "strategy_comparison"
CHAMPION_MODEL = "champion_model"
CHAMPION = "champion"
INPUT_EXAMPLE = RAW_DATASET  # raw rows, before any parsing, as new applications arrive


class RunMetadataHook:
    """Tag the pipeline's MLflow run with what it ran on: pipeline, git, raw data, split."""

    def __init__(self) -> None:
        self._project_path: Path | None = None
        self._raw_file: Path | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Remember where the project and its raw file are."""
        self._project_path = Path(context.project_path)
        raw_entry = context.config_loader["catalog"].get(RAW_DATASET) or {}
        filepath = raw_entry.get("filepath")
        self._raw_file = (self._project_path / filepath) if filepath else None

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Tag the run kedro-mlflow has just opened."""
        names = run_params.get("pipeline_names") or ["__default__"]
        tags = {"kedro.pipeline": ",".join(names), "kedro.env": run_params.get("env") or "local"}
        if self._project_path is not None:
            tags |= tracking.git_tags(self._project_path)
        tracking.set_tags(tags)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        """Record the raw file's hash and size when the pipeline reads it."""
        if dataset_name == RAW_DATASET:
            tracking.set_tags(tracking.raw_data_tags(self._raw_file, data))

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        """Record the split summary as tags."""
        if dataset_name == SPLIT_SUMMARY:
            tracking.set_tags(tracking.split_summary_tags(data))


class ChampionTrackingHook:
    """After a successful training run: child runs, the pyfunc champion and the registry alias.

    Runs only after the whole pipeline succeeded, so a failed run never registers a model or
    moves the alias; on failure it records the error on the run before it is closed.
    """

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        """Log what kedro-mlflow cannot while the parent run is still open."""
        run = mlflow.active_run()
        if run is None or CHAMPION_MODEL not in pipeline.all_outputs():
            return
        comparison = catalog.load(COMPARISON)
        tracking.log_child_runs(
            comparison,
            run.info.experiment_id,
            run.info.run_id,
            tracking.configuration_params(comparison, catalog.load("params:training")),
        )
        registry = catalog.load("params:registry")
        model = tracking.log_champion_model(
            catalog.load(CHAMPION_MODEL),
            catalog.load("params:dataset"),
            catalog.load(INPUT_EXAMPLE).head(5),
        )
        winner = catalog.load(CHAMPION)["configuration"]
        champion = comparison.set_index("configuration").loc[winner]
        tracking.register_champion(
            model.model_uri, float(champion[registry["metric"]]), registry, run.info.run_id
        )

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self, error: Exception) -> None:
        """Record what went wrong on the run, before it is closed as FAILED."""
        tracking.set_tags({"error": f"{type(error).__name__}: {error}"[:5000]})


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
