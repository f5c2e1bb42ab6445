"""Notebooks are executed against a real run, so they never rot."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.browser import free_port, start_server, stop_server, wait_for_http
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


def test_kedro_jupyter_lab_starts_with_the_project_kernel(tmp_path: Path):
    """`make notebook` runs `kedro jupyter lab`: JupyterLab comes with the dev extra."""
    port = free_port()
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "JUPYTER_DATA_DIR": str(tmp_path)}
    kedro = str(Path(sys.executable).with_name("kedro"))
    command = [kedro, "jupyter", "lab", "--ip", "127.0.0.1", "--port", str(port), "--no-browser"]
    server = start_server(
        [*command, "--allow-root"], tmp_path / "lab.log", cwd=PROJECT_ROOT, env=env
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api", server, timeout=180)
        kernel = json.loads(
            (tmp_path / "kernels" / "kedro_loan_default" / "kernel.json").read_text()
        )
        assert kernel["argv"][0] == sys.executable
        assert "kedro.ipython" in kernel["argv"]
    finally:
        stop_server(server)
