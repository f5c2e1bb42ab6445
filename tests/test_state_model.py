"""Runs, environments and failures never share state; scoring serves the registry's champion.

Real Kedro sessions on the tiny configuration (tests/conftest.py: a few hundred loans of the
bundled data, one model, two folds) and a Taiwan sample, with a real MLflow SQLite store per
module: what is checked is the state model, not the models.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from loan_default.run_guard import RunInProgressError, TrackingStoreError
from tests.conftest import PROJECT_ROOT, RAW_LOANS, TINY_TRAINING, make_kedro_project, run_kedro
from tests.test_run_guard import sqlite_store, unwritable

pytestmark = pytest.mark.slow
MODEL, TAIWAN_MODEL = "loan-default", "loan-default-taiwan"
TAIWAN_RAW = PROJECT_ROOT / "data" / "01_raw" / "uci_taiwan_credit_default.csv.gz"
KEDRO = str(Path(sys.executable).with_name("kedro"))


def only(models: dict) -> dict:
    """`training.models` with these models and none of the schema's default ones."""
    return {"logistic_regression": None, "random_forest": None, "xgboost": None, **models}


# The tiny grid (one model, one strategy, two folds) for both environments.
SMALL_GRID = TINY_TRAINING
# A one-split stump: a deliberately weak champion for the promotion tests.
STUMP = {"xgboost": {"params": {"n_estimators": 1, "max_depth": 1, "n_jobs": 1}}}


def use_grid(project: Path, models: dict | None) -> None:
    """Swap the default environment's model grid (conf/local), or go back to SMALL_GRID."""
    local = project / "conf" / "local" / "parameters_training.yml"
    if models is None:
        local.unlink(missing_ok=True)
    else:
        local.write_text(yaml.safe_dump({"training": {**SMALL_GRID, "models": only(models)}}))


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_loans: pd.DataFrame, store: str) -> Path:
    """A project with the tiny LendingClub sample (default env) and a Taiwan sample (--env
    taiwan), both on the tiny grid."""
    root = tmp_path_factory.mktemp("state") / "project"
    make_kedro_project(root, tiny_loans, {})
    (root / "conf" / "base" / "parameters_training.yml").write_text(
        yaml.safe_dump({"training": SMALL_GRID})
    )
    (root / "conf" / "base" / "parameters_evaluation.yml").write_text(
        yaml.safe_dump({"evaluation": {"ablation": {"configuration": None}}})
    )
    taiwan_raw = root / "data" / "01_raw" / "taiwan_sample.csv.gz"
    pd.read_csv(TAIWAN_RAW).sample(n=1500, random_state=5).to_csv(taiwan_raw, index=False)
    taiwan_globals = root / "conf" / "taiwan" / "globals.yml"
    values = yaml.safe_load(taiwan_globals.read_text())
    taiwan_globals.write_text(yaml.safe_dump({**values, "raw_loans_file": str(taiwan_raw)}))
    return root


def score(project: Path, env: str | None = None, **params) -> pd.DataFrame:
    """Score the environment's bundled sample batch; return the scored table."""
    run_kedro(project, "score", env=env, runtime_params=params or None)
    root = project / "data" / (env or "")
    latest = sorted((root / "07_model_output" / "scored_applications.csv").iterdir())[-1]
    return pd.read_csv(latest / "scored_applications.csv")


def alias_version(client: mlflow.MlflowClient, name: str = MODEL) -> str:
    return str(client.get_model_version_by_alias(name, "champion").version)


def versions(client: mlflow.MlflowClient, name: str = MODEL) -> set[str]:
    return {str(v.version) for v in client.search_model_versions(f"name = '{name}'")}


def latest_run(client: mlflow.MlflowClient, experiment: str = "loan-default"):
    """The newest pipeline run (child runs of configurations are left out)."""
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id], order_by=["start_time DESC"])
    return next(run for run in runs if "mlflow.parentRunId" not in run.data.tags)


@pytest.fixture(scope="module")
def trained(project: Path, client: mlflow.MlflowClient) -> Path:
    """LendingClub first, then Taiwan: the environment that trained last is Taiwan."""
    run_kedro(project, "loan")
    run_kedro(project, "loan", env="taiwan")
    return project


def test_environments_write_under_their_own_data_root(trained: Path):
    lending = pd.read_parquet(trained / "data/05_model_input/train_loans.parquet")
    taiwan = pd.read_parquet(trained / "data/taiwan/05_model_input/train_loans.parquet")
    assert "int_rate" in lending and "int_rate" not in taiwan
    assert "LIMIT_BAL" in taiwan and "LIMIT_BAL" not in lending
    assert not (trained / "data/taiwan/01_raw").exists(), "raw inputs stay shared and untouched"


def test_each_environment_scores_with_its_own_champion_in_both_orders(trained, client):
    """Taiwan trained last, yet the default environment scores; then the reverse order."""
    scored = score(trained)
    assert set(scored["model_name"]) == {MODEL}
    assert set(scored["model_version"].astype(str)) == {alias_version(client)}
    taiwan = score(trained, env="taiwan")
    assert set(taiwan["model_name"]) == {TAIWAN_MODEL}
    assert set(taiwan["model_version"].astype(str)) == {alias_version(client, TAIWAN_MODEL)}

    run_kedro(trained, "loan")  # now the default environment trained last
    again = score(trained, env="taiwan")
    np.testing.assert_allclose(
        again["probability_of_default"], taiwan["probability_of_default"], atol=1e-9
    )
    assert score(trained)["probability_of_default"].between(0, 1).all()


def test_scoring_reads_nothing_a_loan_run_writes_under_data(trained, client, tmp_path):
    """With every training output of data/ gone, scoring still works from the registry alone."""
    moved = tmp_path / "moved"
    moved.mkdir()
    for folder in ("02_intermediate", "03_primary", "05_model_input", "06_models"):
        source = trained / "data" / folder
        if source.exists():
            source.rename(moved / folder)
    try:
        scored = score(trained)
    finally:
        for folder in moved.iterdir():
            folder.rename(trained / "data" / folder.name)
    assert len(scored) > 0 and set(scored["model_name"]) == {MODEL}
    run = latest_run(client)
    assert run.data.tags["scoring.model_version"] == alias_version(client)


def test_a_failed_run_changes_nothing_scoring_uses(trained, client):
    """Recorded FAILED with its error; the alias, the versions and the saved champions stay."""
    before_alias, before_versions = alias_version(client), versions(client)
    before = score(trained)
    champions = trained / "data/06_models/champion_model.pkl"
    saved_before = {path: path.read_bytes() for path in champions.rglob("*.pkl") if path.is_file()}
    assert saved_before, "the trained project has saved champions to keep"
    # Fails in cross-validation, after ingestion, split and features have written their outputs.
    negative_c = {"models": {"logistic_regression": {"params": {"C": -1.0}}}}
    with pytest.raises(Exception, match="'C' parameter"):
        run_kedro(trained, "loan", runtime_params={"training": negative_c})
    failed = latest_run(client)
    assert failed.info.status == "FAILED" and "'C' parameter" in failed.data.tags["error"]
    assert alias_version(client) == before_alias and versions(client) == before_versions
    saved_after = {path: path.read_bytes() for path in champions.rglob("*.pkl") if path.is_file()}
    assert saved_after == saved_before, "no saved champion is touched or added"
    assert mlflow.active_run() is None, "the failed session leaves no MLflow run open"
    after = score(trained)
    np.testing.assert_allclose(after["probability_of_default"], before["probability_of_default"])
    latest = score(trained, scoring_model="latest")
    assert set(latest["model_version"].astype(str)) == {max(before_versions, key=int)}


def test_promotion_compares_both_champions_on_this_runs_test_set(trained, client):
    """A weak challenger is registered but not promoted; a strong one then is."""
    champion_before = alias_version(client)
    use_grid(trained, STUMP)
    run_kedro(trained, "loan")
    weak = latest_run(client)
    assert weak.data.tags["registry.promoted"] == "false"
    assert alias_version(client) == champion_before
    decision = json.loads((trained / "data/08_reporting/promotion_decision.json").read_text())
    assert decision["promote"] is False and "does not beat" in decision["reason"]
    metrics = weak.data.metrics
    assert metrics["promotion.challenger_roc_auc"] < metrics["promotion.champion_roc_auc"]

    # The incumbent's figure is its own score on this run's test loans, recomputed here.
    incumbent = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion").unwrap_python_model()
    test_loans = pd.read_parquet(trained / "data/05_model_input/test_loans.parquet")
    probability = incumbent.champion.predict_proba(test_loans)[:, 1]
    scored = incumbent.assess(test_loans, probability)  # unseen categories: no safer than known
    expected = roc_auc_score(test_loans["is_default"], scored["probability_of_default"])
    assert metrics["promotion.champion_roc_auc"] == pytest.approx(expected)
    version = client.get_model_version(MODEL, weak.data.tags["registry.registered_version"])
    assert version.tags["promotion.promoted"] == "false"

    # Make the stump the champion (what `registry.force` does: tests/test_one_champion.py), then
    # a real model beats it on the same test loans.
    client.set_registered_model_alias(
        MODEL, "champion", weak.data.tags["registry.registered_version"]
    )
    use_grid(trained, None)
    run_kedro(trained, "loan")
    strong = latest_run(client)
    assert strong.data.tags["registry.promoted"] == "true"
    assert alias_version(client) == strong.data.tags["registry.registered_version"]
    assert (
        strong.data.metrics["promotion.challenger_roc_auc"]
        > strong.data.metrics["promotion.champion_roc_auc"]
    )
    decision = json.loads((trained / "data/08_reporting/promotion_decision.json").read_text())
    assert decision["champion"].startswith(
        f"{MODEL} v{weak.data.tags['registry.registered_version']}"
    )


def test_a_failure_in_the_registration_stage_registers_nothing(trained, client, monkeypatch):
    before_alias, before_versions = alias_version(client), versions(client)

    def refuse(*args, **kwargs):
        raise mlflow.exceptions.MlflowException("registry unavailable (injected)")

    monkeypatch.setattr(mlflow.MlflowClient, "set_registered_model_alias", refuse)
    with pytest.raises(Exception, match="registry unavailable"):
        run_kedro(trained, "loan", runtime_params={"registry": {"force": True}})
    monkeypatch.undo()
    failed = latest_run(client)
    assert failed.info.status == "FAILED"
    assert "registry unavailable" in failed.data.tags["error"]
    assert versions(client) == before_versions, "the half-registered version was removed"
    assert alias_version(client) == before_alias
    assert mlflow.active_run() is None


def _start_cli_run(project: Path, store: str) -> subprocess.Popen:
    log = (project / "background_run.log").open("w")
    return subprocess.Popen(
        [KEDRO, "run", "--pipeline", "loan"],
        cwd=project,
        env={**os.environ, "MLFLOW_TRACKING_URI": store, "KEDRO_DISABLE_TELEMETRY": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for_lock_with_run(lock: Path, process: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the background run ended before it could be observed"
        if lock.exists():
            try:
                record = json.loads(lock.read_text())
            except ValueError:
                record = {}
            if record.get("mlflow_run_id"):
                return record
        time.sleep(0.2)
    raise AssertionError("the background run never took the lock")


def test_a_concurrent_run_is_refused_and_a_killed_run_is_closed(trained, client, store):
    before_alias, before_versions = alias_version(client), versions(client)
    lock = trained / "data" / ".run.lock"
    background = _start_cli_run(trained, store)
    try:
        holder = _wait_for_lock_with_run(lock, background)
        with pytest.raises(RunInProgressError) as refused:
            run_kedro(trained, "loan")
        message = str(refused.value)
        assert f"pid {background.pid}" in message and holder["mlflow_run_id"] in message
        assert client.get_run(holder["mlflow_run_id"]).info.status == "RUNNING"
    finally:
        background.send_signal(signal.SIGKILL)
        background.wait(timeout=30)

    # The dead run's lock is taken over, and its MLflow run is closed as KILLED.
    run_kedro(trained, "ingestion")
    killed = client.get_run(holder["mlflow_run_id"])
    assert killed.info.status == "KILLED"
    assert "no longer exists" in killed.data.tags["killed_reason"]
    assert not lock.exists(), "the lock is released after the run"
    assert alias_version(client) == before_alias and versions(client) == before_versions
    assert set(score(trained)["model_version"].astype(str)) == {before_alias}


def test_duplicates_stop_the_run_or_are_dropped(project, raw_loans_sample, tmp_path, client):
    doubled = pd.concat([raw_loans_sample.sample(1500, random_state=3)] * 2, ignore_index=True)
    copy = make_kedro_project(tmp_path / "duplicated", doubled, {})
    with pytest.raises(Exception, match=r"1,500 exact duplicate row\(s\).*duplicates.action: drop"):
        run_kedro(copy, "ingestion")

    drop = {"dataset": {"duplicates": {"action": "drop"}}}
    run_kedro(copy, "ingestion", runtime_params=drop)
    run = latest_run(client)
    assert run.data.tags["duplicates.dropped_rows"] == "1500"
    run_kedro(copy, "split", runtime_params=drop)
    train = pd.read_parquet(copy / "data/05_model_input/train_loans.parquet")
    test = pd.read_parquet(copy / "data/05_model_input/test_loans.parquet")
    both = pd.concat([train, test])
    assert not both.duplicated().any(), "no loan can sit in two folds or in train and test"
    summary = json.loads((copy / "data/08_reporting/duplicate_summary.json").read_text())
    assert summary["exact_duplicate_rows"] == summary["dropped_rows"] == 1500


@pytest.mark.parametrize("store_kind", ["unwritable SQLite file", "unreachable server"])
def test_a_bad_tracking_store_stops_the_run_before_any_work(tmp_path, monkeypatch, store_kind):
    """Checked before the lock and before kedro-mlflow touches the store: seconds, not minutes,
    and no lock or output left behind. A few rows suffice, since no node runs."""
    project = make_kedro_project(tmp_path / "project", pd.read_csv(RAW_LOANS, nrows=300), {})
    if store_kind == "unreachable server":
        uri, guard = "http://127.0.0.1:9", contextlib.nullcontext()
    else:
        path = sqlite_store(tmp_path / "store")
        uri, guard = f"sqlite:///{path}", unwritable(path, path.parent)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with guard:
        started = time.monotonic()
        with pytest.raises(TrackingStoreError, match="MLFLOW_TRACKING_URI") as failed:
            run_kedro(project, "loan")
        elapsed = time.monotonic() - started
    assert uri in str(failed.value) and elapsed < 10
    data = project / "data"
    assert not list(data.rglob(".run.lock*")), "no lock is taken"
    assert [folder.name for folder in data.iterdir()] == ["01_raw"], "no output is written"
    assert not (project / "mlruns").exists() and not (project / "mlartifacts").exists()
