"""Project hooks: the tracking store and inputs checked before a run, one run at a time per
environment (a SIGTERM closes the run as KILLED), and what each MLflow run ran on."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from loan_default import config_checks, raw_file, run_guard
from loan_default.config.engines import select_engine

logger = logging.getLogger(__name__)

# MLflow and loan_default.tracking (which loads the serving model, scikit-learn and XGBoost) are
# imported inside the hooks that use them, so that `kedro --help` does not load them.

RAW_DATASET = "raw_loans"
RUN_SUMMARY, REGISTRATION, REPORT = "run_summary", "champion_registration", "loan_report"
APPLICATIONS = "applications"
LOCK_FILE = ".run.lock"
# `monitor`'s tables and the globals key that points at each.
MONITOR_INPUTS = {"scoring_log": "scoring_log_file", "loan_outcomes": "outcomes_file"}


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
                config_checks.check_header(header, dataset, dataset.source_file)
        if APPLICATIONS in inputs:
            _inspect_csv(entries.get(APPLICATIONS), self._context.project_path)
        for name, key in MONITOR_INPUTS.items():
            if name in inputs:
                _require_monitor_input(entries.get(name), self._context.project_path, key)


def _require_monitor_input(entry: dict[str, Any] | None, project_path: Any, key: str) -> None:
    """A local table `monitor` reads exists, else say where it comes from."""
    filepath = str((entry or {}).get("filepath", ""))
    if not filepath or "://" in filepath:
        return
    path = Path(filepath) if Path(filepath).is_absolute() else Path(project_path) / filepath
    if not path.is_file():
        raise FileNotFoundError(
            f"{filepath}: no such file. The bundled scoring log and outcomes are written by "
            "`kedro run --pipeline loan` (in the same --env); for your own tables set "
            f"`{key}` in conf/<env>/globals.yml or pass `--params {key}=PATH` "
            "(docs/monitoring.md)."
        )


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


class MlflowTrackingHook:
    """kedro-mlflow's hook, registered by the project instead of by the plugin (settings.py
    disables the plugin's own): `loan_default.mlflow_hook.ProjectMlflowHook`, which logs the
    run's parameters once instead of at every node, created at the first hook call so that
    importing the settings loads no MLflow."""

    def __init__(self) -> None:
        self._hook: Any = None

    @property
    def hook(self) -> Any:
        """The kedro-mlflow hook every call is passed to."""
        if self._hook is None:
            from loan_default.mlflow_hook import ProjectMlflowHook  # noqa: PLC0415

            self._hook = ProjectMlflowHook()
        return self._hook

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Read mlflow.yml and set up the tracking store and experiment."""
        self.hook.after_context_created(context)

    @hook_impl
    def after_catalog_created(  # noqa: PLR0913 - Kedro's hook signature
        self,
        catalog: Any,
        conf_catalog: dict[str, Any],
        conf_creds: dict[str, Any],
        parameters: dict[str, Any],
        save_version: str,
        load_versions: dict[str, str],
    ) -> None:
        """Name the metric datasets after their catalog entries."""
        self.hook.after_catalog_created(
            catalog, conf_catalog, conf_creds, parameters, save_version, load_versions
        )

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """Open the MLflow run and log the pipeline's parameters once."""
        self.hook.before_pipeline_run(run_params, pipeline, catalog)

    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool
    ) -> None:
        """Keep the node's thread on the pipeline's run."""
        self.hook.before_node_run(node, catalog, inputs, is_async)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """Close the run."""
        self.hook.after_pipeline_run(run_params, pipeline, catalog)

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        """Close the run as FAILED."""
        self.hook.on_pipeline_error(error, run_params, pipeline, catalog)


class RunMetadataHook:
    """Tag the pipeline's MLflow run with what runs it (process, pipeline, environment, git
    commit) when it opens, and with the error of a failed run. What the run read and decided
    (raw data, split, duplicates, the scoring model, registration) are node outputs written by
    the catalog's MLflow datasets (conf/base/catalog_tracking.yml)."""

    def __init__(self, guard: RunGuardHook | None = None) -> None:
        self._guard = guard
        self._project_path: Path | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Remember where the project is (its git commit)."""
        self._project_path = Path(context.project_path)

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

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self, error: Exception) -> None:
        """Record what went wrong on the run, before kedro-mlflow closes it as FAILED."""
        from loan_default import tracking  # noqa: PLC0415

        tracking.set_tags({"error": f"{type(error).__name__}: {error}"[:5000]})


class RunSummaryHook:
    """The last lines of a successful training run: the champion and its figures, the
    promotion decision and what the registry now holds, where the report is, and how to open
    the run in the MLflow UI. Reads the run's own outputs (`run_summary`, made by a node;
    `champion_registration`); prints nothing for a pipeline without them."""

    def __init__(self) -> None:
        self._run: tuple[str, str] | None = None  # experiment id, run id

    @hook_impl(trylast=True)
    def before_pipeline_run(self) -> None:
        """Remember the MLflow run kedro-mlflow has just opened."""
        import mlflow  # noqa: PLC0415

        active = mlflow.active_run()
        self._run = (active.info.experiment_id, active.info.run_id) if active else None

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        """Print the summary (before kedro-mlflow closes the run)."""
        outputs = pipeline.all_outputs()
        if RUN_SUMMARY not in outputs:
            return
        lines = list(catalog.load(RUN_SUMMARY)["lines"])
        if REGISTRATION in outputs:
            done = catalog.load(REGISTRATION)
            lines.append(
                f"Registry: {done['model_name']} v{done['registered_version']} registered; "
                f"@{done['alias']} "
                + (
                    f"moved to v{done['registered_version']} ({_before(done)})"
                    if done["promoted"] == "true"
                    else f"kept on v{done['champion_version']}"
                )
            )
        report = getattr(catalog.get(REPORT), "_filepath", None) if REPORT in outputs else None
        if report is not None:
            lines.append(f"Report: {report}")
        lines.append(f"MLflow: {_ui_hint(self._run)}")
        logger.info("Run summary\n  %s", "\n  ".join(lines))


def _before(outcome: dict[str, str]) -> str:
    previous = outcome.get("previous_version", "none")
    return "the first champion" if previous == "none" else f"was v{previous}"


def _ui_hint(run: tuple[str, str] | None) -> str:
    """How to open this run in the MLflow UI."""
    import mlflow  # noqa: PLC0415

    uri = mlflow.get_tracking_uri()
    page = f"#/experiments/{run[0]}/runs/{run[1]}" if run else ""
    if uri.startswith(("http://", "https://")):
        return f"{uri.rstrip('/')}/{page}"
    return f"`make mlflow-ui` (serves {uri}), then http://127.0.0.1:5000/{page}"


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
        # The engine of the data stages (config/engines.py), chosen before any other hook reads
        # the pipelines (parameter validation does); pipelines built for the other engine by an
        # earlier session in this process are built again.
        # (Imported here: importing kedro.framework.project configures Kedro's logging, which a
        # script that only uses these hooks, such as the run guard's worker, must not get.)
        from kedro.framework import project as kedro_project  # noqa: PLC0415

        if select_engine("spark" if conf else "pandas") and kedro_project.PACKAGE_NAME:
            kedro_project.pipelines.configure(f"{kedro_project.PACKAGE_NAME}.pipeline_registry")
        result = yield
        if conf:
            from loan_default.spark.backend import register_spark_backend  # noqa: PLC0415
            from loan_default.spark.session import start_session  # noqa: PLC0415

            start_session(dict(conf), f"loan-default-{context.env or 'local'}")
            register_spark_backend()  # training.backend: spark (the grid's fits as Spark tasks)
        return result
