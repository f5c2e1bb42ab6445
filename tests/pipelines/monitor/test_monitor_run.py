"""`loan` then `monitor` on the tiny configuration, for real: a real Kedro session, the real
bundled data and a real SQLite MLflow store with its registry."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from loan_default.validation import DataValidationError
from tests.conftest import PROJECT_ROOT, TINY_CONF, make_kedro_project, run_kedro

SAMPLE = Path("data/07_model_output/out_of_time_monitoring_sample")
REPORTS = Path("data/08_reporting")
EXPERIMENT = "loan-default-monitoring"
TAIWAN_RAW = PROJECT_ROOT / "data" / "01_raw" / "uci_taiwan_credit_default.csv.gz"


def _monitoring_runs(client: mlflow.MlflowClient) -> list:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return [] if experiment is None else client.search_runs([experiment.experiment_id])


def _champion(client: mlflow.MlflowClient):
    return client.get_model_version_by_alias("loan-default", "champion")


def test_loan_writes_the_out_of_time_sample_scored_by_the_champion(tiny_project):
    project, uri = tiny_project
    log = pd.read_csv(project / SAMPLE / "scoring_log.csv")
    outcomes = pd.read_csv(project / SAMPLE / "outcomes.csv")
    holder = _champion(mlflow.MlflowClient(uri))
    assert set(log["model_version"].astype(str)) == {str(holder.version)}
    assert {"loan_row", "issue_d", "probability_of_default", "rating_grade"} <= set(log)
    assert log["rating_grade"].min() >= 1 and log["loan_row"].is_unique
    assert set(outcomes["loan_row"]) == set(log["loan_row"])
    assert set(outcomes["is_default"]) == {0, 1}
    assert pd.to_datetime(log["issue_d"]).dt.year.eq(2011).all(), "the out-of-time year"


def test_monitor_logs_its_run_tags_the_champion_and_writes_the_backtest(tiny_project):
    project, uri = tiny_project
    client = mlflow.MlflowClient(uri)
    before = len(_monitoring_runs(client))
    run_kedro(project, "monitor")
    runs = _monitoring_runs(client)
    assert len(runs) == before + 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert 0.5 < metrics["monitor.latest.auc"] <= 1.0
    assert metrics["monitor.latest.light"] in {0.0, 1.0, 2.0}
    quarters = ["2011Q1", "2011Q2", "2011Q3", "2011Q4"]
    assert metrics["monitor.periods"] == 4.0
    assert all(f"monitor.{q}.auc" in metrics and f"monitor.{q}.light" in metrics for q in quarters)
    assert metrics["monitor.latest.auc"] == metrics["monitor.2011Q4.auc"]
    holder = _champion(client)
    assert metrics["monitor.initial_auc"] == pytest.approx(float(holder.tags["test_roc_auc"]))
    light = {0.0: "green", 1.0: "amber", 2.0: "red"}[metrics["monitor.latest.light"]]
    assert holder.tags["monitor.light"] == light == run.data.tags["monitor.light"]
    assert holder.tags["monitor.run_id"] == run.info.run_id
    assert holder.tags["monitor.period"] == "2011Q4"
    backtest = pd.read_csv(project / REPORTS / "monitor_backtest.csv")
    assert {"review_period", "rating_grade", "jeffreys_p_value", "traffic_light"} <= set(backtest)
    assert backtest["jeffreys_p_value"].between(0, 1).all()
    stability = pd.read_csv(project / REPORTS / "monitor_stability.csv")
    assert {"score", "rating_grade"} <= set(stability["variable"])
    assert (stability["index"] == "CSI").sum() == 4 * 5, "5 drivers per quarter"
    report = (project / REPORTS / "monitoring_report.html").read_text()
    assert "Backtest per grade" in report and "2011Q4" in report
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "monitor")}
    assert "monitor/monitoring_report.html" in artifacts


def test_bad_outcomes_stop_monitor_before_it_writes_or_logs_anything(tiny_project, tmp_path):
    project, uri = tiny_project
    client = mlflow.MlflowClient(uri)
    outcomes = pd.read_csv(project / SAMPLE / "outcomes.csv")
    bad = pd.concat([outcomes, pd.DataFrame({"loan_row": [999_999_999], "is_default": [1]})])
    bad_file = tmp_path / "outcomes_with_a_stranger.csv"
    bad.to_csv(bad_file, index=False)
    runs, tags = len(_monitoring_runs(client)), dict(_champion(client).tags)
    outputs = [project / REPORTS / name for name in ("monitor_summary.csv", "monitor_backtest.csv")]
    stamps = {path: path.stat().st_mtime_ns for path in outputs if path.exists()}
    with pytest.raises(
        DataValidationError, match=r"outcomes_with_a_stranger.csv: column 'loan_row'"
    ):
        run_kedro(project, "monitor", runtime_params={"outcomes_file": str(bad_file)})
    assert len(_monitoring_runs(client)) == runs, "no MLflow run for a refused input"
    assert dict(_champion(client).tags) == tags, "the registry is untouched"
    assert {path: path.stat().st_mtime_ns for path in stamps} == stamps, "nothing overwritten"
    loan = client.get_run(_champion(client).run_id)
    assert loan.info.status == "FINISHED" and "error" not in loan.data.tags, "loan's run untouched"
    assert mlflow.active_run() is None


def test_a_users_own_tables_by_configuration_alone(tiny_project, tmp_path):
    project, uri = tiny_project
    log = pd.read_csv(project / SAMPLE / "scoring_log.csv")
    outcomes = pd.read_csv(project / SAMPLE / "outcomes.csv")
    own_log = log.rename(
        columns={
            "loan_row": "application_id",
            "issue_d": "scored_at",
            "probability_of_default": "pd",
            "rating_grade": "grade",
            "model_version": "version",
        }
    )
    own_log["scored_at"] = pd.to_datetime(own_log["scored_at"]).dt.strftime("%d/%m/%Y")
    own_outcomes = pd.DataFrame(
        {"app": outcomes["loan_row"], "status": outcomes["is_default"].map({1: "bad", 0: "good"})}
    )
    own_log.to_csv(tmp_path / "log.csv", index=False)
    own_outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
    monitor = {
        "scoring_log": {
            "identifier_column": "application_id",
            "date_column": "scored_at",
            "date_formats": ["%d/%m/%Y"],
            "probability_column": "pd",
            "grade_column": "grade",
            "model_version_column": "version",
        },
        "outcomes": {
            "identifier_column": "app",
            "outcome_column": "status",
            "default_values": ["bad"],
            "non_default_values": ["good"],
        },
        "period": "half_year",
    }
    params = {
        "scoring_log_file": str(tmp_path / "log.csv"),
        "outcomes_file": str(tmp_path / "outcomes.csv"),
        "monitor": monitor,
    }
    run_kedro(project, "monitor", runtime_params=params)
    run = _monitoring_runs(mlflow.MlflowClient(uri))[0]
    assert run.data.params["monitor.scoring_log"] == str(tmp_path / "log.csv")
    assert {"monitor.2011H1.auc", "monitor.2011H2.auc"} <= set(run.data.metrics)
    assert run.data.metrics["monitor.periods"] == 2.0


@pytest.mark.slow
def test_taiwan_without_dates_is_one_review_period(tmp_path: Path, tracking_uri: str):
    raw = pd.read_csv(TAIWAN_RAW).sample(n=3000, random_state=5)
    project = make_kedro_project(tmp_path / "project", raw, TINY_CONF, env="taiwan")
    run_kedro(project, "loan", env="taiwan")
    run_kedro(project, "monitor", env="taiwan")
    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("loan-default-monitoring-taiwan")
    [run] = client.search_runs([experiment.experiment_id])
    metrics = run.data.metrics
    assert metrics["monitor.periods"] == 1.0
    assert 0.5 < metrics["monitor.all.auc"] == metrics["monitor.latest.auc"] <= 1.0
    holder = client.get_model_version_by_alias("loan-default-taiwan", "champion")
    assert (
        holder.tags["monitor.period"] == "all" and holder.tags["monitor.run_id"] == run.info.run_id
    )
    backtest = pd.read_csv(project / "data/taiwan/08_reporting/monitor_backtest.csv")
    assert set(backtest["review_period"]) == {"all"} and backtest["jeffreys_p_value"].notna().all()


def test_monitor_before_loan_says_where_its_tables_come_from(tmp_path: Path, tracking_uri: str):
    raw = pd.read_csv(TAIWAN_RAW, nrows=50)
    project = make_kedro_project(tmp_path / "project", raw, {}, env="taiwan")
    with pytest.raises(FileNotFoundError, match=r"scoring_log.csv: no such file.*--pipeline loan"):
        run_kedro(project, "monitor", env="taiwan")
    assert mlflow.MlflowClient(tracking_uri).get_experiment_by_name(EXPERIMENT + "-taiwan") is None
