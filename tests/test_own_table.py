"""A loan table the project has never seen, configured by docs/own-data.md's minimal config only.

Its own column names, awkward category labels (`<`, `[`, `,`, spaces, unicode), no dates and
missing values; `conf/mine/` holds nothing but the target and the costs. `loan` then `score`
run through real Kedro sessions, end to end: report, registry, scoring.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import make_kedro_project, run_kedro

pytestmark = pytest.mark.slow

TENURE = ["< 1 year", "1 <= x < 4 years", "[4, 10)", "10+ years, or more"]
REGIONS = ["Nord", "Süd", "Ost-West", "Zürich/Genève"]
MINIMAL_DATASET = {
    "dataset": {
        "target": {"column": "Ergebnis", "positive": ["ausgefallen"], "negative": ["bezahlt"]},
        "costs": {"amount_column": "Betrag", "loss_given_default": 0.6, "interest_margin": 0.1},
    }
}


def make_table(rows: int, seed: int) -> pd.DataFrame:
    """Loans whose default risk rises with debt ratio and short tenure; some values missing."""
    rng = np.random.default_rng(seed)
    tenure = rng.choice(len(TENURE), size=rows)
    ratio = rng.gamma(2.0, 0.15, size=rows)
    logit = -2.2 + 2.5 * ratio - 0.45 * tenure + rng.normal(0, 0.3, rows)
    defaulted = rng.random(rows) < 1 / (1 + np.exp(-logit))
    table = pd.DataFrame(
        {
            "Kunden Nr": np.arange(1, rows + 1),
            "Betrag": rng.integers(1, 40, size=rows) * 500.0,
            "Schuldenquote %": ratio.round(3),
            "Beschäftigung": np.array(TENURE, dtype=object)[tenure],
            "Region": rng.choice(REGIONS, size=rows),
            "Ergebnis": np.where(defaulted, "ausgefallen", "bezahlt"),
        }
    )
    table.loc[rng.random(rows) < 0.08, "Schuldenquote %"] = np.nan
    table.loc[rng.random(rows) < 0.05, "Region"] = np.nan
    return table


@pytest.fixture(scope="module")
def own_project(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("own_table")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        project = make_kedro_project(
            root / "project",
            make_table(1200, seed=1),
            {"parameters_dataset.yml": yaml.safe_dump(MINIMAL_DATASET, allow_unicode=True)},
            env="mine",
        )
        batch = make_table(60, seed=2).drop(columns="Ergebnis")
        batch.to_csv(project / "data" / "01_raw" / "my_applications.csv", index=False)
        globals_file = project / "conf" / "mine" / "globals.yml"
        values = yaml.safe_load(globals_file.read_text())
        values["applications_file"] = str(project / "data" / "01_raw" / "my_applications.csv")
        globals_file.write_text(yaml.safe_dump(values))
        run_kedro(project, "loan", env="mine")
        yield project, uri


def test_the_minimal_config_trains_reports_and_registers(own_project):
    project, uri = own_project
    reporting = project / "data" / "mine" / "08_reporting"
    finding = (reporting / "model_finding.md").read_text()
    assert "held-out test set (random, stratified)" in finding and "out-of-time" not in finding
    assert (
        "held-out test loans (random, stratified)" in (reporting / "loan_report.html").read_text()
    )
    inputs = json.loads((reporting / "application_inputs.json").read_text())
    assert inputs == {
        "Betrag": "numeric",
        "Schuldenquote %": "numeric",
        "Beschäftigung": "category",
        "Region": "category",
    }, "types inferred; the identifier column is dropped as a constant-free unique id"
    client = mlflow.MlflowClient(uri)
    version = client.get_model_version_by_alias("loan-default-mine", "champion")
    comparison = pd.read_csv(reporting / "strategy_comparison.csv")
    assert comparison.loc[0, "test_roc_auc"] > 0.6, "the models find the planted signal"
    assert version.tags["promotion.reason"] == "no current champion"


def test_scoring_the_own_table_explains_with_the_original_labels(own_project):
    project, _ = own_project
    run_kedro(project, "score", env="mine")
    output = project / "data" / "mine" / "07_model_output" / "scored_applications.csv"
    scored = pd.read_csv(sorted(output.iterdir())[-1] / output.name)
    assert len(scored) == 60 and scored["probability_of_default"].between(0, 1).all()
    rejected = scored[scored["decision"] == "reject"]
    assert (rejected["reason_1"].fillna("") != "").mean() > 0.9, "rejections are explained"
    columns = [f"reason_{rank}" for rank in (1, 2, 3, 4)]
    reasons = rejected[columns].fillna("").to_numpy().ravel()
    labels = {
        reason.removeprefix("Beschäftigung ").split(" — ")[0]
        for reason in reasons
        if reason.startswith("Besch")
    }
    assert labels and labels <= set(TENURE), "reasons read the raw labels, e.g. '< 1 year'"
    assert set(scored["model_name"]) == {"loan-default-mine"}
