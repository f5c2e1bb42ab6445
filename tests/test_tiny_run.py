"""The fast tier's end-to-end check: `loan` then `score` on the tiny configuration, for real.

Real Kedro sessions, a real SQLite MLflow store and the real bundled data (a few hundred loans),
with one model, one strategy and two folds: the wiring of every stage in seconds. The slow tier
checks what the models and reports say on a realistic sample.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from tests.conftest import run_kedro


def test_loan_trains_reports_and_registers_on_the_tiny_configuration(tiny_project):
    project, uri = tiny_project
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("loan-default")
    runs = client.search_runs([experiment.experiment_id], "tags.`kedro.pipeline` = 'loan'")
    assert [run.info.status for run in runs] == ["FINISHED"]
    metrics = runs[0].data.metrics
    assert 0.5 < metrics["champion.test_roc_auc"] <= 1.0
    holder = client.get_model_version_by_alias("loan-default", "champion")
    assert holder.run_id == runs[0].info.run_id
    report = project / "data" / "08_reporting" / "loan_report.html"
    assert "logistic_regression/class_weight" in report.read_text()
    assert not (project / "data" / ".run.lock").exists()
    backtest = pd.read_csv(project / "data" / "08_reporting" / "rating_backtest.csv")
    assert backtest["rating_grade"].tolist() == list(range(1, len(backtest) + 1))
    assert backtest["jeffreys_p_value"].between(0, 1).all()
    assert set(backtest["traffic_light"]) <= {"green", "amber", "red"}
    assert metrics["calibration.grades"] == len(backtest) >= 2
    assert metrics["calibration.loans"] == backtest["loans"].sum()
    for name in ("brier_score", "binomial_p_value", "herfindahl_index", "traffic_light"):
        assert f"calibration.{name}" in metrics, name
    assert "Calibration and the master scale" in report.read_text()


def test_score_serves_the_registered_champion_on_the_tiny_configuration(tiny_project):
    project, uri = tiny_project
    run_kedro(project, "score")
    folder = project / "data" / "07_model_output" / "scored_applications.csv"
    scored = pd.read_csv(sorted(Path(folder).iterdir())[-1] / "scored_applications.csv")
    holder = mlflow.MlflowClient(uri).get_model_version_by_alias("loan-default", "champion")
    assert len(scored) > 0 and set(scored["model_version"].astype(str)) == {str(holder.version)}
    assert set(scored["decision"]) <= {"approve", "reject", "refer"}
    assert scored["probability_of_default"].between(0, 1).all()
    grades = pd.read_csv(project / "data" / "08_reporting" / "master_scale.csv")["rating_grade"]
    assert set(scored["rating_grade"]) <= set(grades), "every application gets a grade"
    ordered = scored.sort_values("probability_of_default")["rating_grade"]
    assert ordered.is_monotonic_increasing, "a higher PD never gets a better grade"
    rejected = scored[scored["decision"] == "reject"]
    assert (rejected["reason_1"].fillna("") != "").all(), "every rejection has a reason"
