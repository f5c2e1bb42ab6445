"""`kedro run --pipeline score` on batches of new applications, after a real training run."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loan_default.pipelines.ingestion.nodes import prepare_applications
from tests.conftest import run_kedro

pytestmark = pytest.mark.slow


def _latest(path: Path) -> Path:
    return sorted(path.iterdir())[-1] / path.name


def score(project: Path, batch: pd.DataFrame, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write `batch`, score it through a Kedro session, return (scored, errors)."""
    path = project / "data" / "01_raw" / f"{name}.csv"
    batch.to_csv(path, index=False)
    run_kedro(project, "score", runtime_params={"applications_file": str(path)})
    output = project / "data" / "07_model_output"
    return (
        pd.read_csv(_latest(output / "scored_applications.csv")),
        pd.read_csv(_latest(output / "application_errors.csv")),
    )


@pytest.fixture(scope="module")
def batch(trained_project) -> pd.DataFrame:
    project, _ = trained_project
    return pd.read_csv(project / "data" / "01_raw" / "sample_applications.csv").head(40)


@pytest.fixture(scope="module")
def champion(trained_project):
    project, _ = trained_project
    with _latest(project / "data/06_models/champion_model.pkl").open("rb") as handle:
        return pickle.load(handle)


def test_good_batch_is_scored_with_decisions_and_reasons(trained_project, batch, champion):
    project, _ = trained_project
    scored, errors = score(project, batch, "good_batch")
    assert len(scored) == len(batch)
    assert not (errors["severity"] == "error").any()
    assert scored["probability_of_default"].between(0, 1).all()
    rejected = scored["probability_of_default"] >= champion.threshold
    assert (scored["decision"] == np.where(rejected, "reject", "approve")).all()
    top = scored.loc[scored["probability_of_default"].idxmax()]
    assert isinstance(top["reason_1"], str) and top["reason_1_contribution"] > 0
    assert (project / "data" / "08_reporting" / "score_drift.csv").exists()


def test_bad_rows_are_reported_and_good_rows_still_scored(trained_project, batch):
    project, _ = trained_project
    bad = batch.astype({"int_rate": "object", "term": "object"})
    bad.loc[3, "int_rate"] = "eleven percent"
    bad.loc[7, "term"] = "three years"
    scored, errors = score(project, bad, "bad_rows")
    assert set(errors.loc[errors["severity"] == "error", "application_row"]) == {4, 8}
    assert set(errors["column"]) >= {"int_rate", "term"}
    assert len(scored) == len(batch) - 2
    assert not scored["application_row"].isin([4, 8]).any()


def test_unseen_category_is_scored_with_a_warning(trained_project, batch):
    project, _ = trained_project
    unseen = batch.copy()
    unseen.loc[0, "purpose"] = "space_travel"
    scored, errors = score(project, unseen, "unseen_category")
    assert len(scored) == len(batch)
    warning = errors[(errors["severity"] == "warning") & (errors["column"] == "purpose")]
    assert warning[["application_row", "column", "value"]].values.tolist() == [
        [1, "purpose", "space_travel"]
    ]


def test_batch_missing_a_required_column_is_a_clear_error(trained_project, batch):
    project, _ = trained_project
    with pytest.raises(
        Exception, match=r"applications: 1 required column\(s\) missing: \['annual_inc'\]"
    ):
        score(project, batch.drop(columns="annual_inc"), "missing_column")


def test_scoring_gives_the_champion_probabilities_of_the_training_run(
    trained_project, raw_loans_sample, champion, dataset_params
):
    """Raw rows through the scoring pipeline = the champion inside the training run."""
    project, _ = trained_project
    cutoff = "2011-01-01"
    in_test = pd.to_datetime(raw_loans_sample["issue_d"]) >= cutoff
    raw_test = raw_loans_sample[in_test].head(30)
    scored, _ = score(project, raw_test, "test_period_rows")
    predictions = pd.read_parquet(project / "data/07_model_output/test_predictions.parquet")
    winner = pd.read_json(project / "data/08_reporting/champion.json", typ="series")
    inside = predictions[predictions["configuration"] == winner["configuration"]]
    inside = inside.sort_values("row")["score"].to_numpy()[:30]
    np.testing.assert_allclose(scored["probability_of_default"], inside, atol=1e-6)
    raw_train = raw_loans_sample[~in_test].head(30)
    scored_train, _ = score(project, raw_train, "train_period_rows")
    expected = champion.predict_proba(prepare_applications(raw_train, dataset_params))[:, 1]
    np.testing.assert_allclose(scored_train["probability_of_default"], expected, atol=1e-6)


def test_scoring_can_use_the_registry_champion(trained_project, batch, tmp_path, monkeypatch):
    """Swapping the `scoring_champion` catalog entry scores with models:/loan-default@champion."""
    project, uri = trained_project
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True)
    (copy / "conf" / "local" / "catalog_registry.yml").write_text(
        "scoring_champion:\n"
        "  type: kedro_mlflow.io.models.MlflowModelRegistryDataset\n"
        "  model_name: loan-default\n"
        "  alias: champion\n"
        "  flavor: mlflow.pyfunc\n"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    from_registry, _ = score(copy, batch, "registry_batch")
    from_catalog, _ = score(project, batch, "catalog_batch")
    np.testing.assert_allclose(
        from_registry["probability_of_default"], from_catalog["probability_of_default"], atol=1e-9
    )
