"""What one `kedro run --pipeline loan` records in MLflow, checked through the MLflow client."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from loan_default.config_loader import ProjectConfigLoader
from loan_default.parameters import Dataset
from loan_default.settings import CONFIG_LOADER_ARGS
from tests.conftest import ingest_like_training

pytestmark = pytest.mark.slow
MODEL = "loan-default"


@pytest.fixture(scope="module")
def client(trained_project) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(tracking_uri=trained_project[1])


@pytest.fixture(scope="module")
def parent_run(client: mlflow.MlflowClient):
    experiment = client.get_experiment_by_name("loan-default")
    runs = client.search_runs(
        [experiment.experiment_id], "tags.`kedro.pipeline` = 'loan'", order_by=["start_time ASC"]
    )
    return runs[0]


@pytest.fixture(scope="module")
def child_runs(client: mlflow.MlflowClient, parent_run):
    return client.search_runs(
        [parent_run.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_run.info.run_id}'"
    )


def _latest_version(path: Path) -> Path:
    return sorted(path.iterdir())[-1] / path.name


def test_parent_run_is_tagged_with_what_it_ran_on(parent_run, trained_project):
    project, _ = trained_project
    tags = parent_run.data.tags
    assert parent_run.info.status == "FINISHED"
    assert tags["kedro.pipeline"] == "loan"
    assert tags["git.commit"]
    raw_file = project / "data" / "01_raw" / "loans_sample.csv.gz"
    assert tags["raw_data.sha256"] == hashlib.sha256(raw_file.read_bytes()).hexdigest()
    assert int(tags["raw_data.rows"]) == len(pd.read_csv(raw_file, usecols=[0]))
    summary = pd.read_csv(project / "data" / "08_reporting" / "split_summary.csv")
    assert int(tags["split.train.loans"]) == summary.loc[0, "loans"]
    assert tags["split.test.first_date"] >= "2011-01-01"


def test_the_raw_file_is_the_parent_run_s_input_dataset(parent_run, trained_project):
    project, _ = trained_project
    raw_file = project / "data" / "01_raw" / "loans_sample.csv.gz"
    (logged,) = parent_run.inputs.dataset_inputs
    assert logged.dataset.name == "raw_loans"
    assert logged.dataset.digest == hashlib.sha256(raw_file.read_bytes()).hexdigest()[:12]
    assert json.loads(logged.dataset.source)["uri"] == str(raw_file.resolve())
    assert json.loads(logged.dataset.profile)["num_rows"] == int(
        parent_run.data.tags["raw_data.rows"]
    )


def test_the_run_description_is_the_headline(parent_run, trained_project):
    project, _ = trained_project
    champion = json.loads((project / "data/08_reporting/champion_metrics.json").read_text())
    description = parent_run.data.tags["mlflow.note.content"]
    assert description.startswith(f"Champion: {champion['configuration']}")
    assert f"test {champion['test_roc_auc']:.4f}" in description and "Promotion:" in description


def test_parameters_are_flattened_key_by_key(parent_run, project_params):
    params = parent_run.data.params
    assert params["dataset.split_cutoff"] == "2011-01-01"
    assert params["training.cv.n_splits"] == str(project_params["training"]["cv"]["n_splits"])
    assert params["training.cv.scheme"] == "auto"
    assert params["dataset.target.column"] == "loan_status"
    # Keyed by column patterns (`total_pymnt*`), no valid MLflow names: one parameter, whole.
    leakage = json.loads(params["dataset.leakage_columns"])
    assert leakage == project_params["dataset"]["leakage_columns"]


def test_champion_and_baseline_metrics_are_on_the_parent(parent_run, trained_project):
    project, _ = trained_project
    metrics = parent_run.data.metrics
    champion = json.loads((project / "data/08_reporting/champion_metrics.json").read_text())
    assert metrics["champion.cv_roc_auc_mean"] == pytest.approx(champion["cv_roc_auc_mean"])
    assert metrics["champion.cv_roc_auc_std"] == pytest.approx(champion["cv_roc_auc_std"])
    assert metrics["champion.test_roc_auc"] == pytest.approx(champion["test_roc_auc"])
    assert "baseline.lendingclub_grade.test_roc_auc" in metrics
    assert metrics["baseline.approve_everyone.test_roc_auc"] == pytest.approx(0.5)


def test_one_child_run_per_configuration_with_its_metrics(child_runs, trained_project):
    project, _ = trained_project
    comparison = pd.read_csv(project / "data/08_reporting/strategy_comparison.csv")
    assert sorted(run.info.run_name for run in child_runs) == sorted(comparison["configuration"])
    by_name = {run.info.run_name: run for run in child_runs}
    xgb = by_name["xgboost/smote"]
    expected = comparison.set_index("configuration").loc["xgboost/smote"]
    assert xgb.data.metrics["cv_roc_auc_mean"] == pytest.approx(expected["cv_roc_auc_mean"])
    assert xgb.data.metrics["test_roc_auc"] == pytest.approx(expected["test_roc_auc"])
    assert xgb.data.params["strategy"] == "smote"
    assert xgb.data.params["model_params.tree_method"] == "hist"
    assert xgb.data.tags["mlflow.note.content"].startswith("xgboost/smote")


def test_reports_and_plots_are_artifacts(client, parent_run):
    def paths(path=None):
        for item in client.list_artifacts(parent_run.info.run_id, path):
            yield from paths(item.path) if item.is_dir else [item.path]

    logged = set(paths())
    for expected in (
        "reports/data_quality/missing_value_report.csv",
        "reports/features/iv_ranking.csv",
        "reports/evaluation/strategy_comparison.csv",
        "reports/evaluation/model_finding.md",
        "reports/loan_report.html",
        "plots/roc_curves.png",
        "plots/missing_value.png",
    ):
        assert expected in logged


def test_champion_is_registered_with_the_alias(client, parent_run):
    version = client.get_model_version_by_alias(MODEL, "champion")
    assert version.run_id == parent_run.info.run_id
    assert parent_run.data.tags["registry.promoted"] == "true"
    assert version.tags["promotion.reason"] == "no current champion"
    assert len(version.tags) <= 10 and version.tags["source_run_id"] == parent_run.info.run_id
    assert version.tags["data_sha256"] == parent_run.data.tags["raw_data.sha256"]
    assert version.description == parent_run.data.tags["mlflow.note.content"]
    assert mlflow.active_run() is None, "the session leaves no MLflow run open in the process"


def test_registered_model_is_self_contained(trained_project, client):
    """Threshold, dataset config and the training profile travel inside the registered model."""
    project, uri = trained_project
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion").unwrap_python_model()
    with _latest_version(project / "data/06_models/champion_model.pkl").open("rb") as handle:
        champion = pickle.load(handle)
    assert model.threshold == pytest.approx(champion.threshold)
    assert model.dataset == _dataset_params(project).plain()  # the served model's plain mapping
    profile = model.profile
    train = pd.read_parquet(project / "data/05_model_input/train_loans.parquet")
    assert profile.training_rows == len(train)
    assert profile.numeric_ranges["annual_inc"] == (
        train["annual_inc"].min(),
        train["annual_inc"].max(),
    )
    assert set(profile.categories["home_ownership"]) == set(train["home_ownership"].dropna())
    assert sum(profile.score_reference.counts.values()) == len(train)
    iv = pd.read_csv(project / "data/08_reporting/iv_ranking.csv")
    assert list(profile.feature_references) == [f for f in iv["feature"] if f in train][:5]


def test_registered_model_predicts_raw_rows_in_a_fresh_process(trained_project):
    project, uri = trained_project
    rows = project / "data" / "01_raw" / "sample_applications.csv"
    script = (
        "import sys, json, mlflow, pandas as pd\n"
        "model = mlflow.pyfunc.load_model('models:/loan-default@champion')\n"
        "rows = pd.read_csv(sys.argv[1]).head(20)\n"
        # The signature types numeric inputs as double; MLflow refuses int64 columns for them
        # (docs/serving.md), so whole-number columns are read as floats, as its docs advise.
        "rows = rows.astype({c: float for c in rows.select_dtypes('integer')})\n"
        "out = model.predict(rows)\n"
        "assert (out['error'] == '').all(), out['error']\n"
        "print(json.dumps([list(out['probability_of_default']), list(out['warning'])]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(rows)],
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
        capture_output=True,
        text=True,
        check=False,
        cwd=project,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    predicted, warnings = json.loads(done.stdout.strip().splitlines()[-1])
    predicted = np.array(predicted)
    assert predicted.shape == (20,) and ((predicted > 0) & (predicted < 1)).all()
    with _latest_version(project / "data/06_models/champion_model.pkl").open("rb") as handle:
        champion = pickle.load(handle)
    dataset = _dataset_params(project)
    expected = champion.predict_proba(ingest_like_training(pd.read_csv(rows).head(20), dataset))
    # An unseen category (a new ZIP area) scores no safer than its riskiest known level.
    raised = np.array(["riskiest known level" in warning for warning in warnings])
    np.testing.assert_allclose(predicted[~raised], expected[~raised, 1], rtol=1e-6)
    assert (predicted[raised] >= expected[raised, 1] - 1e-9).all()


def _dataset_params(project: Path) -> Dataset:
    return ProjectConfigLoader(str(project / "conf"), **CONFIG_LOADER_ARGS)["parameters"]["dataset"]


# A failing run (recorded FAILED, alias, versions and saved champions untouched, no run left
# open) is checked on the tiny configuration: tests/test_state_model.py,
# test_a_failed_run_changes_nothing_scoring_uses.
