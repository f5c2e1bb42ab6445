"""Everything this project records in MLflow beyond what kedro-mlflow logs by itself."""

from __future__ import annotations

import hashlib
import subprocess
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, ColSpec, Schema

from loan_default.schema import application_columns
from loan_default.serving import LoanDefaultModel


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


def raw_data_tags(path: Path | None, data: pd.DataFrame) -> dict[str, str]:
    """Which raw file the run read, its hash and its size."""
    tags = {"raw_data.rows": str(len(data)), "raw_data.columns": str(data.shape[1])}
    if path is not None and path.is_file():
        tags |= {"raw_data.file": str(path), "raw_data.sha256": file_sha256(path)}
    return tags


def split_summary_tags(summary: pd.DataFrame) -> dict[str, str]:
    """One tag per split and summary column, e.g. split.train.loans."""
    tags = {}
    for row in summary.to_dict(orient="records"):
        name = row.pop("split")
        tags |= {f"split.{name}.{key}": str(value) for key, value in row.items()}
    return tags


def set_tags(tags: dict[str, Any]) -> None:
    """Set tags on the active run, if there is one."""
    if mlflow.active_run() is not None and tags:
        mlflow.set_tags(tags)


def log_child_runs(
    comparison: pd.DataFrame, experiment_id: str, parent_run_id: str, params: dict[str, dict]
) -> list[str]:
    """One nested run per compared configuration (model x strategy, and each baseline).

    Uses the client, not the fluent API, so the parent's active-run stack is left alone.
    """
    client = mlflow.MlflowClient()
    run_ids = []
    for row in comparison.to_dict(orient="records"):
        name = str(row["configuration"])
        tags = {
            "mlflow.parentRunId": parent_run_id,
            "kind": str(row.get("kind", "")),
            "model": str(row.get("model", "")),
            "strategy": str(row.get("strategy", "")),
        }
        run = client.create_run(experiment_id, run_name=name, tags=tags)
        metrics = [
            mlflow.entities.Metric(key, float(value), int(time.time() * 1000), 0)
            for key, value in row.items()
            if isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
        ]
        logged_params = [
            mlflow.entities.Param(key, str(value)[:6000])
            for key, value in _flatten(params.get(name, {})).items()
        ]
        client.log_batch(run.info.run_id, metrics=metrics, params=logged_params)
        client.set_terminated(run.info.run_id, "FINISHED")
        run_ids.append(run.info.run_id)
    return run_ids


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def log_champion_model(
    champion: Any, dataset: dict[str, Any], raw_example: pd.DataFrame
) -> mlflow.models.model.ModelInfo:
    """Log the champion as a pyfunc model that takes raw application columns."""
    model = LoanDefaultModel(champion, dataset)
    example = raw_example[application_columns(dataset)].reset_index(drop=True)
    # Values are typed by the project's own parsers, which accept both raw formats ("11.22%"
    # or 0.1122, "36 months" or 36); MLflow checks only that every column is present.
    signature = ModelSignature(
        inputs=Schema([ColSpec(AnyType(), column) for column in example.columns]),
        outputs=Schema([ColSpec("double", "probability_of_default")]),
    )
    return mlflow.pyfunc.log_model(
        name="champion",
        python_model=model,
        signature=signature,
        input_example=example,
        code_paths=[str(Path(__file__).parent)],
        pip_requirements=_pip_requirements(),
    )


def _pip_requirements() -> list[str]:
    packages = ["mlflow", "pandas", "numpy", "scikit-learn", "imbalanced-learn", "xgboost-cpu"]
    packages += ["optbinning", "cloudpickle", "kedro"]
    return [f"{name}=={version(name)}" for name in packages]


def register_champion(
    model_uri: str, score: float, registry: dict[str, Any], run_id: str
) -> dict[str, Any]:
    """Register a new version; move the alias only if it beats the current holder (or forced)."""
    client = mlflow.MlflowClient()
    name, alias, metric = registry["model_name"], registry["alias"], registry["metric"]
    version = mlflow.register_model(model_uri, name, tags={metric: str(score), "run_id": run_id})
    current = _alias_holder(client, name, alias)
    current_score = float(current.tags.get(metric, "nan")) if current else float("nan")
    better = registry.get("greater_is_better", True)
    beats = (
        current is None
        or not np.isfinite(current_score)
        or (score > current_score if better else score < current_score)
    )
    promoted = bool(beats or registry.get("force", False))
    if promoted:
        client.set_registered_model_alias(name, alias, version.version)
    decision = {
        "registered_version": str(version.version),
        "promoted": str(promoted).lower(),
        "previous_champion_version": current.version if current else "none",
        f"previous_champion_{metric}": str(current_score),
    }
    mlflow.set_tags({f"registry.{key}": value for key, value in decision.items()})
    return decision


def _alias_holder(client: mlflow.MlflowClient, name: str, alias: str) -> Any:
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
            "model_params": (training["models"].get(model) or {}).get("params", {}),
            "strategy_params": (training["strategies"].get(strategy) or {}).get("params", {}),
        }
    return params
