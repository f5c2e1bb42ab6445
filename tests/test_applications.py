"""Plausibility checks on new applications, shared by the score pipeline and the pyfunc model."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from loan_default.applications import (
    PROBLEM_COLUMNS,
    check_applications,
    floor_unseen_categories,
    hard_bounds,
    input_types,
    summarise_problems,
)
from loan_default.modelling.rating import MasterScale
from loan_default.pipelines.score.nodes import score_applications
from loan_default.profile import build_profile
from loan_default.serving import ChampionHandle, LoanDefaultModel
from loan_default.validation import DataValidationError
from tests.modelling.standins import RateFeatures, rate_model
from tests.params import block

DATASET = block(
    "dataset",
    {
        "target": {"column": "status", "output_column": "is_default"},
        "column_types": {"rate": "percent"},
        "leakage_columns": {"paid": "after issue"},
        "derived_features": {"amount_to_income": {"ratio": ["amount", "income"]}},
        "bounds": {"rate": {"min": 0, "max": 1}},
    },
)


@pytest.fixture
def raw_training() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "status": [0, 1, 0, 0, 1, 0],
            "rate": ["10%", "20%", "12%", "9%", "25%", "11%"],
            "amount": [1000.0, 2000.0, 1500.0, 1200.0, 3000.0, 900.0],
            "income": [40000.0, 30000.0, 50000.0, 45000.0, 20000.0, 60000.0],
            "home": ["RENT", "OWN", "RENT", "MORTGAGE", "RENT", "OWN"],
            "paid": [1100.0, 10.0, 1600.0, 1300.0, 0.0, 950.0],
        }
    )


def package(raw: pd.DataFrame, dataset: dict) -> LoanDefaultModel:
    """A packaged champion whose training loans are `raw`, typed and derived."""
    train = raw.assign(
        rate=raw["rate"].str.rstrip("%").astype(float) / 100,
        amount_to_income=raw["amount"] / raw["income"],
        is_default=raw["status"],
    ).drop(columns=["status", "paid"])
    types = input_types(raw, train, dataset["column_types"], dataset)
    scores = rate_model().predict_proba(train)[:, 1]
    profile = build_profile(
        train, scores, ["rate"], dataset, 4, hard_bounds(train, types, dataset), 1.0
    )
    return LoanDefaultModel(rate_model(), dataset, profile, types, raw[list(types)])


@pytest.fixture
def champion(raw_training: pd.DataFrame) -> LoanDefaultModel:
    return package(raw_training, DATASET)


def test_inputs_are_the_columns_the_model_uses_with_configured_or_inferred_types(champion):
    assert champion.input_types == {
        "rate": "percent",
        "amount": "numeric",
        "income": "numeric",
        "home": "category",
    }, "the target and leakage columns are not inputs; derived sources are"


def test_bounds_are_configured_or_non_negative_when_training_had_no_negatives(champion):
    bounds = champion.profile.hard_bounds
    assert bounds["rate"] == (0, 1)
    assert bounds["amount"] == (0.0, None) and bounds["income"] == (0.0, None)


def _batch(**changes) -> pd.DataFrame:
    batch = pd.DataFrame(
        {
            "rate": ["11%", "30%", "15%", "12%"],
            "amount": [1000.0, 2000.0, 1500.0, 1200.0],
            "income": [40000.0, 30000.0, 50000.0, 45000.0],
            "home": ["RENT", "OWN", "RENT", "OWN"],
        }
    )
    for column, (row, value) in changes.items():
        batch[column] = batch[column].astype(object)
        batch.loc[row, column] = value
    return batch


def test_values_outside_hard_bounds_are_errors_and_the_row_is_not_scored(champion):
    valid, problems = check_applications(_batch(amount=(1, -500.0), rate=(2, "-50%")), champion)
    errors = problems[problems["severity"] == "error"]
    assert errors[["application_row", "column", "problem"]].values.tolist() == [
        [2, "amount", "below 0"],
        [3, "rate", "below 0"],
    ], "one line per problem, in row order"
    assert valid["application_row"].tolist() == [1, 4]


def test_values_far_outside_the_training_range_are_scored_with_a_warning(champion):
    valid, problems = check_applications(_batch(income=(0, 1e15)), champion)
    assert valid["application_row"].tolist() == [1, 2, 3, 4]
    warning = problems[problems["severity"] == "warning"].iloc[0]
    assert (warning["application_row"], warning["column"]) == (1, "income")
    assert "far outside the training range" in warning["problem"]
    _, inside = check_applications(_batch(income=(0, 61000.0)), champion)
    assert inside.empty, "a value just outside the training range is not flagged"


def test_unseen_categories_and_unparsable_values(champion):
    valid, problems = check_applications(_batch(home=(0, "CASTLE"), rate=(3, "lots")), champion)
    rows = problems[["application_row", "severity", "column"]].values.tolist()
    assert [1, "warning", "home"] in rows and [4, "error", "rate"] in rows
    assert valid["application_row"].tolist() == [1, 2, 3]


def test_a_missing_input_column_stops_the_batch(champion):
    with pytest.raises(DataValidationError, match=r"required column.*\['income'\]"):
        check_applications(_batch().drop(columns="income"), champion)


def test_the_pyfunc_model_returns_an_error_column_instead_of_failing(champion):
    batch = _batch(amount=(1, -500.0), income=(2, 1e15))
    predicted = champion.predict(None, batch)
    assert list(predicted.columns) == [
        "probability_of_default", "rating_grade", "decision", "threshold", "reasons",
        "reason_coverage", "review_reason", "error", "warning",
    ]  # fmt: skip
    assert predicted["rating_grade"].isna().all(), "no master scale: no grade (older models)"
    # An invalid row: nulls (JSON null, never NaN) and its error.
    assert predicted.loc[1, "probability_of_default"] is None
    assert predicted.loc[1, ["decision", "error"]].tolist() == [None, "amount = -500.0: below 0"]
    assert predicted.loc[2, "warning"].startswith("income = 1000000000000000.0: far outside")
    assert predicted.loc[[0, 2, 3], "probability_of_default"].tolist() == pytest.approx(
        [0.11, 0.15, 0.12]
    )
    assert predicted.loc[[0, 2, 3], "decision"].tolist() == ["approve", "refer", "approve"]
    assert "income" in predicted.loc[2, "review_reason"]
    assert (predicted.loc[[0, 2, 3], "error"] == "").all()


def test_the_pyfunc_model_grades_every_scored_row_on_its_master_scale(champion):
    champion.rating_scale = MasterScale(
        bounds=(0.115, 0.14), grade_pd=(0.1, 0.13, 0.2), loans=(5, 5, 5), defaults=(0, 1, 2)
    )
    predicted = champion.predict(None, _batch(amount=(1, -500.0)))
    # PDs 0.11, (invalid), 0.15, 0.12 -> grades 1, null, 3, 2
    assert predicted["rating_grade"].tolist() == [1, None, 3, 2]
    assert json.loads(predicted.to_json(orient="records"))[1]["rating_grade"] is None


def test_identifier_columns_are_carried_to_the_scored_rows(champion):
    champion.dataset = {**DATASET, "identifier_columns": ["customer"]}
    batch = _batch(amount=(1, -500.0)).assign(customer=["c-1", "c-2", "c-3", "c-4"])
    valid, _ = check_applications(batch, champion)
    assert valid["customer"].tolist() == ["c-1", "c-3", "c-4"]
    handle = ChampionHandle(champion, "models:/m/1", "run-1", "m", "1")
    no_problems = pd.DataFrame(columns=PROBLEM_COLUMNS)
    scored = score_applications(
        valid, no_problems, handle, block("score", {"reasons": {"count": 1, "for_approved": True}})
    )
    assert scored[["application_row", "customer"]].values.tolist() == [
        [1, "c-1"],
        [3, "c-3"],
        [4, "c-4"],
    ]


def test_a_text_column_is_optional_at_scoring_time_and_read_as_empty_with_a_warning(
    raw_training, caplog
):
    dataset = {**DATASET, "text_columns": {"purpose_text": {}}}
    raw = raw_training.assign(purpose_text=["car", "bills", None, "home", "bills", "car"])
    champion = package(raw, dataset)
    assert champion.input_types["purpose_text"] == "text"
    assert "purpose_text" not in champion.profile.categories  # never "an unseen category"
    with caplog.at_level(logging.WARNING, logger="loan_default.applications"):
        valid, problems = check_applications(_batch(), champion)  # no purpose_text column
    assert valid["application_row"].tolist() == [1, 2, 3, 4]
    assert valid["purpose_text"].isna().all()
    assert problems.empty, "one warning for the batch, not one per application"
    said = [r.getMessage() for r in caplog.records if "purpose_text" in r.getMessage()]
    assert len(said) == 1 and "scored as if its text were empty" in said[0]
    predicted = champion.predict(None, _batch())
    assert (predicted["error"] == "").all() and predicted["probability_of_default"].notna().all()
    with_text, quiet = check_applications(_batch().assign(purpose_text="new text"), champion)
    assert quiet.empty and with_text["purpose_text"].eq("new text").all()


def test_problems_read_back_from_csv_are_summarised_whatever_their_values(tmp_path):
    """The score pipeline reads the problems table back from CSV: numbers and blanks too."""
    for values in (["1e+15", "-5000"], ["", "x"]):
        table = pd.DataFrame(
            {
                "application_row": [1, 2],
                "severity": ["warning", "error"],
                "column": ["annual_inc", "loan_amnt"],
                "value": values,
                "problem": ["far outside", "below 0"],
            }
        )
        table.to_csv(tmp_path / "errors.csv", index=False)
        back = pd.read_csv(tmp_path / "errors.csv")  # value read as float, or NaN
        rows = pd.Series([1, 2, 3])
        warned = summarise_problems(rows, back, "warning")
        assert warned.tolist()[1:] == ["", ""] and warned[0].startswith("annual_inc = ")
        assert summarise_problems(rows, back.iloc[:0], "error").tolist() == ["", "", ""]


def test_a_batch_with_numeric_and_mixed_problems_is_scored(champion):
    numeric = _batch(income=(0, 1e15), amount=(1, -5000.0))
    mixed = _batch(income=(0, 1e15), home=(1, "CASTLE"), rate=(2, "lots"))
    for batch in (numeric, mixed):
        predicted = champion.predict(None, batch)
        assert predicted.loc[0, "decision"] == "refer"
        assert (predicted["error"] != "").sum() == 1


ORDERED = block(
    "dataset",
    {
        "target": {"column": "status", "output_column": "is_default"},
        "column_types": {"rate": "percent"},
        "categorical_orders": {"grade": ["A", "B", "C"]},
    },
)


@pytest.fixture
def graded(raw_training: pd.DataFrame) -> LoanDefaultModel:
    # Training happened to see no B: a configured level, placed by the order all the same.
    raw = raw_training.assign(grade=["A", "C", "A", "A", "C", "C"]).drop(columns="paid")
    return package(raw.assign(paid=0.0), ORDERED)


def test_known_levels_in_another_case_or_spacing_are_read_as_the_level(graded):
    batch = _batch().assign(grade=["a", " b ", "C", "B"], home=["rent", "OWN ", "RENT", "OWN"])
    valid, problems = check_applications(batch, graded)
    assert valid["grade"].tolist() == ["A", "B", "C", "B"]
    assert valid["home"].tolist() == ["RENT", "OWN", "RENT", "OWN"]
    assert set(problems["severity"]) == {"warning"} and len(problems) == 3  # "OWN " parses as OWN
    assert problems["problem"].str.contains("read as the known level").all()


def test_an_unseen_level_of_an_ordered_category_is_an_error_not_a_safe_score(graded):
    valid, problems = check_applications(_batch().assign(grade=["Z", "A", "A9", "B"]), graded)
    assert valid["application_row"].tolist() == [2, 4], "B is in the configured order"
    errors = problems[problems["severity"] == "error"]
    assert errors["application_row"].tolist() == [1, 3]
    assert errors["problem"].str.contains("ordered category grade").all()


def test_an_unseen_unordered_category_is_never_safer_than_the_riskiest_known_level():
    risk = {"RENT": 0.30, "OWN": 0.10, "MORTGAGE": 0.05}

    def predict(frame: pd.DataFrame) -> np.ndarray:  # an unknown level reads as the safest
        return frame["home"].map(risk).fillna(0.01).to_numpy()

    applications = pd.DataFrame({"home": ["CASTLE", "OWN", None]})
    profile = SimpleNamespace(categories={"home": sorted(risk)})
    floored = floor_unseen_categories(
        applications, predict(applications), predict, profile, {"categorical_orders": {}}
    )
    assert floored.tolist() == [0.30, 0.10, 0.01], "only the unseen category is raised"
    rule = {"categorical_orders": {}, "unseen_categories": {"home": "as_unknown"}}
    kept = floor_unseen_categories(applications, predict(applications), predict, profile, rule)
    assert kept.tolist() == [0.01, 0.10, 0.01], "a written rule keeps the encoder's unknown"


def test_a_value_far_outside_the_training_range_is_referred_never_approved(champion):
    handle = ChampionHandle(champion, "models:/m/1", "run-1", "m", "1")
    valid, problems = check_applications(_batch(income=(0, 1e15)), champion)
    scored = score_applications(
        valid, problems, handle, block("score", {"reasons": {"count": 2, "for_approved": False}})
    )
    assert scored.loc[0, "decision"] == "refer" and "income" in scored.loc[0, "review_reason"]
    assert scored.loc[0, "reason_1"] == "", "a referral is not an adverse action"
    assert (scored.loc[1:, "review_reason"] == "").all()


def test_levels_tried_in_the_feature_space_give_the_same_floor():
    """Encoding each unseen row and each level once, then swapping the column's encoded features,
    scores exactly what encoding every row with every level scores."""
    encode = RateFeatures().transform

    def predict_encoded(features: pd.DataFrame) -> np.ndarray:
        return (features["rate"] + 0.2 * features["home_rent"]).to_numpy()

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return predict_encoded(encode(frame))

    applications = pd.DataFrame({"rate": [0.1, 0.2, 0.3], "home": ["CASTLE", "OWN", "BOAT"]})
    profile = SimpleNamespace(categories={"home": ["MORTGAGE", "OWN", "RENT"]})
    dataset = {"categorical_orders": {}}
    probability = predict(applications)
    raw = floor_unseen_categories(applications, probability, predict, profile, dataset)
    encoder = (encode, predict_encoded, RateFeatures.source_columns_)
    fast = floor_unseen_categories(applications, probability, predict, profile, dataset, encoder)
    assert fast.tolist() == raw.tolist() == pytest.approx([0.3, 0.2, 0.5])
