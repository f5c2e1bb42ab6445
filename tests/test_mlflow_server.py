"""End to end as a user does it: an `mlflow server`, a run against it, the REST API and the UI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.browser import (
    free_port,
    post_json,
    render_page,
    start_server,
    stop_server,
    wait_for_http,
)
from tests.conftest import TINY_CONF, make_kedro_project

pytestmark = pytest.mark.slow


@pytest.fixture
def mlflow_server(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    server = start_server(
        [
            str(Path(sys.executable).with_name("mlflow")), "server",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
            "--default-artifact-root", str(tmp_path / "server_artifacts"),
        ],
        tmp_path / "mlflow_server.log",
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/health", server, timeout=120)
        yield url
    finally:
        stop_server(server)
        server.wait(timeout=30)


def test_pipeline_runs_against_a_tracking_server(
    mlflow_server: str, tmp_path: Path, tiny_loans: pd.DataFrame
):
    """The tiny configuration: what is checked is the store, not the models."""
    project = make_kedro_project(tmp_path / "project", tiny_loans, TINY_CONF)
    kedro = str(Path(sys.executable).with_name("kedro"))
    done = subprocess.run(
        [kedro, "run", "--pipeline", "loan"],
        cwd=project,
        env={**os.environ, "MLFLOW_TRACKING_URI": mlflow_server, "KEDRO_DISABLE_TELEMETRY": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (project / "mlflow.db").exists(), "the server, not a local store, got the run"

    experiments = post_json(
        f"{mlflow_server}/api/2.0/mlflow/experiments/search", {"max_results": 50}
    )
    experiment = next(e for e in experiments["experiments"] if e["name"] == "loan-default")
    runs = post_json(
        f"{mlflow_server}/api/2.0/mlflow/runs/search",
        {"experiment_ids": [experiment["experiment_id"]], "max_results": 100},
    )["runs"]
    names = {run["info"]["run_name"] for run in runs}
    assert {"loan", "logistic_regression/class_weight", "baseline/lendingclub_grade"} <= names

    page = f"{mlflow_server}/#/experiments/{experiment['experiment_id']}/runs"
    text = render_page(page, ["loan"], "mlflow_runs_page")
    assert "loan" in text
