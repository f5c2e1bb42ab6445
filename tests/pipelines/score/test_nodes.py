"""Scoring nodes on small frames: row-level validation, reasons, drift."""

import json

import pandas as pd
import pytest

from loan_default.modelling.champion import model_of, preprocessor_of
from loan_default.modelling.reasons import ReasonExplainer, Wording
from loan_default.pipelines.score.nodes import (
    measure_score_drift,
    score_applications,
    validate_applications,
)
from loan_default.profile import build_profile, typical_row, typical_values
from loan_default.serving import ChampionHandle, LoanDefaultModel
from loan_default.validation import DataValidationError
from tests.modelling.standins import rate_model
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
SCORE = block(
    "score",
    {
        "drift": {
            "n_bins": 4,
            "top_features": 2,
            "bands": [
                {"below": 0.1, "label": "stable"},
                {"below": 0.25, "label": "moderate shift"},
                {"below": None, "label": "major shift"},
            ],
        }
    },
)


@pytest.fixture
def train() -> pd.DataFrame:
    return pd.DataFrame(
        {"rate": [0.05, 0.1, 0.1, 0.2], "home": ["RENT", "OWN", "RENT", "RENT"], "is_default": 0}
    )


def champion_for(train: pd.DataFrame, explained: bool = True) -> ChampionHandle:
    """rate_model packaged as the registry would hand it over, with a profile of `train` (and,
    as registration builds it, an explainer against the approved training loans)."""
    model = rate_model()
    scores = model.predict_proba(train)[:, 1]
    approved = scores < model.threshold
    typical = typical_values(train[approved], DATASET)
    explainer = ReasonExplainer.fit(
        model_of(model), preprocessor_of(model), preprocessor_of(model).transform(train[approved]),
        typical_row(train, typical),
    )  # fmt: skip
    profile = build_profile(
        train, scores, ["rate", "home"], DATASET, SCORE.drift.n_bins,
        approved=approved, explainer=explainer if explained else None,
    )  # fmt: skip
    types = {"rate": "percent", "home": "category"}
    package = LoanDefaultModel(model, DATASET, profile, types)
    return ChampionHandle(package, "models:/test/1", "run-1", "test", "1")


NO_PROBLEMS = pd.DataFrame(columns=["application_row", "severity", "column", "value", "problem"])


def reasons_for(applications: pd.DataFrame, champion: ChampionHandle, **reasons) -> pd.DataFrame:
    applications = applications.assign(application_row=range(1, len(applications) + 1))
    settings = {"count": 2, "for_approved": False} | reasons
    return score_applications(
        applications, NO_PROBLEMS, champion, block("score", {"reasons": settings})
    )


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


@pytest.mark.parametrize("explained", [True, False], ids=["explainer", "older model"])
def test_reasons_name_the_feature_that_raises_the_probability(train, explained):
    """Compared with approved training applicants (rate 5-10%, renting); a model registered
    before explainers falls back to occlusion against its profile's typical loan."""
    applications = pd.DataFrame({"rate": [0.3, 0.1, 0.12], "home": ["OWN", "RENT", "OWN"]})
    scored = reasons_for(applications, champion_for(train, explained), for_approved=True)
    assert scored.loc[0, "reason_1"] == "rate 30% — higher than typical approved applicants (10%)"
    assert scored.loc[0, "reason_1_contribution"] == pytest.approx(0.2)
    assert scored.loc[0, "reason_2"] == "", "home does not move this model's PD: no reason"
    assert scored.loc[1, "reason_1"] == "", "a typical approved applicant has no reason"
    assert scored.loc[2, "reason_1"].startswith("rate 12% — higher")


def test_reasons_are_given_to_rejected_applications_unless_asked_for_approved_too(train):
    applications = pd.DataFrame({"rate": [0.3, 0.12], "home": ["OWN", "OWN"]})
    scored = reasons_for(applications, champion_for(train))
    assert scored["decision"].tolist() == ["reject", "approve"]
    assert scored.loc[0, "reason_1"].startswith("rate 30%")
    assert scored.loc[1, "reason_1"] == "" and scored.loc[1, "reason_1_contribution"] == 0
    assert [c for c in scored if c.startswith("reason_") and "_contribution" not in c] == [
        "reason_1",
        "reason_2",
        "reason_coverage",
    ]
    assert scored.loc[0, "reason_coverage"] == pytest.approx(1.0), "rate is all that raised it"
    assert scored.loc[1, "reason_coverage"] == 0


def test_drift_is_zero_for_the_same_population_and_large_for_a_shifted_one(train):
    """Drift is measured against the profile saved at training time, not the training loans."""
    champion = champion_for(train)
    scored = reasons_for(train.drop(columns="is_default"), champion)
    same, metrics = measure_score_drift(train, scored, champion, SCORE)
    assert same["psi"].max() == pytest.approx(0.0, abs=1e-9)
    assert set(metrics) == {"drift_psi_score", "drift_psi_rate", "drift_psi_home"}
    shifted = train.assign(rate=[0.3, 0.35, 0.4, 0.45], home="OWN")
    scored = reasons_for(shifted.drop(columns="is_default"), champion)
    table, _ = measure_score_drift(shifted, scored, champion, SCORE)
    assert (table["band"] == "major shift").all()


def test_scored_batch_names_the_model_version_and_run(train):
    scored = reasons_for(train.drop(columns="is_default"), champion_for(train), count=1)
    assert scored["decision"].tolist() == ["approve", "approve", "approve", "reject"]
    assert set(scored["model_version"]) == {"1"} and set(scored["model_run_id"]) == {"run-1"}


def test_a_text_reason_names_the_applicants_own_phrases():
    wording = Wording(labels={"desc": "Loan description"}, text_columns=frozenset({"desc"}))
    sentence = wording.sentence("desc", "Pay off my medical bills", ["medical", "bills"])
    assert sentence == "Loan description mentions 'medical', 'bills'"


def test_typical_value_is_missing_when_most_have_none_and_the_middle_of_an_order():
    dataset = block("dataset", {"categorical_orders": {"grade": ["A", "B", "C", "D"]}})
    loans = pd.DataFrame(
        {
            "months_since_record": [3.0, None, None, None, None],
            "grade": ["A", "A", "C", "D", "D"],
            "is_default": 0,
        }
    )
    typical = typical_values(loans, dataset).set_index("feature")["typical_value"]
    assert pd.isna(typical["months_since_record"]), "most loans have none on record"
    assert typical["grade"] == "C", "the median grade, not the most frequent (A and D tie)"
    wording = Wording(typical=typical.to_dict())
    assert wording.sentence("months_since_record", 2.0) == (
        "months_since_record 2 — most approved applicants have none on record"
    )
    assert wording.sentence("grade", "D") == "grade D — typical approved applicants: C"
    assert wording.sentence("months_since_record", None) == "months_since_record: none on record"
    grades = wording.citable("grade", pd.Series(["D", "C", None]))
    assert grades.tolist() == [True, False, True], "the typical grade is never a reason"
    records = wording.citable("months_since_record", pd.Series([2.0, None]))
    assert records.tolist() == [True, False], "none on record, like most approved applicants"


def test_the_served_model_answers_reasons_as_lists_and_nulls_for_an_invalid_row(train):
    """What `mlflow models serve` returns: two rejections with one reason each, an invalid row
    with nulls (strict JSON, no NaN) and an approval without reasons."""
    model = champion_for(train).model
    batch = pd.DataFrame({"rate": ["30%", "35%", "lots", "5%"], "home": ["OWN"] * 4})
    answer = json.loads(
        json.dumps(model.predict(None, batch).to_dict(orient="records"), allow_nan=False)
    )
    assert [row["decision"] for row in answer] == ["reject", "reject", None, "approve"]
    assert answer[0]["reasons"] == ["rate 30% — higher than typical approved applicants (10%)"]
    assert answer[0]["reason_coverage"] == pytest.approx(1.0) and answer[0]["threshold"] == 0.15
    invalid = answer[2]
    assert invalid["error"].startswith("rate = lots")
    assert all(invalid[k] is None for k in ("probability_of_default", "threshold", "reasons"))
    assert answer[3]["reasons"] == [] and answer[3]["reason_coverage"] is None
