"""The real `loan` pipeline through Kedro sessions and the CLI, on a sample of the bundled data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import make_kedro_project, run_kedro

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path, tiny_loans: pd.DataFrame, tracking_uri: str) -> Path:
    """A project on the tiny sample: these runs stop after ingestion or the split."""
    return make_kedro_project(tmp_path / "project", tiny_loans, {})


def test_loan_pipeline_runs_in_a_kedro_session(trained_project, raw_loans_sample: pd.DataFrame):
    """The shared real-data run (tests/conftest.py: trained_project) is a Kedro session."""
    project, _ = trained_project
    summary = pd.read_csv(project / "data" / "08_reporting" / "split_summary.csv")
    assert summary["split"].tolist() == ["train", "test"]
    status = raw_loans_sample["loan_status"].str.contains("Charged Off|Fully Paid")
    assert summary["loans"].sum() == status.sum()
    assert summary.loc[0, "last_date"] < "2011-01-01" <= summary.loc[1, "first_date"]
    train = pd.read_parquet(project / "data" / "05_model_input" / "train_loans.parquet")
    assert 0.05 < train["is_default"].mean() < 0.35

    reports = project / "data" / "08_reporting"
    audit = pd.read_csv(reports / "fairness_audit.csv")
    assert list(dict.fromkeys(audit["view"])) == ["census_region", "addr_state", "zip_code"]
    test = pd.read_parquet(project / "data" / "05_model_input" / "test_loans.parquet")
    assert (audit.groupby("view")["size"].sum() == len(test)).all(), "every test loan, once"
    judged = audit[audit["judged"]]
    assert (judged["size"] >= 200).all() and (
        audit.loc[~audit["judged"], "verdict"] == "too small to judge"
    ).all()
    assert (judged.groupby("view")["adverse_impact_ratio"].max() == 1.0).all()
    trade_off = pd.read_csv(reports / "fairness_trade_off.csv").set_index("variant")
    assert trade_off.loc["change", "test_roc_auc"] == pytest.approx(
        trade_off.iloc[1]["test_roc_auc"] - trade_off.iloc[0]["test_roc_auc"]
    )
    assert "Fair lending" in (reports / "fairness_finding.md").read_text()
    assert "Fair lending" in (reports / "loan_report.html").read_text()


@pytest.mark.parametrize("flag", ["--pipeline", "--pipelines"])
def test_cli_accepts_both_pipeline_flags(project: Path, flag: str):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    kedro = Path(sys.executable).with_name("kedro")
    result = subprocess.run(
        [str(kedro), "run", flag, "loan", "--to-nodes", "loan.data.split.summarise_split"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (project / "data" / "08_reporting" / "split_summary.csv").exists()


def test_empty_raw_file_names_the_file(project: Path):
    raw_file = project / "data" / "01_raw" / "loans_sample.csv.gz"
    raw_file.write_bytes(b"")
    with pytest.raises(Exception, match=r"loans_sample\.csv\.gz.* is empty \(0 bytes"):
        run_kedro(project, "ingestion")


def test_header_only_raw_file_is_reported_as_empty(project: Path, tiny_loans: pd.DataFrame):
    raw_file = project / "data" / "01_raw" / "loans_sample.csv.gz"
    tiny_loans.iloc[0:0].to_csv(raw_file, index=False)
    with pytest.raises(
        Exception, match=r"loans_sample\.csv\.gz.* has a header .* but no data rows"
    ):
        run_kedro(project, "ingestion")
