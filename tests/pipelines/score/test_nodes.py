"""Scoring nodes on small frames: row-level validation, reasons, drift."""

import pandas as pd
import pytest

from loan_default.pipelines.score.nodes import (
    _describe_reason,
    explain,
    measure_score_drift,
    score_applications,
    validate_applications,
)
from loan_default.profile import build_profile, typical_values
from loan_default.serving import ChampionHandle, LoanDefaultModel
from loan_default.validation import DataValidationError
from tests.modelling.standins import RateModel
from tests.params import block

DATASET = block(
    "dataset",
    {
        "target": {"output_column": "is_default"},
        "date_column": None,
        "column_types": {"rate": "percent", "home": "category"},
        "derived_features": {"rate_x2": {"expression": "rate * 2"}},
    },
)
SCORE = {
    "drift": {
        "n_bins": 4,
        "top_features": 2,
        "bands": [
            {"below": 0.1, "label": "stable"},
            {"below": 0.25, "label": "moderate shift"},
            {"below": None, "label": "major shift"},
        ],
    }
}


@pytest.fixture
def train() -> pd.DataFrame:
    return pd.DataFrame(
        {"rate": [0.05, 0.1, 0.1, 0.2], "home": ["RENT", "OWN", "RENT", "RENT"], "is_default": 0}
    )


def champion_for(train: pd.DataFrame) -> ChampionHandle:
    """RateModel packaged as the registry would hand it over, with a profile of `train`."""
    model = RateModel()
    scores = model.predict_proba(train)[:, 1]
    profile = build_profile(train, scores, ["rate", "home"], DATASET, SCORE["drift"]["n_bins"])
    types = {"rate": "percent", "home": "category"}
    package = LoanDefaultModel(model, DATASET, profile, types)
    return ChampionHandle(package, "models:/test/1", "run-1", "test", "1")


def test_unparsable_rows_go_to_errors_and_the_rest_is_prepared(train):
    raw = pd.DataFrame({"rate": ["10%", "lots", "20%"], "home": ["RENT", "OWN", "CASTLE"]})
    valid, errors = validate_applications(raw, champion_for(train))
    assert valid["application_row"].tolist() == [1, 3]
    assert valid["rate_x2"].tolist() == pytest.approx([0.2, 0.4])
    rows = errors[["application_row", "severity", "column", "value"]].values.tolist()
    assert [2, "error", "rate", "lots"] in rows
    assert [3, "warning", "home", "CASTLE"] in rows


def test_missing_required_column_stops_the_batch(train):
    with pytest.raises(DataValidationError, match=r"\['rate'\]"):
        validate_applications(pd.DataFrame({"home": ["RENT"]}), champion_for(train))


def test_reference_is_median_or_most_frequent(train):
    reference = typical_values(train, DATASET).set_index("feature")["typical_value"]
    assert reference["rate"] == pytest.approx(0.1)
    assert reference["home"] == "RENT"


def test_reasons_name_the_feature_that_raises_the_probability(train):
    applications = pd.DataFrame({"rate": [0.3, 0.1], "home": ["OWN", "RENT"]})
    reference = typical_values(train, DATASET)
    probability = RateModel().predict_proba(applications)[:, 1]
    reasons = explain(RateModel(), applications, reference, probability, top_n=2)
    assert reasons.loc[0, "reason_1"] == "rate = 0.3"
    as_written = explain(RateModel(), applications, reference, probability, 2, {"rate"})
    assert as_written.loc[0, "reason_1"] == "rate = 30%", (
        "a percent reads as the applicant wrote it"
    )
    assert reasons.loc[0, "reason_1_contribution"] == pytest.approx(0.2)
    assert reasons.loc[1, "reason_1"] == "", "a typical applicant has no reason to decline"


def test_drift_is_zero_for_the_same_population_and_large_for_a_shifted_one(train):
    """Drift is measured against the profile saved at training time, not the training loans."""
    champion = champion_for(train)
    same, metrics = measure_score_drift(train, champion, SCORE)
    assert same["psi"].max() == pytest.approx(0.0, abs=1e-9)
    assert set(metrics) == {"drift_psi_score", "drift_psi_rate", "drift_psi_home"}
    shifted = train.assign(rate=[0.3, 0.35, 0.4, 0.45], home="OWN")
    table, _ = measure_score_drift(shifted, champion, SCORE)
    assert (table["band"] == "major shift").all()


def test_scored_batch_names_the_model_version_and_run(train):
    applications = train.drop(columns="is_default").assign(application_row=[1, 2, 3, 4])
    no_problems = pd.DataFrame(
        columns=["application_row", "severity", "column", "value", "problem"]
    )
    scored = score_applications(
        applications, no_problems, champion_for(train), {"reasons": {"top_n": 1}}
    )
    assert scored["decision"].tolist() == ["approve", "approve", "approve", "reject"]
    assert set(scored["model_version"]) == {"1"} and set(scored["model_run_id"]) == {"run-1"}


def test_a_text_reason_names_the_wording_without_quoting_it():
    text = "Borrower added on 11/24/11 > Pay off my cards"
    assert _describe_reason("desc", text, 0.02, False, text=True) == "desc: its wording"
    assert _describe_reason("desc", "", 0.02, False, text=True) == "desc: none given"
    assert _describe_reason("desc", text, -0.01, False, text=True) == ""
