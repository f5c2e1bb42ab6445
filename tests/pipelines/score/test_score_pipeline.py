"""`kedro run --pipeline score` on batches of new applications, after a real training run."""

from __future__ import annotations

import pickle
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from loan_default.config_loader import ProjectConfigLoader
from loan_default.settings import CONFIG_LOADER_ARGS
from tests.conftest import ingest_like_training, run_kedro

pytestmark = pytest.mark.slow


def _latest(path: Path) -> Path:
    return sorted(path.iterdir())[-1] / path.name


def score(
    project: Path, batch: pd.DataFrame, name: str, **params
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write `batch`, score it through a Kedro session, return (scored, errors)."""
    path = project / "data" / "01_raw" / f"{name}.csv"
    batch.to_csv(path, index=False)
    run_kedro(project, "score", runtime_params={"applications_file": str(path), **params})
    output = project / "data" / "07_model_output"
    return (
        pd.read_csv(_latest(output / "scored_applications.csv")),
        pd.read_csv(_latest(output / "application_errors.csv")),
    )


def assert_champion_probabilities(
    scored: pd.DataFrame, errors: pd.DataFrame, expected: np.ndarray
) -> None:
    """The champion's own probabilities, except where a category training never saw (a new ZIP
    area) makes the row score no safer than its riskiest known level: there, never lower."""
    unseen = errors["problem"].str.contains("riskiest known level", na=False)
    raised = scored["application_row"].isin(errors.loc[unseen, "application_row"]).to_numpy()
    probability = scored["probability_of_default"].to_numpy()
    np.testing.assert_allclose(probability[~raised], expected[~raised], atol=1e-6)
    assert (probability[raised] >= expected[raised] - 1e-6).all()


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


def test_plausible_batches_never_crash_nor_flatter_an_applicant(trained_project, batch):
    """No text columns, numeric-only problems, lower-case grades: each is scored; grades in
    another case turn no rejection into an approval; an absurd income is never approved."""
    project, _ = trained_project
    scored, before = score(project, batch, "plain_batch")
    no_text, errors = score(project, batch.drop(columns=["desc", "title", "emp_title"]), "no_text")
    assert len(no_text) == len(batch) and errors.equals(before), "no warning per row"

    numeric = batch.copy()
    numeric.loc[0, "annual_inc"], numeric.loc[1, "loan_amnt"] = 1e15, -5000.0
    referred, errors = score(project, numeric, "numeric_problems")
    errors = errors[errors["column"].isin(["annual_inc", "loan_amnt"])]
    assert errors.set_index("application_row")["severity"].to_dict() == {1: "warning", 2: "error"}
    first = referred.set_index("application_row").loc[1]
    assert first["decision"] == "refer" and "annual_inc" in first["review_reason"]

    lower = batch.assign(grade=batch["grade"].str.lower(), sub_grade=batch["sub_grade"].str.lower())
    cased, errors = score(project, lower, "lower_grades")
    assert set(errors["severity"]) == {"warning"}
    np.testing.assert_allclose(cased["probability_of_default"], scored["probability_of_default"])
    assert (cased["decision"] == scored["decision"]).all()

    unknown = batch.assign(grade="Z")
    refused, errors = score(project, unknown.head(3), "unknown_grade")
    assert refused.empty and (errors["severity"] == "error").sum() == 3


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
    scored, errors = score(project, raw_test, "test_period_rows")
    predictions = pd.read_parquet(project / "data/07_model_output/test_predictions.parquet")
    winner = pd.read_json(project / "data/08_reporting/champion.json", typ="series")
    inside = predictions[predictions["configuration"] == winner["configuration"]]
    inside = inside.sort_values("row")["score"].to_numpy()[:30]
    assert_champion_probabilities(scored, errors, inside)
    raw_train = raw_loans_sample[~in_test].head(30)
    scored_train, _ = score(project, raw_train, "train_period_rows")
    expected = champion.predict_proba(ingest_like_training(raw_train, dataset_params))[:, 1]
    np.testing.assert_allclose(scored_train["probability_of_default"], expected, atol=1e-6)


def test_scoring_uses_the_registry_champion_or_a_chosen_version(trained_project, batch, champion):
    """By default models:/loan-default@champion; `scoring_model` picks `latest` or a version."""
    project, uri = trained_project
    client = mlflow.MlflowClient(uri)
    holder = client.get_model_version_by_alias("loan-default", "champion")
    by_alias, errors = score(project, batch, "registry_batch")
    assert set(by_alias["model_version"].astype(str)) == {str(holder.version)}
    assert set(by_alias["model_run_id"]) == {holder.run_id}
    expected = champion.predict_proba(ingest_like_training(batch, _dataset(project)))[:, 1]
    assert_champion_probabilities(by_alias, errors, expected)
    by_number, _ = score(project, batch, "version_batch", scoring_model=int(holder.version))
    assert set(by_number["model_version"].astype(str)) == {str(holder.version)}
    newest = max(int(v.version) for v in client.search_model_versions("name = 'loan-default'"))
    latest, _ = score(project, batch, "latest_batch", scoring_model="latest")
    assert set(latest["model_version"].astype(str)) == {str(newest)}


def test_scoring_an_unknown_version_names_the_registry_and_the_fix(trained_project, batch):
    project, _ = trained_project
    with pytest.raises(Exception, match=r"has no model 'loan-default' at '999'.*kedro run"):
        score(project, batch, "unknown_version", scoring_model=999)


def _dataset(project: Path) -> dict:
    loader = ProjectConfigLoader(str(project / "conf"), **CONFIG_LOADER_ARGS)
    return loader["parameters"]["dataset"]
