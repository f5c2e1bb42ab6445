"""Project hooks: the tracking store and inputs checked before a run, one run at a time per
environment (a SIGTERM closes the run as KILLED), and what each MLflow run ran on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from loan_default import config_checks, raw_file, run_guard

# MLflow and loan_default.tracking (which loads the serving model, scikit-learn and XGBoost) are
# imported inside the hooks that use them, so that `kedro --help` does not load them.

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

    Reads only the first lines, and a compressed file through to its end (0.14 s for the bundled
    gzip), so a wrong delimiter, an empty, truncated or corrupt file or a bad encoding stops the
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
        """Inspect the CSV inputs this pipeline reads; messages name the raw file actually read."""
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
    """Header of a local CSV catalog entry (None for other dataset types or remote paths); a
    compressed CSV file Spark reads is only checked to decompress to its end."""
    kind = str((entry or {}).get("type", ""))
    spark_csv = "SparkDataset" in kind and (entry or {}).get("file_format", "csv") == "csv"
    if not entry or not (kind.endswith("CSVDataset") or spark_csv):
        return None
    filepath = str(entry["filepath"])
    if "://" in filepath:
        return None
    path = Path(filepath) if Path(filepath).is_absolute() else Path(project_path) / filepath
    if spark_csv:
        if path.is_file():
            raw_file.require_intact(path)
        return None
    return raw_file.inspect_raw_file(path, entry.get("load_args") or {})


class RunGuardHook:
    """The tracking store checked before anything uses it; for a run: the environment's lock,
    MLflow runs of dead processes closed, and this run closed as KILLED on SIGTERM."""

    def __init__(self) -> None:
        self.lock: run_guard.RunLock | None = None
        self._context: Any = None
        self._sigterm: run_guard.SigtermWatch | None = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        """Find the environment's lock; check the tracking store before kedro-mlflow, whose
        own after_context_created reads (and may create) the experiment there."""
        self._context = context
        data_root = context.config_loader["globals"].get("data_root", "data")
        self.lock = run_guard.RunLock(Path(context.project_path) / data_root / LOCK_FILE)
        uri = _tracking_uri(context)
        if uri is not None:
            run_guard.check_tracking_store(uri)

    @hook_impl(wrapper=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any) -> Any:
        """Around every other hook: the lock is taken before kedro-mlflow opens the run, so a
        refused run leaves no trace in MLflow, and given back if a later hook fails (Kedro
        calls no on_pipeline_error for failures in before_pipeline_run)."""
        if self.lock is not None and not _is_scoring_only(pipeline):
            self.lock.acquire(
                {
                    "env": run_params.get("env") or "local",
                    "pipeline": ",".join(run_params.get("pipeline_names") or ["__default__"]),
                }
            )
        try:
            import mlflow  # noqa: PLC0415

            experiment = getattr(getattr(self._context, "mlflow", None), "tracking", None)
            experiment = getattr(getattr(experiment, "experiment", None), "name", None)
            found = mlflow.get_experiment_by_name(experiment) if experiment else None
            if found is not None:
                run_guard.close_dead_runs(found.experiment_id)
            self._sigterm = run_guard.SigtermWatch()
            self._sigterm.start()
            return (yield)
        except BaseException as error:
            self._finish(error)
            raise

    @hook_impl(wrapper=True)
    def after_pipeline_run(self) -> Any:
        """Release the lock once kedro-mlflow has closed the run (or SIGTERM stopped it)."""
        try:
            result = yield
        except BaseException as error:
            self._finish(error)
            raise
        self._finish()
        return result

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error: Exception) -> None:
        """Release the lock after a failure too; a SIGTERM's runs are KILLED, not FAILED."""
        self._finish(error)

    def _finish(self, error: BaseException | None = None) -> None:
        """Stop watching SIGTERM and release the lock; after a SIGTERM, close the MLflow runs as
        KILLED first and then pass the signal on (the process ends with status 143)."""
        terminated = self._sigterm.received if self._sigterm is not None else None
        if self._sigterm is not None:
            self._sigterm.stop()
            self._sigterm = None
        try:
            if terminated is not None and error is not None:  # not if the run finished anyway
                identity = run_guard.process_identity()
                reason = f"SIGTERM received by process {identity['pid']} on {identity['host']}"
                run_guard.close_killed_runs(terminated.run_id, reason)
        finally:
            if self.lock is not None:
                self.lock.release()
        if terminated is not None:
            terminated.pass_on()


def _tracking_uri(context: Any) -> str | None:
    """The tracking URI kedro-mlflow is about to use (mlflow.yml, else MLFLOW_TRACKING_URI);
    None when a run is already active, as kedro-mlflow then keeps the current store."""
    import mlflow  # noqa: PLC0415

    if mlflow.active_run() is not None:
        return None
    loader = context.config_loader
    loader.config_patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])
    try:
        conf = loader["mlflow"]
    except MissingConfigException:
        conf = {}
    server = (conf or {}).get("server") or {}
    return server.get("mlflow_tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI") or None


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
        import mlflow  # noqa: PLC0415

        from loan_default import tracking  # noqa: PLC0415

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
        from loan_default import tracking  # noqa: PLC0415

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
        from loan_default import tracking  # noqa: PLC0415

        if dataset_name == SPLIT_SUMMARY:
            tracking.set_tags(tracking.split_summary_tags(data))
        elif dataset_name == DUPLICATE_SUMMARY:
            tracking.set_tags(
                {
                    "duplicates.action": data["action"],
                    "duplicates.exact_rows": data["exact_duplicate_rows"],
                    "duplicates.exact_share": data.get("exact_share", ""),
                    "duplicates.dropped_rows": data["dropped_rows"],
                }
            )

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self, error: Exception) -> None:
        """Record what went wrong on the run, before kedro-mlflow closes it as FAILED."""
        from loan_default import tracking  # noqa: PLC0415

        tracking.set_tags({"error": f"{type(error).__name__}: {error}"[:5000]})


class SparkHook:
    """Starts the Spark session when the environment has a spark.yml (conf/spark/): settings
    from that file (driver and UI on the driver's bind address, 127.0.0.1 in conf/spark), Arrow
    transfers required, the UI address logged. Other environments never import Spark.

    Spark is the optional `spark` extra: without it the run stops first, before kedro-mlflow or
    any other hook touches anything, naming the command that installs it."""

    @hook_impl(wrapper=True)
    def after_context_created(self, context: Any) -> Any:
        """Around the other hooks: the extra checked before them (no pyspark import), the
        session created (or reused) after them and before the catalog creates any Spark
        dataset."""
        try:
            conf = context.config_loader["spark"]
        except MissingConfigException:
            conf = None
        if conf:
            # Imported here: environments without spark.yml never load pyspark.
            from loan_default.spark import require_pyspark  # noqa: PLC0415

            require_pyspark()
        result = yield
        if conf:
            from loan_default.spark.backend import register_spark_backend  # noqa: PLC0415
            from loan_default.spark.session import start_session  # noqa: PLC0415

            start_session(dict(conf), f"loan-default-{context.env or 'local'}")
            register_spark_backend()  # training.backend: spark (the grid's fits as Spark tasks)
        return result
