"""The registered model's name has one home, and a scoring run uses one champion throughout.

Real Kedro sessions on the tiny configuration in an environment that renames its
registered model, alias and experiment (conf/acme/globals.yml), tracked in a real SQLite store.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from loan_default.datasets import RegisteredChampionDataset
from tests.conftest import TINY_CONF, make_kedro_project, run_kedro

pytestmark = pytest.mark.slow
ENV, NAME, ALIAS, EXPERIMENT = "acme", "acme-pd", "live", "acme-runs"


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_loans: pd.DataFrame, store: str) -> Path:
    """An environment of the tiny configuration that renames the model, its alias and its
    experiment, in globals only; trained twice, so the second run meets the first's champion."""
    names = {"registered_model": NAME, "champion_alias": ALIAS, "mlflow_experiment": EXPERIMENT}
    root = tmp_path_factory.mktemp("renamed") / "project"
    make_kedro_project(root, tiny_loans, TINY_CONF, env=ENV)
    env_globals = root / "conf" / ENV / "globals.yml"
    env_globals.write_text(yaml.safe_dump({**yaml.safe_load(env_globals.read_text()), **names}))
    run_kedro(root, "loan", env=ENV)
    run_kedro(root, "loan", env=ENV)
    return root


def _decision(project: Path) -> dict:
    return json.loads((project / f"data/{ENV}/08_reporting/promotion_decision.json").read_text())


def _score(project: Path) -> pd.DataFrame:
    run_kedro(project, "score", env=ENV)
    folder = project / "data" / ENV / "07_model_output" / "scored_applications.csv"
    return pd.read_csv(sorted(folder.iterdir())[-1] / "scored_applications.csv")


def _holder(client: mlflow.MlflowClient) -> str:
    return str(client.get_model_version_by_alias(NAME, ALIAS).version)


def test_a_renamed_model_trains_promotes_against_its_own_incumbent_and_scores(project, client):
    assert {m.name for m in client.search_registered_models()} == {NAME}
    assert {str(v.version) for v in client.search_model_versions(f"name = '{NAME}'")} == {"1", "2"}
    decision = _decision(project)
    assert decision["champion"].startswith(f"{NAME} v1"), "the second run met its incumbent"
    # The same configuration again: equal test metrics are no improvement, so the alias stays.
    assert decision["promote"] is False and "does not beat" in decision["reason"]
    assert decision["challenger_roc_auc"] == pytest.approx(decision["champion_roc_auc"])
    assert _holder(client) == "1"
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    rerun = client.search_runs(
        [experiment], "tags.`kedro.pipeline` = 'loan'", order_by=["start_time DESC"]
    )[0]
    assert rerun.data.tags["registry.promoted"] == "false"
    assert client.get_experiment_by_name("loan-default") is None
    scored = _score(project)
    assert set(scored["model_name"]) == {NAME}
    assert set(scored["model_version"].astype(str)) == {_holder(client)}


def test_the_registry_is_read_once_per_run(project, client, store):
    """A dataset instance (one run's catalog) keeps the version it resolved first."""
    first = _holder(client)
    other = "1" if first == "2" else "2"
    dataset = RegisteredChampionDataset(NAME, ALIAS)
    before = dataset.load()
    client.set_registered_model_alias(NAME, ALIAS, other)
    try:
        assert dataset.load() is before and before.version == first, "same run: same model"
        assert RegisteredChampionDataset(NAME, ALIAS).load().version == other, "next run: new"
    finally:
        client.set_registered_model_alias(NAME, ALIAS, first)


def test_a_promotion_between_two_score_runs_changes_the_version_of_the_next_one(project, client):
    first = _holder(client)
    other = "1" if first == "2" else "2"
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    try:
        for version in (first, other):
            client.set_registered_model_alias(NAME, ALIAS, version)
            scored = _score(project)
            run = client.search_runs([experiment], order_by=["start_time DESC"])[0]
            assert set(scored["model_version"].astype(str)) == {version}
            assert run.data.tags["scoring.model_version"] == version
    finally:
        client.set_registered_model_alias(NAME, ALIAS, first)


def test_force_moves_the_alias_to_a_challenger_that_does_not_beat_the_champion(project, client):
    run_kedro(project, "loan", env=ENV, runtime_params={"registry": {"force": True}})
    newest = max(int(v.version) for v in client.search_model_versions(f"name = '{NAME}'"))
    assert _holder(client) == str(newest) == "3"
    assert _decision(project)["reason"].startswith("forced by registry.force")
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    forced = client.search_runs(
        [experiment], "tags.`kedro.pipeline` = 'loan'", order_by=["start_time DESC"]
    )[0]
    assert forced.data.tags["registry.promoted"] == "true"
    assert forced.data.tags["registry.registered_version"] == "3"
