"""Everything this project records in MLflow beyond what kedro-mlflow logs by itself."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd


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
