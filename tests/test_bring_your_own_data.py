"""The same code runs on another loan table by configuration only (the Taiwan environment)."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from tests.conftest import PROJECT_ROOT, make_kedro_project, run_kedro

TAIWAN_RAW = PROJECT_ROOT / "data" / "01_raw" / "uci_taiwan_credit_default.csv.gz"


def _dataset_block(env: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / "conf" / env / "parameters_dataset.yml").read_text())[
        "dataset"
    ]


def _column_names(dataset: dict) -> set[str]:
    names = set(dataset["column_types"]) | {dataset["target"]["column"]}
    names |= set(dataset.get("leakage_columns") or {}) | set(dataset.get("excluded_columns") or {})
    names |= set(dataset.get("identifier_columns") or []) | {dataset.get("date_column")}
    return {name for name in names if name and "*" not in name}


def test_no_dataset_column_name_appears_in_src():
    """src/ knows neither dataset: every column name lives in conf/."""
    names = _column_names(_dataset_block("base")) | _column_names(_dataset_block("taiwan"))
    offenders = []
    for path in (PROJECT_ROOT / "src").rglob("*.py"):
        text = path.read_text()
        for name in names:
            # Quoted literals always count; distinctive names (with _ . or digits) count anywhere.
            quoted = re.search(rf"""["']{re.escape(name)}["']""", text)
            distinctive = re.search(r"[_.\d]", name) and re.search(rf"\b{re.escape(name)}\b", text)
            if quoted or distinctive:
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}: {name}")
    assert not offenders, offenders


@pytest.mark.slow
def test_taiwan_environment_runs_end_to_end(tmp_path: Path, tracking_uri: str):
    raw = pd.read_csv(TAIWAN_RAW).sample(n=6000, random_state=11)
    project = make_kedro_project(tmp_path / "project", raw, {}, env="taiwan")
    run_kedro(project, "loan", env="taiwan")
    run_kedro(project, "score", env="taiwan")  # its sample batch holds SEX, MARRIAGE and AGE

    summary = pd.read_csv(project / "data/taiwan/08_reporting/split_summary.csv").set_index("split")
    assert "first_date" not in summary.columns, "no date column: a stratified random split"
    assert summary.loc["train", "default_rate"] == pytest.approx(
        summary.loc["test", "default_rate"], abs=0.01
    )
    missing = pd.read_csv(project / "data/taiwan/08_reporting/missing_value_report.csv").set_index(
        "column"
    )
    assert missing.loc["EDUCATION", "sentinel_codes"] > 0, "undocumented codes count as missing"
    protected = {"SEX", "MARRIAGE", "AGE"}
    assert not protected & set(missing.index), "protected columns are no model input"
    features = pd.read_parquet(project / "data/taiwan/05_model_input/train_features.parquet")
    encoded = {c for c in features.columns if c.split("_")[0] in protected or c in protected}
    assert not encoded, f"protected columns became features: {sorted(encoded)}"
    output = project / "data/taiwan/07_model_output/scored_applications.csv"
    scored = pd.read_csv(sorted(output.iterdir())[-1] / output.name)  # versioned
    reasons = scored.filter(regex=r"^reason_\d$").fillna("").to_numpy().ravel()
    assert not [r for r in reasons if r.split(" ")[0] in protected], "never a reason"

    audit = pd.read_csv(project / "data/taiwan/08_reporting/fairness_audit.csv")
    assert set(audit["view"]) == protected, "the protected columns are what is audited"
    ages = set(audit.loc[audit["view"] == "AGE", "group"])
    assert ages <= {"under 25", "25 to under 35", "35 to under 45", "45 to under 55", "55 and over"}
    assert set(audit.loc[audit["view"] == "SEX", "group"]) == {"male", "female"}
    assert (audit.loc[~audit["judged"], "verdict"] == "too small to judge").all()
    comparison = pd.read_csv(project / "data/taiwan/08_reporting/strategy_comparison.csv")
    champion = comparison.iloc[0]
    rules = comparison[comparison["configuration"].str.startswith("baseline/reject")]
    assert champion["test_roc_auc"] > rules["test_roc_auc"].max()

    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("loan-default-taiwan")
    assert experiment is not None, "its own MLflow experiment"
    assert client.search_runs([experiment.experiment_id], "tags.`kedro.env` = 'taiwan'")
    assert client.get_model_version_by_alias("loan-default-taiwan", "champion")
    runs = client.search_runs([experiment.experiment_id], "tags.`kedro.env` = 'taiwan'")
    audited = [r for r in runs if "fairness.SEX.worst_adverse_impact_ratio" in r.data.metrics]
    assert audited, "the training run records the audit's summary metrics"
    assert "calibration.herfindahl_index" in audited[0].data.metrics
    # No dates: the calibration is chosen on stratified folds, the scale and backtest still run.
    backtest = pd.read_csv(project / "data/taiwan/08_reporting/rating_backtest.csv")
    assert len(backtest) >= 2 and backtest["jeffreys_p_value"].between(0, 1).all()
    assert set(scored["rating_grade"]) <= set(backtest["rating_grade"])
    assert not (project / "data/08_reporting").exists(), "taiwan writes under data/taiwan/ only"
