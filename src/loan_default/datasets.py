"""Project datasets: the I/O that kedro-datasets does not offer as-is."""

from __future__ import annotations

import io
from itertools import chain
from pathlib import Path
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import get_filepath_str
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_mlflow.io.metrics import MlflowMetricsHistoryDataset
from kedro_mlflow.io.models import MlflowModelRegistryDataset
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.utils.time import get_current_time_millis
from mlflow.utils.validation import MAX_METRICS_PER_BATCH
from PIL import Image

from loan_default import tracking
from loan_default.serving import ChampionHandle, LoanDefaultModel


class MlflowMetricsBatchDataset(MlflowMetricsHistoryDataset):
    """kedro-mlflow's metrics dataset (same entries, same loading), logging a save's metrics
    in batches: one store transaction for up to 1,000 metrics instead of one per metric."""

    def _save(self, data: dict[str, Any]) -> None:
        try:
            run_id = self.run_id
        except DatasetError:  # no run to log to: kedro-mlflow's own behaviour (opens one)
            run_id = None
        if run_id is None or not self._logging_activated:
            super()._save(data)
            return
        timestamp = get_current_time_millis()
        items = chain.from_iterable(
            self._build_args_list_from_metric_item(key, value) for key, value in data.items()
        )
        metrics = [Metric(key, float(value), timestamp, int(step)) for key, value, step in items]
        client = mlflow.MlflowClient()
        for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + MAX_METRICS_PER_BATCH])


class MatplotlibImageDataset(MatplotlibDataset):
    """Saves a matplotlib figure like MatplotlibDataset, and loads it back as the PNG image.

    One catalog entry per plot can then be previewed by kedro viz, logged to MLflow and embedded
    in the HTML report (MatplotlibDataset itself cannot be loaded).
    """

    def load(self) -> Image.Image:
        """The saved image, from any filesystem fsspec reaches (local, s3://, memory://, ...)."""
        path = get_filepath_str(self._get_load_path(), self._protocol)  # as the parent saves
        with self._fs.open(path, mode="rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
            image.load()
        return image


class RegisteredChampionDataset(MlflowModelRegistryDataset):
    """kedro-mlflow's MlflowModelRegistryDataset (load-only, `models:/<name>@<alias>`), loading
    the champion once per run and saying where it came from.

    `model_version` is an alias (`champion`), a version number, or `latest`: the newest version
    whose training run finished (for development; a failed or killed run's model is never
    picked, unlike kedro-mlflow's `latest`). With `missing_ok`, a registry without that model or
    alias loads as None.

    The registry is read once per run: the first load resolves the alias to a version and every
    later load of the same run returns that very model, so validation, scoring, reasons and drift
    use one version even while another run moves the alias. The load gives a ChampionHandle: the
    project's model with its registered name, version and training run.
    """

    def __init__(
        self, model_name: str, model_version: str = "champion", missing_ok: bool = False
    ) -> None:
        # Not `version`: Kedro reserves that key (and `_version`) for its dataset versioning.
        version = str(model_version)
        is_alias = not version.isdigit() and version != "latest"
        super().__init__(
            model_name,
            stage_or_version=None if is_alias else version,
            alias=version if is_alias else None,
        )
        self._model_version = version
        self._missing_ok = missing_ok
        self._resolved: tuple[ChampionHandle | None] | None = None

    # `_load` / `_save`, not `load` / `save`: Kedro aliases an inherited `_load` over a
    # subclass's own `load`.
    def _load(self) -> ChampionHandle | None:
        """The champion and where it came from (resolved at the first load of the run)."""
        if self._resolved is None:
            self._resolved = (self._resolve(),)
        return self._resolved[0]

    def _resolve(self) -> ChampionHandle | None:
        client = mlflow.MlflowClient()
        found = self._find(client)
        if found is None:
            if self._missing_ok:
                return None
            raise DatasetError(
                f"The MLflow registry at {mlflow.get_tracking_uri()} has no model "
                f"'{self.model_name}' at '{self._model_version}'. Train one first with "
                "`kedro run --pipelines loan` in the same Kedro environment (--env), or choose "
                "another with `--params scoring_model=<alias|version|latest>`."
            )
        uri = f"models:/{self.model_name}/{found.version}"
        model = self._mlflow_model_module.load_model(uri).unwrap_python_model()
        handle = ChampionHandle(model, uri, found.run_id, self.model_name, str(found.version))
        if not handle.self_contained and not self._missing_ok:
            raise DatasetError(
                f"{uri} was registered by an earlier release without its training profile; "
                "retrain with `kedro run --pipelines loan`: the new champion replaces it."
            )
        return handle

    def _find(self, client: mlflow.MlflowClient) -> Any:
        return _find_version(client, self.model_name, self._model_version)

    def _save(self, data: None) -> None:
        """The registry is written by the registration stage's `register_champion` node only."""
        raise DatasetError("RegisteredChampionDataset is read-only.")

    def _describe(self) -> dict[str, Any]:
        resolved = self._resolved[0] if self._resolved else None
        return {
            "model_name": self.model_name,
            "model_version": self._model_version,
            "resolved_version": resolved.version if resolved else None,
        }


def _find_version(client: mlflow.MlflowClient, name: str, model_version: str) -> Any:
    """The registered version an alias, a version number or `latest` names; None if none."""
    try:
        if model_version.isdigit():
            return client.get_model_version(name, model_version)
        if model_version == "latest":
            return _newest_finished_version(client, name)
        return client.get_model_version_by_alias(name, model_version)
    except MlflowException:
        return None


def _newest_finished_version(client: mlflow.MlflowClient, name: str) -> Any:
    versions = client.search_model_versions(f"name = '{name}'")
    for version in sorted(versions, key=lambda item: int(item.version), reverse=True):
        if client.get_run(version.run_id).info.status == "FINISHED":
            return version
    return None


class MlflowChampionDataset(AbstractDataset[LoanDefaultModel, ChampionHandle]):
    """Saves the self-contained champion as the MLflow model `champion` of the active run, and
    loads it back from the tracking store (so what is registered is what was checked)."""

    def __init__(self) -> None:
        self._logged: tuple[str, str] | None = None
        self._loaded: ChampionHandle | None = None

    def save(self, data: LoanDefaultModel) -> None:
        """Log the pyfunc model into the active run."""
        info = tracking.log_champion_model(data)
        self._logged, self._loaded = (info.model_uri, info.run_id), None

    def load(self) -> ChampionHandle:
        """The model as logged in this run (read back from the store once, then reused)."""
        if self._logged is None:
            raise DatasetError(
                "champion_package: nothing was logged by this run yet; run the registration "
                "stage from `package_champion` on."
            )
        if self._loaded is None:
            uri, run_id = self._logged
            model = mlflow.pyfunc.load_model(uri).unwrap_python_model()
            self._loaded = ChampionHandle(model, uri, run_id)
        return self._loaded

    def _describe(self) -> dict[str, Any]:
        return {"logged_model": self._logged[0] if self._logged else None}


class RegistryTargetDataset(AbstractDataset[None, dict[str, str]]):
    """Where a run registers its champion: the registered model's name and the champion's alias,
    from the environment's globals (their one home). Load-only; the `register_champion` node
    acts on it."""

    def __init__(self, model_name: str, alias: str = "champion") -> None:
        self._target = {"model_name": str(model_name), "alias": str(alias)}

    def load(self) -> dict[str, str]:
        """The registered model's name and alias."""
        return dict(self._target)

    def save(self, data: None) -> None:
        """Configuration, not data: set `registered_model` / `champion_alias` in globals.yml."""
        raise DatasetError("registry_target is read-only: see conf/<env>/globals.yml.")

    def _describe(self) -> dict[str, Any]:
        return dict(self._target)


class MlflowRunTagsDataset(AbstractDataset[dict[str, Any], dict[str, str]]):
    """Saves a node's `{name: value}` as tags of the active MLflow run (values as text); loads
    what this run saved. Without an active run (MLflow tracking disabled) nothing is written."""

    def __init__(self) -> None:
        self._tags: dict[str, str] = {}

    def save(self, data: dict[str, Any]) -> None:
        """Set the tags on the run kedro-mlflow opened."""
        self._tags = {str(key): str(value) for key, value in data.items()}
        tracking.set_tags(self._tags)

    def load(self) -> dict[str, str]:
        """The tags saved by this run."""
        return dict(self._tags)

    def _describe(self) -> dict[str, Any]:
        return {"tags": sorted(self._tags)}


class MlflowInputDataset(AbstractDataset[dict[str, Any], dict[str, Any]]):
    """Records the file a run read as the MLflow run's input dataset (`mlflow.log_input`):
    its name, source, digest (the start of the file's SHA-256), schema and row count, shown in
    the runs list's Dataset column; also as `raw_data.*` tags (file, full SHA-256, rows,
    columns). Saves a node's description of the table (`run_record.describe_raw_data`)."""

    DIGEST_CHARACTERS = 12

    def __init__(self, filepath: str, name: str = "raw_loans", context: str = "training") -> None:
        self._filepath = str(filepath)
        self._name, self._context = name, context
        self._record: dict[str, Any] | None = None

    def save(self, data: dict[str, Any]) -> None:
        """Hash the file, tag the run and log the input."""
        local = Path(self._filepath) if "://" not in self._filepath else None
        sha256 = tracking.file_sha256(local) if local and local.is_file() else None
        self._record = {**data, "source": self._filepath, "sha256": sha256}
        tags = {"raw_data.file": self._filepath, "raw_data.columns": len(data["columns"])}
        if data.get("rows") is not None:
            tags["raw_data.rows"] = data["rows"]
        if sha256 is not None:
            tags["raw_data.sha256"] = sha256
        tracking.set_tags(tags)
        if mlflow.active_run() is not None:
            mlflow.log_input(
                tracking.file_input(
                    self._name, self._filepath, (sha256 or "")[: self.DIGEST_CHARACTERS], data
                ),
                context=self._context,
            )

    def load(self) -> dict[str, Any]:
        """The description saved by this run, with the file's source and SHA-256."""
        if self._record is None:
            raise DatasetError(f"{self._name}: no input was recorded by this run yet.")
        return dict(self._record)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "name": self._name, "context": self._context}


class MlflowChildRunsDataset(AbstractDataset[list[dict[str, Any]], list[str]]):
    """Saves one nested MLflow run per compared configuration under the active run."""

    def __init__(self) -> None:
        self._run_ids: list[str] = []

    def save(self, data: list[dict[str, Any]]) -> None:
        """Create the child runs (name, tags, metrics, params per entry)."""
        self._run_ids = tracking.log_child_runs(data)

    def load(self) -> list[str]:
        """Run ids of the child runs created by this run."""
        return list(self._run_ids)

    def _describe(self) -> dict[str, Any]:
        return {"child_runs": len(self._run_ids)}


class RegisteredVersionDataset(AbstractDataset[None, dict[str, Any]]):
    """A registered model version's entry, read-only: its number, tags (the initial
    validation's `test_roc_auc`, ...) and source run's metrics. `model_version` as for
    RegisteredChampionDataset: an alias, a version number or `latest`."""

    def __init__(self, model_name: str, model_version: str = "champion") -> None:
        self._model_name, self._model_version = str(model_name), str(model_version)

    def load(self) -> dict[str, Any]:
        """The version's number, tags, source run id and that run's metrics."""
        found = _find_version(mlflow.MlflowClient(), self._model_name, self._model_version)
        if found is None:
            raise DatasetError(
                f"The MLflow registry at {mlflow.get_tracking_uri()} has no model "
                f"'{self._model_name}' at '{self._model_version}'. Train one first with "
                "`kedro run --pipelines loan` in the same Kedro environment (--env)."
            )
        return tracking.registered_version(self._model_name, str(found.version))

    def save(self, data: None) -> None:
        """The registry is written by the registration stage only."""
        raise DatasetError("RegisteredVersionDataset is read-only.")

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "model_version": self._model_version}


class MonitoringRunDataset(AbstractDataset[dict[str, Any], dict[str, str]]):
    """Saves a monitoring record as one finished MLflow run of the `experiment` (the
    environment's `monitoring_experiment`): name, tags, params, metrics and text artifacts.
    Loads the run's id and experiment."""

    def __init__(self, experiment: str, artifact_location: str | None = None) -> None:
        self._experiment, self._artifact_location = str(experiment), artifact_location
        self._logged: dict[str, str] | None = None

    def save(self, data: dict[str, Any]) -> None:
        """Create the run (see tracking.log_monitoring_run)."""
        self._logged = tracking.log_monitoring_run(self._experiment, self._artifact_location, data)

    def load(self) -> dict[str, str]:
        """The run this Kedro run logged."""
        if self._logged is None:
            raise DatasetError("monitoring_run: no monitoring run was logged by this run yet.")
        return dict(self._logged)

    def _describe(self) -> dict[str, Any]:
        return {"experiment": self._experiment, "run": self._logged}
