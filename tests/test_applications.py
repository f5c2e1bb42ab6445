"""Plausibility checks on new applications, shared by the score pipeline and the pyfunc model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loan_default.applications import (
    PROBLEM_COLUMNS,
    check_applications,
    hard_bounds,
    input_types,
)
from loan_default.pipelines.score.nodes import score_applications
from loan_default.profile import build_profile
from loan_default.serving import ChampionHandle, LoanDefaultModel
from loan_default.validation import DataValidationError
from tests.modelling.standins import rate_model
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
    assert list(predicted.columns) == ["probability_of_default", "error", "warning"]
    assert np.isnan(predicted.loc[1, "probability_of_default"])
    assert predicted.loc[1, "error"] == "amount = -500.0: below 0"
    assert predicted.loc[2, "warning"].startswith("income = 1000000000000000.0: far outside")
    assert predicted.loc[[0, 2, 3], "probability_of_default"].tolist() == pytest.approx(
        [0.11, 0.15, 0.12]
    )
    assert (predicted.loc[[0, 2, 3], "error"] == "").all()


def test_identifier_columns_are_carried_to_the_scored_rows(champion):
    champion.dataset = {**DATASET, "identifier_columns": ["customer"]}
    batch = _batch(amount=(1, -500.0)).assign(customer=["c-1", "c-2", "c-3", "c-4"])
    valid, _ = check_applications(batch, champion)
    assert valid["customer"].tolist() == ["c-1", "c-3", "c-4"]
    handle = ChampionHandle(champion, "models:/m/1", "run-1", "m", "1")
    no_problems = pd.DataFrame(columns=PROBLEM_COLUMNS)
    scored = score_applications(
        valid, no_problems, handle, {"reasons": {"count": 1, "for_approved": True}}
    )
    assert scored[["application_row", "customer"]].values.tolist() == [
        [1, "c-1"],
        [3, "c-3"],
        [4, "c-4"],
    ]


def test_a_text_column_is_optional_at_scoring_time_and_read_as_empty_with_a_warning(
    raw_training,
):
    dataset = {**DATASET, "text_columns": {"purpose_text": {}}}
    raw = raw_training.assign(purpose_text=["car", "bills", None, "home", "bills", "car"])
    champion = package(raw, dataset)
    assert champion.input_types["purpose_text"] == "text"
    assert "purpose_text" not in champion.profile.categories  # never "an unseen category"
    valid, problems = check_applications(_batch(), champion)  # no purpose_text column at all
    assert valid["application_row"].tolist() == [1, 2, 3, 4]
    assert valid["purpose_text"].isna().all()
    warned = problems[problems["column"] == "purpose_text"]
    assert len(warned) == 4 and set(warned["severity"]) == {"warning"}
    assert warned["problem"].str.contains("scored as empty text").all()
    with_text, quiet = check_applications(_batch().assign(purpose_text="new text"), champion)
    assert quiet.empty and with_text["purpose_text"].eq("new text").all()
