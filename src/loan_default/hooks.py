"""Project hooks: inputs checked before a run, one run at a time per environment, and what each
MLflow run ran on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from loan_default import config_checks, raw_file, run_guard, tracking

RAW_DATASET = "raw_loans"
SPLIT_SUMMARY = "data.split_summary"
DUPLICATE_SUMMARY = "duplicate_summary"
SCORING_CHAMPION = "scoring_champion"
APPLICATIONS = "applications"
LOCK_FILE = ".run.lock"


def _is_scoring_only(pipeline: Any) -> bool:
    """Scoring reads the registry and writes versioned outputs: it never needs the lock."""
    return all("score" in node.tags for node in pipeline.nodes)


class InputFileHook:
    """Before anything runs: the raw loans file and a batch of applications are readable CSV
    files, and every column the configuration names is in the raw file's header.

    Reads only the first lines, so a wrong delimiter, an empty file or a bad encoding stops the
    run in plain words, before any output is written or any MLflow run is opened.
    """

    def __init__(self) -> None:
        self._context: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Keep the context: the catalog configuration says where the files are."""
        self._context = context

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        """Inspect the CSV inputs this pipeline reads."""
        entries = self._context.config_loader["catalog"] if self._context else {}
        inputs = pipeline.inputs()
        if RAW_DATASET in inputs:
            header = _inspect_csv(entries.get(RAW_DATASET), self._context.project_path)
            if header is not None:
                dataset = catalog.load("params:dataset")
                config_checks.check_header(header, dataset, dataset["source_file"])
        if APPLICATIONS in inputs:
            _inspect_csv(entries.get(APPLICATIONS), self._context.project_path)


def _inspect_csv(entry: dict[str, Any] | None, project_path: Any) -> list[str] | None:
    """Header of a local CSV catalog entry (None for other dataset types or remote paths)."""
    if not entry or not str(entry.get("type", "")).endswith("CSVDataset"):
        return None
    filepath = str(entry["filepath"])
    if "://" in filepath:
        return None
    path = Path(filepath) if Path(filepath).is_absolute() else Path(project_path) / filepath
    return raw_file.inspect_raw_file(path, entry.get("load_args") or {})


class RunGuardHook:
    """Before a run: take the environment's lock and close MLflow runs of dead processes."""

    def __init__(self) -> None:
        self.lock: run_guard.RunLock | None = None
        self._context: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Find the environment's data folder, where its lock lives."""
        self._context = context
        data_root = context.config_loader["globals"].get("data_root", "data")
        self.lock = run_guard.RunLock(Path(context.project_path) / data_root / LOCK_FILE)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any) -> None:
        """Runs before kedro-mlflow opens the run, so a refused run leaves no trace in MLflow."""
        if self.lock is not None and not _is_scoring_only(pipeline):
            self.lock.acquire(
                {
                    "env": run_params.get("env") or "local",
                    "pipeline": ",".join(run_params.get("pipeline_names") or ["__default__"]),
                }
            )
        experiment = getattr(getattr(self._context, "mlflow", None), "tracking", None)
        experiment = getattr(getattr(experiment, "experiment", None), "name", None)
        found = mlflow.get_experiment_by_name(experiment) if experiment else None
        if found is not None:
            run_guard.close_dead_runs(found.experiment_id)

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        """Release the lock."""
        if self.lock is not None:
            self.lock.release()

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        """Release the lock after a failure too."""
        if self.lock is not None:
            self.lock.release()


class RunMetadataHook:
    """Tag the pipeline's MLflow run with what it ran on: process, pipeline, git, raw data, split,
    and the model a scoring run used; record the error of a failed run."""

    def __init__(self, guard: RunGuardHook | None = None) -> None:
        self._guard = guard
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
        identity = run_guard.process_identity()
        tags |= {
            run_guard.PID_TAG: identity["pid"],
            run_guard.HOST_TAG: identity["host"],
            run_guard.START_TAG: identity["start_ticks"],
        }
        if self._project_path is not None:
            tags |= tracking.git_tags(self._project_path)
        tracking.set_tags(tags)
        active = mlflow.active_run()
        if active is not None and self._guard is not None and self._guard.lock is not None:
            self._guard.lock.annotate(mlflow_run_id=active.info.run_id)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        """Record the raw file's hash and size, or the registered model a scoring run uses."""
        if dataset_name == RAW_DATASET:
            tracking.set_tags(tracking.raw_data_tags(self._raw_file, data))
        elif dataset_name == SCORING_CHAMPION and data is not None:
            tracking.set_tags(
                {
                    "scoring.model_uri": data.uri,
                    "scoring.model_version": data.version,
                    "scoring.model_run_id": data.run_id,
                }
            )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        """Record the split summary and what was done about duplicates as tags."""
        if dataset_name == SPLIT_SUMMARY:
            tracking.set_tags(tracking.split_summary_tags(data))
        elif dataset_name == DUPLICATE_SUMMARY:
            tracking.set_tags(
                {
                    "duplicates.action": data["action"],
                    "duplicates.exact_rows": data["exact_duplicate_rows"],
                    "duplicates.dropped_rows": data["dropped_rows"],
                }
            )

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self, error: Exception) -> None:
        """Record what went wrong on the run, before kedro-mlflow closes it as FAILED."""
        tracking.set_tags({"error": f"{type(error).__name__}: {error}"[:5000]})


class SparkHook:
    """Starts the Spark session when the environment has a spark.yml (conf/spark/): settings
    from that file, Arrow transfers required, the UI address logged. Other environments run
    without Spark and never import it."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Create (or reuse) the session before the catalog creates any Spark dataset."""
        try:
            conf = context.config_loader["spark"]
        except MissingConfigException:
            return
        if conf:
            # Imported here: environments without spark.yml never load pyspark.
            from loan_default.spark.session import start_session  # noqa: PLC0415

            start_session(dict(conf), f"loan-default-{context.env or 'local'}")
