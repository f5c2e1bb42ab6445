"""Notebooks are executed against a real run, so they never rot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def test_there_is_an_exploration_notebook():
    assert NOTEBOOKS


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_on_the_last_run(source: Path, trained_project, monkeypatch):
    notebook = nbformat.read(source, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit notebooks without outputs"
    )
    project, uri = trained_project
    workdir = project / "notebooks"
    workdir.mkdir(exist_ok=True)
    shutil.copy(source, workdir / source.name)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={
        "metadata": {"path": str(workdir)}
    })  # fmt: skip
    client.execute(env=dict(os.environ))
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4, "plots and catalog images are displayed"
