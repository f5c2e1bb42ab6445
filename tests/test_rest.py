"""The registered champion served over REST by `mlflow models serve`: a real HTTP server.

Uses the tiny configuration's trained store; a batch without text columns, an absurd income and
lower-case grades are all answered, with the decision the score pipeline would make.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.browser import free_port, start_server, stop_server, wait_for_http

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _post(port: int, batch: pd.DataFrame) -> list[dict]:
    split = json.loads(batch.to_json(orient="split", index=False))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        json.dumps({"dataframe_split": split}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


def test_rest_scores_plausible_batches_with_decisions(tiny_project, tmp_path):
    project, uri = tiny_project
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PATH": f"{BIN}:{os.environ['PATH']}"}
    server = start_server(
        [str(BIN / "mlflow"), "models", "serve", "-m", "models:/loan-default@champion",
         "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
        tmp_path / "serve.log", cwd=project, env=env,
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/ping", server, timeout=120)
        batch = pd.read_csv(project / "data" / "01_raw" / "sample_applications.csv").head(8)
        no_text = _post(port, batch.drop(columns=["desc", "title", "emp_title"]))
        assert len(no_text) == 8 and all(row["error"] == "" for row in no_text)
        assert {row["decision"] for row in no_text} <= {"approve", "reject", "refer"}
        odd = batch.assign(grade=batch["grade"].str.lower())
        odd.loc[0, "annual_inc"] = 1e15
        answered = _post(port, odd)
        assert answered[0]["decision"] == "refer" and "annual_inc" in answered[0]["review_reason"]
        assert "read as the known level" in answered[1]["warning"]
    finally:
        stop_server(server)
