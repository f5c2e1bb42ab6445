"""Project datasets: the I/O that kedro-datasets does not offer as-is."""

from __future__ import annotations

import io
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import get_filepath_str
from kedro_datasets.matplotlib import MatplotlibDataset
from mlflow.exceptions import MlflowException
from PIL import Image

from loan_default import tracking
from loan_default.serving import ChampionHandle, LoanDefaultModel


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


class RegisteredChampionDataset(AbstractDataset[None, ChampionHandle | None]):
    """Loads a registered champion from the MLflow Model Registry (load-only).

    `model_version` is an alias (`champion`), a version number, or `latest`: the newest version whose
    training run finished (for development; a failed or killed run's model is never picked).
    With `missing_ok`, a registry without that model or alias loads as None.

    The registry is read once per run: the first load resolves the alias to a version and every
    later load of the same run returns that very model, so validation, scoring, reasons and drift
    use one version even while another run moves the alias.
    """

    def __init__(
        self, model_name: str, model_version: str = "champion", missing_ok: bool = False
    ) -> None:
        # Not `version`: Kedro reserves that key for its own dataset versioning.
        self._model_name = model_name
        self._version = str(model_version)
        self._missing_ok = missing_ok
        self._resolved: tuple[ChampionHandle | None] | None = None

    def load(self) -> ChampionHandle | None:
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
                f"'{self._model_name}' at '{self._version}'. Train one first with "
                "`kedro run --pipeline loan` in the same Kedro environment (--env), or choose "
                "another with `--params scoring_model=<alias|version|latest>`."
            )
        uri = f"models:/{self._model_name}/{found.version}"
        model = mlflow.pyfunc.load_model(uri).unwrap_python_model()
        handle = ChampionHandle(model, uri, found.run_id, self._model_name, str(found.version))
        if not handle.self_contained and not self._missing_ok:
            raise DatasetError(
                f"{uri} was registered by an earlier release without its training profile; "
                "retrain with `kedro run --pipeline loan`: the new champion replaces it."
            )
        return handle

    def _find(self, client: mlflow.MlflowClient) -> Any:
        try:
            if self._version.isdigit():
                return client.get_model_version(self._model_name, self._version)
            if self._version == "latest":
                return _newest_finished_version(client, self._model_name)
            return client.get_model_version_by_alias(self._model_name, self._version)
        except MlflowException:
            return None

    def save(self, data: None) -> None:
        """The registry is written by the registration stage only."""
        raise DatasetError("RegisteredChampionDataset is read-only.")

    def _describe(self) -> dict[str, Any]:
        resolved = self._resolved[0] if self._resolved else None
        return {
            "model_name": self._model_name,
            "model_version": self._version,
            "resolved_version": resolved.version if resolved else None,
        }


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


class ModelRegistrationDataset(AbstractDataset[dict[str, Any], dict[str, str]]):
    """Saving a registration request registers a new version of `model_name` and applies the
    `alias` decision, all or nothing (see `tracking.register_champion`); loading gives what was
    done. Name and alias come from the environment's globals, the one home of both."""

    def __init__(self, model_name: str, alias: str = "champion") -> None:
        self._model_name = model_name
        self._alias = alias
        self._outcome: dict[str, str] | None = None

    def save(self, data: dict[str, Any]) -> None:
        """Register, tag and (maybe) promote."""
        self._outcome = tracking.register_champion(data, self._model_name, self._alias)

    def load(self) -> dict[str, str]:
        """Registered version, alias and whether it moved."""
        if self._outcome is None:
            raise DatasetError("champion_registration: nothing was registered by this run yet.")
        return self._outcome

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "alias": self._alias, "outcome": self._outcome}


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
