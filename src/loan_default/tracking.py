"""Everything this project records in MLflow beyond what kedro-mlflow logs by itself."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from functools import cache
from importlib.metadata import packages_distributions, version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.data.dataset_source_registry import get_registered_sources, resolve_dataset_source
from mlflow.data.meta_dataset import MetaDataset
from mlflow.models import ModelSignature
from mlflow.types import DataType
from mlflow.types.schema import Array, ColSpec, ParamSchema, ParamSpec, Schema

from loan_default.modelling.registry import model_libraries
from loan_default.serving import LoanDefaultModel

CHAMPION_MODEL_NAME = "champion"  # name of the logged model inside each training run


def git_tags(project_path: Path) -> dict[str, str]:
    """The commit the run was made from and whether the working tree had changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=project_path, capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"git.commit": "unknown (not a git checkout)"}
    status = git("status", "--porcelain", "--untracked-files=no") or ""
    return {"git.commit": commit, "git.dirty": str(bool(status)).lower()}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _FileInput(MetaDataset):
    """A file described by its metadata: name, source, digest, schema and row count."""

    def __init__(self, source: Any, name: str, digest: str, schema: Schema, rows: int | None):
        self._rows = rows
        super().__init__(source, name=name, digest=digest or None, schema=schema)

    @property
    def profile(self) -> dict[str, int] | None:
        """Rows and columns, shown with the dataset in the MLflow UI."""
        columns = len(self.schema.inputs) if self.schema else 0
        return {"num_rows": self._rows, "num_columns": columns} if self._rows else None

    def to_dict(self) -> dict[str, str]:
        """MetaDataset's fields and the profile."""
        config = super().to_dict()
        if self.profile:
            config["profile"] = json.dumps(self.profile)
        return config


# pandas dtype or Spark type -> MLflow column type; anything else (text, mixed) is a string.
_MLFLOW_TYPES = {"int64": "long", "int32": "integer", "float64": "double", "float32": "float"}
_MLFLOW_TYPES |= {"bool": "boolean", "boolean": "boolean", "Int64": "long", "Float64": "double"}
_MLFLOW_TYPES |= {"bigint": "long", "int": "integer", "double": "double", "float": "float"}


def file_input(name: str, filepath: str, digest: str, description: dict[str, Any]) -> MetaDataset:
    """The MLflow input dataset of a file the run read (`mlflow.log_input`)."""
    schema = Schema(
        [
            ColSpec(_MLFLOW_TYPES.get(kind, "string"), column)
            for column, kind in description["columns"].items()
        ]
    )
    uri = str(Path(filepath).resolve()) if "://" not in filepath else filepath
    # MLflow registers its local-file source for two schemes ("" and "file"): one candidate
    # of each source type, or it warns that the path "can be interpreted in multiple ways".
    candidates = {source._get_source_type(): source for source in get_registered_sources()}
    source = resolve_dataset_source(uri, candidate_sources=list(candidates.values()))
    return _FileInput(source, name, digest, schema, description.get("rows"))


def metric_name(name: str) -> str:
    """`name` with the characters MLflow refuses in metric names (e.g. `%`, `<`) replaced by `_`."""
    return re.sub(r"[^\w.\- :/]", "_", name)


def set_tags(tags: dict[str, Any]) -> None:
    """Set tags on the active run, if there is one."""
    if mlflow.active_run() is not None and tags:
        mlflow.set_tags(tags)


def log_child_runs(configurations: list[dict[str, Any]]) -> list[str]:
    """One nested run per compared configuration (model x strategy, and each baseline).

    Uses the client, not the fluent API, so the parent's active-run stack is left alone.
    """
    parent = _require_active_run("child runs")
    client = mlflow.MlflowClient()
    run_ids = []
    for configuration in configurations:
        tags = {"mlflow.parentRunId": parent.info.run_id, **configuration["tags"]}
        run = client.create_run(
            parent.info.experiment_id, run_name=configuration["name"], tags=tags
        )
        metrics = [
            mlflow.entities.Metric(key, float(value), int(time.time() * 1000), 0)
            for key, value in configuration["metrics"].items()
        ]
        logged_params = [
            mlflow.entities.Param(key, str(value)[:6000])
            for key, value in _flatten(configuration["params"]).items()
        ]
        client.log_batch(run.info.run_id, metrics=metrics, params=logged_params)
        client.set_terminated(run.info.run_id, "FINISHED")
        run_ids.append(run.info.run_id)
    return run_ids


def child_run_specs(comparison: pd.DataFrame, params: dict[str, dict]) -> list[dict[str, Any]]:
    """Name, tags, finite metrics and parameters of each compared configuration's child run."""
    specs = []
    for row in comparison.to_dict(orient="records"):
        name = str(row["configuration"])
        specs.append(
            {
                "name": name,
                "tags": {key: str(row.get(key, "")) for key in ("kind", "model", "strategy")}
                | {"mlflow.note.content": _child_headline(name, row)},
                "metrics": {
                    key: float(value)
                    for key, value in row.items()
                    if isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and np.isfinite(value)
                },
                "params": params.get(name, {}),
            }
        )
    return specs


def _child_headline(name: str, row: dict[str, Any]) -> str:
    """A compared configuration's figures in one line: its run's description."""

    def figure(key: str) -> str:
        value = row.get(key)
        finite = isinstance(value, int | float) and np.isfinite(value)
        return f"{float(value):.4f}" if finite else "n/a"

    parts = [
        f"{label}: CV {figure(f'cv_{metric}_mean')} ± {figure(f'cv_{metric}_std')}, "
        f"test {figure(f'test_{metric}')}"
        for metric, label in (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC"))
    ]
    rank = row.get("rank")
    ranked = f" (rank {int(rank)})" if isinstance(rank, int | float) and np.isfinite(rank) else ""
    return f"{name}{ranked}: " + "; ".join(parts)


def _require_active_run(what: str) -> mlflow.ActiveRun:
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError(
            f"{what}: no active MLflow run. `kedro run` opens one through kedro-mlflow; check "
            "that the kedro_mlflow hooks are enabled and conf/base/mlflow.yml is present."
        )
    return run


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def champion_signature(input_types: dict[str, str], example: pd.DataFrame) -> ModelSignature:
    """Every input column typed as the training file holds it: `double` for a column read as
    numbers, `string` for text as written ("10.65%", "36 months", "10+ years", "Dec-2011", a
    category). Free-text columns are optional: a batch without one is scored as if its text were
    empty. Outputs per row; the `reasons` param (default true) can skip the reasons."""
    inputs = []
    for column, kind in input_types.items():
        values = example[column] if column in example else pd.Series(dtype=object)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        typed = "double" if kind != "text" and (numeric or kind == "numeric") else "string"
        inputs.append(ColSpec(typed, column, required=kind != "text"))
    return ModelSignature(
        inputs=Schema(inputs),
        outputs=Schema(
            [
                ColSpec("double", "probability_of_default", required=False),
                ColSpec("long", "rating_grade", required=False),
                ColSpec("string", "decision", required=False),
                ColSpec("double", "threshold", required=False),
                ColSpec(Array("string"), "reasons", required=False),
                ColSpec("double", "reason_coverage", required=False),
                ColSpec("string", "review_reason"),
                ColSpec("string", "error"),
                ColSpec("string", "warning"),
            ]
        ),
        params=ParamSchema([ParamSpec("reasons", "boolean", True)]),
    )


def log_champion_model(package: LoanDefaultModel) -> mlflow.models.model.ModelInfo:
    """Log the self-contained champion as the pyfunc model `champion` of the active run."""
    _require_active_run("champion model")
    example = package.input_example.reset_index(drop=True)
    if not package.input_types:
        raise ValueError(
            "champion model: no input column reaches the model, so it has no signature; check "
            "dataset.leakage_columns / identifier_columns / excluded_columns."
        )
    signature = champion_signature(package.input_types, example)
    # The example as the signature types it (a column of whole numbers read as int64 is double).
    doubles = [spec.name for spec in signature.inputs.inputs if spec.type == DataType.double]
    example = example.astype({column: "float64" for column in doubles if column in example})
    return mlflow.pyfunc.log_model(
        name=CHAMPION_MODEL_NAME,
        python_model=package,
        signature=signature,
        input_example=example,
        code_paths=[str(Path(__file__).parent)],
        pip_requirements=pip_requirements(),
    )


# What the champion's own code (code_paths) imports whatever the model: import names.
SERVING_LIBRARIES = (
    "mlflow",
    "pandas",
    "numpy",
    "sklearn",
    "imblearn",
    "optbinning",
    "cloudpickle",
    "kedro",
)


def pip_requirements() -> list[str]:
    """`distribution==installed version` for the serving code's libraries and every registered
    model's (loading the champion's code imports the whole model registry)."""
    modules = list(SERVING_LIBRARIES)
    modules += sorted(set(model_libraries()) - set(modules))
    return [f"{name}=={version(name)}" for name in dict.fromkeys(map(distribution, modules))]


# Top-level module -> the installed distributions providing it (a scan of every distribution).
_installed = cache(packages_distributions)


def distribution(module: str) -> str:
    """The installed distribution that provides a top-level module (e.g. sklearn: scikit-learn,
    xgboost: xgboost-cpu where that is installed)."""
    names = _installed().get(module)
    if not names:
        raise RuntimeError(f"No installed distribution provides the module '{module}'.")
    # One module, several distributions (mlflow: mlflow, mlflow-skinny, ...): the namesake.
    return module if module in names else names[0]


def register_champion(request: dict[str, Any], name: str, alias: str) -> dict[str, str]:
    """Register the run's champion as a new version of `name` (its tags and description from
    `request`) and move `alias` to it if the decision says so.

    All or nothing: if tagging or the alias move fails, the new version is deleted and the alias
    is put back, so a failed run never leaves a registered or promoted model behind.
    """
    client = mlflow.MlflowClient()
    previous = alias_holder(client, name, alias)
    version = mlflow.register_model(request["model_uri"], name, tags=request["version_tags"])
    try:
        if request.get("description"):
            client.update_model_version(name, version.version, request["description"])
        if request["promote"]:
            client.set_registered_model_alias(name, alias, version.version)
        outcome = {
            "model_name": name,
            "registered_version": str(version.version),
            "alias": alias,
            "promoted": str(bool(request["promote"])).lower(),
            "previous_version": previous_version(previous),
            "champion_version": str(
                version.version if request["promote"] else previous_version(previous)
            ),
        }
        set_tags({f"registry.{key}": value for key, value in outcome.items()})
    except Exception:
        client.delete_model_version(name, str(version.version))
        if previous is not None:
            client.set_registered_model_alias(name, alias, previous.version)
        raise
    return outcome


def previous_version(holder: Any) -> str:
    """Version number of an alias holder, or `none`."""
    return str(holder.version) if holder is not None else "none"


def alias_holder(client: mlflow.MlflowClient, name: str, alias: str) -> Any:
    """The model version holding `alias`, or None (no such model or alias yet)."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        return None


def configuration_params(comparison: pd.DataFrame, training: dict[str, Any]) -> dict[str, dict]:
    """Model hyperparameters, strategy settings and threshold of each compared configuration."""
    params = {}
    for row in comparison.to_dict(orient="records"):
        model, strategy = row.get("model"), row.get("strategy")
        params[row["configuration"]] = {
            "model": model,
            "strategy": strategy,
            "threshold": row.get("threshold"),
            "threshold_rule": row.get("threshold_rule"),
            "model_params": training["models"][model]["params"]
            if model in training["models"]
            else {},
            "strategy_params": (
                training["strategies"][strategy]["params"]
                if strategy in training["strategies"]
                else {}
            ),
        }
    return params


def log_monitoring_run(
    experiment: str, artifact_location: str | None, record: dict[str, Any]
) -> dict[str, str]:
    """One finished run in the monitoring `experiment` (created if need be): the record's name,
    tags, params, metrics and text artifacts ({path: text}). All or nothing: a run whose logging
    fails is deleted, so the history shows complete monitoring runs only."""
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        experiment_id = client.create_experiment(experiment, artifact_location=artifact_location)
    else:
        experiment_id = found.experiment_id
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(experiment_id)
    run = client.create_run(experiment_id, run_name=record["name"], tags=record["tags"])
    run_id = run.info.run_id
    try:
        now = int(time.time() * 1000)
        metrics = [
            mlflow.entities.Metric(key, float(value), now, 0)
            for key, value in record["metrics"].items()
        ]
        params = [
            mlflow.entities.Param(key, str(value)[:6000]) for key, value in record["params"].items()
        ]
        for start in range(0, max(len(metrics), len(params)), 100):
            client.log_batch(
                run_id, metrics=metrics[start : start + 100], params=params[start : start + 100]
            )
        for path, text in record["artifacts"].items():
            client.log_text(run_id, text, path)
        client.set_terminated(run_id, "FINISHED")
    except Exception:
        client.delete_run(run_id)
        raise
    return {"run_id": run_id, "experiment_id": str(experiment_id), "experiment": experiment}


def tag_model_version(name: str, version: str, tags: dict[str, Any]) -> dict[str, str]:
    """Set `tags` on a registered model version (values as text); returns what was set."""
    client = mlflow.MlflowClient()
    text = {str(key): str(value) for key, value in tags.items()}
    for key, value in text.items():
        client.set_model_version_tag(name, version, key, value)
    return text


def registered_version(name: str, version: str) -> dict[str, Any]:
    """A registered model version's number, tags and source run (id and metrics)."""
    client = mlflow.MlflowClient()
    found = client.get_model_version(name, version)
    try:
        metrics = dict(client.get_run(found.run_id).data.metrics) if found.run_id else {}
    except mlflow.exceptions.MlflowException:
        metrics = {}
    return {
        "model_name": name,
        "version": str(found.version),
        "run_id": found.run_id,
        "tags": dict(found.tags),
        "run_metrics": metrics,
    }
