"""Scoring nodes on small frames: row-level validation, reasons, drift."""

import numpy as np
import pandas as pd
import pytest

from loan_default.pipelines.score.nodes import (
    build_scoring_reference,
    explain,
    measure_score_drift,
    validate_applications,
)
from loan_default.validation import DataValidationError

DATASET = {
    "target": {"output_column": "is_default"},
    "date_column": None,
    "column_types": {"rate": "percent", "home": "category"},
    "derived_features": {"rate_x2": {"expression": "rate * 2"}},
}
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


class RateModel:
    """PD = rate, whatever else the row says; threshold 0.15."""

    threshold = 0.15

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        rate = frame["rate"].to_numpy(dtype=float)
        return np.column_stack([1 - rate, rate])


@pytest.fixture
def train() -> pd.DataFrame:
    return pd.DataFrame(
        {"rate": [0.05, 0.1, 0.1, 0.2], "home": ["RENT", "OWN", "RENT", "RENT"], "is_default": 0}
    )


def test_unparsable_rows_go_to_errors_and_the_rest_is_prepared(train):
    raw = pd.DataFrame({"rate": ["10%", "lots", "20%"], "home": ["RENT", "OWN", "CASTLE"]})
    valid, errors = validate_applications(raw, train, DATASET)
    assert valid["application_row"].tolist() == [1, 3]
    assert valid["rate_x2"].tolist() == pytest.approx([0.2, 0.4])
    rows = errors[["application_row", "severity", "column", "value"]].values.tolist()
    assert [2, "error", "rate", "lots"] in rows
    assert [3, "warning", "home", "CASTLE"] in rows


def test_missing_required_column_stops_the_batch(train):
    with pytest.raises(DataValidationError, match=r"\['rate'\]"):
        validate_applications(pd.DataFrame({"home": ["RENT"]}), train, DATASET)


def test_reference_is_median_or_most_frequent(train):
    reference = build_scoring_reference(train, DATASET).set_index("feature")["typical_value"]
    assert reference["rate"] == pytest.approx(0.1)
    assert reference["home"] == "RENT"


def test_reasons_name_the_feature_that_raises_the_probability(train):
    applications = pd.DataFrame({"rate": [0.3, 0.1], "home": ["OWN", "RENT"]})
    reference = build_scoring_reference(train, DATASET)
    probability = RateModel().predict_proba(applications)[:, 1]
    reasons = explain(RateModel(), applications, reference, probability, top_n=2)
    assert reasons.loc[0, "reason_1"] == "rate = 0.3"
    assert reasons.loc[0, "reason_1_contribution"] == pytest.approx(0.2)
    assert reasons.loc[1, "reason_1"] == "", "a typical applicant has no reason to decline"


def test_drift_is_zero_for_the_same_population_and_large_for_a_shifted_one(train):
    iv = pd.DataFrame({"feature": ["rate", "home"]})
    same, metrics = measure_score_drift(train, train, RateModel(), iv, SCORE)
    assert same["psi"].max() == pytest.approx(0.0, abs=1e-9)
    assert set(metrics) == {"drift_psi_score", "drift_psi_rate", "drift_psi_home"}
    shifted = train.assign(rate=[0.3, 0.35, 0.4, 0.45], home="OWN")
    table, _ = measure_score_drift(train, shifted, RateModel(), iv, SCORE)
    assert (table["band"] == "major shift").all()
