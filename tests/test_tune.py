"""The tune pipeline in a real Kedro session on a sample: time-ordered folds only, one MLflow
child run per trial, and a parameters block ready to paste into conf/base."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project

from tests.conftest import PROJECT_ROOT, make_kedro_project, run_kedro

pytestmark = pytest.mark.slow

SEARCH = {
    "n_trials": 3,
    "search_spaces": {
        "logistic_regression": {"C": {"low": 0.01, "high": 1.0, "log": True}},
        "xgboost": {
            "n_estimators": {"low": 20, "high": 60, "integer": True},
            "max_depth": {"low": 2, "high": 3, "integer": True},
        },
    },
}


def test_the_tune_stage_never_reads_the_test_loans():
    bootstrap_project(PROJECT_ROOT)
    tune = pipelines["tune"]
    searched = tune.only_nodes_with_tags("tune")
    assert searched.nodes, "the search nodes are part of the registered `tune` pipeline"
    assert not {"test_loans", "test_features"} & set(searched.all_inputs())
    assert "train_loans" in tune.all_outputs() and "prepared_folds" in tune.all_outputs()


def test_tune_pipeline_runs_on_a_sample(
    tmp_path: Path, raw_loans_sample: pd.DataFrame, tracking_uri: str, project_params: dict
):
    project = make_kedro_project(
        tmp_path / "project", raw_loans_sample.sample(n=3000, random_state=0), {}
    )
    run_kedro(project, "tune", runtime_params={"tuning": SEARCH})
    reports = project / "data" / "08_reporting"
    trials = pd.read_csv(reports / "tuning_trials.csv")
    assert trials.groupby("model").size().to_dict() == {"logistic_regression": 3, "xgboost": 3}
    assert (trials["scheme"] == "time").all()
    assert trials["mean"].between(0.5, 1).all()
    text = (reports / "tuned_parameters.yml").read_text()
    assert text.startswith("# Found by `kedro run --pipeline tune`")
    models = yaml.safe_load(text)["training"]["models"]
    # each best is a sampled point of the search range, or trial 0: the configured parameters
    configured = project_params["training"]["models"]
    chosen_c = models["logistic_regression"]["params"]["C"]
    assert 0.01 <= chosen_c <= 1.0 or chosen_c == configured["logistic_regression"]["params"]["C"]
    trees = models["xgboost"]["params"]["n_estimators"]
    assert 20 <= trees <= 60 or trees == configured["xgboost"]["params"]["n_estimators"]
    best = trials.loc[trials.groupby("model")["mean"].idxmax()].set_index("model")
    assert models["xgboost"]["params"]["max_depth"] == best.loc["xgboost", "param_max_depth"]
    client = mlflow.MlflowClient(tracking_uri)
    (experiment,) = [e for e in client.search_experiments() if e.name != "Default"]
    (parent,) = client.search_runs([experiment.experiment_id], "tags.`mlflow.runName` = 'tune'")
    children = client.search_runs(
        [experiment.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    assert len(children) == 6
    assert {run.data.tags["kind"] for run in children} == {"tuning_trial"}
    assert parent.data.metrics["tuning.xgboost.trials"] == 3
