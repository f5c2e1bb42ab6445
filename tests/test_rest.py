"""The registered champion served over REST by `make serve` (scripts/serve.py, which runs
`mlflow models serve`): a real HTTP server on the tiny configuration's trained store.

A batch without text columns, an absurd income and lower-case grades are all answered, with the
decision the score pipeline would make; an invalid row comes back as nulls with its error, in
strict JSON, and a rejection carries the reasons batch scoring gives the same row.
"""

from __future__ import annotations

import json
import math
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from loan_default.pipelines.score.nodes import score_applications, validate_applications
from loan_default.serving import ChampionHandle
from tests.browser import free_port, start_server, stop_server, wait_for_http
from tests.params import block

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
SERVE = Path(__file__).resolve().parents[1] / "scripts" / "serve.py"
MODEL = "models:/loan-default@champion"


def _strict(constant: str) -> None:
    raise ValueError(f"not strict JSON: {constant}")


def _post(port: int, batch: pd.DataFrame) -> list[dict]:
    split = json.loads(batch.to_json(orient="split", index=False))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        json.dumps({"dataframe_split": split}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        # NaN, Infinity: Python's json reads them, a browser's or Java's parser refuses them.
        return json.loads(response.read(), parse_constant=_strict)["predictions"]


@pytest.fixture(scope="module")
def served(tiny_project, tmp_path_factory) -> Iterator[int]:
    """`make serve` on the tiny project (without an activated environment): its port."""
    project, uri = tiny_project
    port = free_port()
    path = os.environ["PATH"].replace(f"{BIN}{os.pathsep}", "")  # the venv is not activated
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PATH": path}
    server = start_server(
        [sys.executable, str(SERVE), "--project", str(project), "--port", str(port)],
        tmp_path_factory.mktemp("serve") / "serve.log", cwd=project, env=env,
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/ping", server, timeout=120)
        yield port
    finally:
        stop_server(server)


def test_rest_scores_plausible_batches_with_decisions(tiny_project, served):
    project, _ = tiny_project
    batch = pd.read_csv(project / "data" / "01_raw" / "sample_applications.csv").head(8)
    no_text = _post(served, batch.drop(columns=["desc", "title", "emp_title"]))
    assert len(no_text) == 8 and all(row["error"] == "" for row in no_text)
    assert {row["decision"] for row in no_text} <= {"approve", "reject", "refer"}
    odd = batch.assign(grade=batch["grade"].str.lower())
    odd.loc[0, "annual_inc"] = 1e15
    answered = _post(served, odd)
    assert answered[0]["decision"] == "refer" and "annual_inc" in answered[0]["review_reason"]
    assert "read as the known level" in answered[1]["warning"]


def test_three_rows_one_invalid_get_decisions_reasons_and_an_error_in_strict_json(
    tiny_project, served
):
    """A rejection, an approval and a row with a debt-to-income ratio above its hard bound."""
    project, uri = tiny_project
    applications = pd.read_csv(project / "data" / "01_raw" / "sample_applications.csv")
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(MODEL).unwrap_python_model()
    champion = ChampionHandle(model, MODEL, "run")
    valid, problems = validate_applications(applications, champion)
    batch_scored = score_applications(valid, problems, champion, block("score"))
    decisions = batch_scored.set_index("application_row")["decision"]
    reject = int(decisions[decisions == "reject"].index[0]) - 1
    approve = int(decisions[decisions == "approve"].index[0]) - 1
    rows = applications.iloc[[reject, approve, approve]].reset_index(drop=True)
    rows.loc[2, "dti"] = 150.0  # dataset.bounds: dti at most 100
    answered = _post(served, rows)

    assert [row["decision"] for row in answered] == ["reject", "approve", None]
    rejected, approved, invalid = answered
    assert rejected["threshold"] == approved["threshold"] == pytest.approx(model.threshold)
    assert rejected["probability_of_default"] >= rejected["threshold"]
    assert 1 <= len(rejected["reasons"]) <= 4 and all(rejected["reasons"])
    assert 0 < rejected["reason_coverage"] <= 1
    assert approved["reasons"] == [] and approved["error"] == ""
    given = batch_scored[batch_scored["application_row"] == reject + 1].iloc[0]
    in_batch = [given[f"reason_{k}"] for k in range(1, 5) if given[f"reason_{k}"]]
    assert rejected["reasons"] == in_batch, "REST and batch scoring give the same reasons"
    grades = model.rating_scale.grades
    assert rejected["rating_grade"] == given["rating_grade"], "REST and batch grade alike"
    assert 1 <= approved["rating_grade"] <= rejected["rating_grade"] <= grades
    assert set(batch_scored["rating_grade"]) <= set(range(1, grades + 1))
    keys = ("probability_of_default", "rating_grade", "decision", "threshold", "reasons")
    for key in (*keys, "reason_coverage"):
        assert invalid[key] is None, key
    assert "dti" in invalid["error"] and "150" in invalid["error"]
    assert not any(
        isinstance(value, float) and not math.isfinite(value)
        for row in answered
        for value in row.values()
    )
