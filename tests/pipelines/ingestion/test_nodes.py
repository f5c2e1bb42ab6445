"""Ingestion nodes: validation errors, target mapping, column selection, derived features."""

import pandas as pd
import pytest

from loan_default.parameters import Dataset, validate_parameters
from loan_default.pipelines.ingestion.nodes import (
    add_derived_features,
    derive_target,
    handle_duplicates,
    parse_raw_loans,
    select_application_columns,
)
from loan_default.validation import ConfigurationError, DataValidationError
from tests.params import block

DATASET = block(
    "dataset",
    {
        "name": "toy",
        "source_file": "data/01_raw/toy.csv",
        "target": {
            "column": "status",
            "output_column": "is_default",
            "positive": ["Charged Off"],
            "negative": ["Fully Paid"],
            "policy_exceptions": {
                "action": "keep",
                "flag_column": "outside_policy",
                "positive": ["Policy:Charged Off"],
                "negative": ["Policy:Fully Paid"],
            },
            "ignore": ["Current"],
        },
        "date_column": "issued",
        "date_formats": ["%Y-%m-%d", "%b-%Y"],
        "column_types": {"rate": "percent", "term": "months", "issued": "date", "opened": "date"},
        "max_unparsable_fraction": 0.0,
        "leakage_columns": {"paid_*": "received after issue", "recoveries": "after charge-off"},
        "identifier_columns": ["id"],
        "excluded_columns": {"notes": "free text"},
        "derived_features": {
            "history_months": {"months_between": ["opened", "issued"]},
            "amount_to_income": {"ratio": ["amount", "income"]},
            "payment_to_monthly_income": {"ratio": ["payment", "income"], "scale": 12},
            "amount_plus_payment": {"expression": "amount + payment"},
        },
    },
)


def parsed_only(raw: pd.DataFrame, dataset: dict) -> pd.DataFrame:
    """The parsed loans of parse_raw_loans (its second output is the resolved column types)."""
    return parse_raw_loans(raw, dataset)[0]


@pytest.fixture
def raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [None] * 5,
            "status": ["Fully Paid", "Charged Off", "Current", "Policy:Charged Off", "Fully Paid"],
            "rate": ["10.5%", "0.2", "12%", "15%", "9%"],
            "term": ["36 months", "60", "36 months", "36 months", "60 months"],
            "issued": ["Jan-2010", "2010-06-01", "Feb-2011", "Mar-2009", "Dec-2011"],
            "opened": ["Jan-2000", "2005-06-01", "Feb-2001", "Mar-1999", "Dec-2010"],
            "amount": [1000.0, 2000.0, 3000.0, 4000.0, 5000.0],
            "income": [10000.0, 0.0, 30000.0, 40000.0, 50000.0],
            "payment": [100.0, 200.0, 300.0, 400.0, 500.0],
            "paid_total": [1100.0, 300.0, 100.0, 50.0, 5500.0],
            "recoveries": [0.0, 10.0, 0.0, 5.0, 0.0],
            "notes": ["a", "b", "c", "d", "e"],
            "constant": ["x"] * 5,
            "empty": [None] * 5,
        }
    )


def test_parse_converts_configured_columns(raw):
    parsed = parsed_only(raw, DATASET)
    assert parsed["rate"].tolist() == pytest.approx([0.105, 0.2, 0.12, 0.15, 0.09])
    assert parsed["term"].tolist() == [36, 60, 36, 36, 60]
    assert parsed["issued"].iloc[0] == pd.Timestamp("2010-01-01")


def test_empty_file_is_an_error_naming_the_file(raw):
    with pytest.raises(DataValidationError, match=r"toy\.csv.*no rows"):
        parsed_only(raw.iloc[0:0], DATASET)


def test_missing_target_column_is_named(raw):
    with pytest.raises(DataValidationError, match=r"toy\.csv: target column 'status' is missing"):
        parsed_only(raw.drop(columns="status"), DATASET)


def test_missing_required_column_is_named(raw):
    with pytest.raises(DataValidationError, match=r"required column.*\['term'\]"):
        parsed_only(raw.drop(columns="term"), DATASET)


def test_unparsable_values_name_column_count_and_examples(raw):
    raw.loc[[1, 3], "rate"] = ["high", "n.a."]
    with pytest.raises(DataValidationError) as error:
        parsed_only(raw, DATASET)
    message = str(error.value)
    assert "toy.csv" in message and "'rate'" in message and "2 of 5" in message
    assert "'high'" in message


def test_unparsable_values_within_tolerance_become_missing(raw):
    raw.loc[1, "rate"] = "high"
    parsed = parsed_only(raw, DATASET | {"max_unparsable_fraction": 0.25})
    assert parsed["rate"].isna().sum() == 1


def test_target_maps_labels_and_drops_unfinished_loans(raw):
    labelled = derive_target(parsed_only(raw, DATASET), DATASET)
    assert labelled["is_default"].tolist() == [0, 1, 1, 0]
    assert labelled["outside_policy"].tolist() == [0, 0, 1, 0]
    assert "status" not in labelled.columns


def test_policy_exceptions_can_be_dropped(raw):
    target = {**DATASET["target"]}
    target["policy_exceptions"] = {**target["policy_exceptions"], "action": "drop"}
    labelled = derive_target(parsed_only(raw, DATASET), DATASET | {"target": target})
    assert labelled["is_default"].tolist() == [0, 1, 0]
    assert "outside_policy" not in labelled.columns


def test_unknown_target_label_is_an_error(raw):
    raw.loc[0, "status"] = "Written Off"
    with pytest.raises(DataValidationError, match=r"'status'.*1 rows.*'Written Off'"):
        derive_target(parsed_only(raw, DATASET), DATASET)


def test_single_class_target_is_an_error(raw):
    parsed = parsed_only(raw, DATASET)
    parsed["status"] = "Fully Paid"
    with pytest.raises(DataValidationError, match="single class"):
        derive_target(parsed, DATASET)


def test_configured_label_that_never_occurs_names_the_key(raw):
    raw["status"] = "Fully Paid"
    with pytest.raises(ConfigurationError, match=r"dataset.target.positive.*'Charged Off'.*never"):
        parsed_only(raw, DATASET)


def test_configured_column_missing_from_the_file_names_the_key(raw):
    dataset = DATASET | {"baseline_rules": {"reject_high": {"column": "grade", "in": ["G"]}}}
    with pytest.raises(
        ConfigurationError, match=r"dataset.baseline_rules.reject_high.column: 'grade'"
    ):
        parsed_only(raw, dataset)


def test_date_column_that_does_not_parse_points_at_the_formats(raw):
    raw.loc[0, "issued"] = "2010/01/15"
    with pytest.raises(DataValidationError, match=r"'issued' \(date\).*dataset.date_formats"):
        parsed_only(raw, DATASET)


def test_derived_features(raw):
    enriched = add_derived_features(parsed_only(raw, DATASET), DATASET)
    assert enriched["history_months"].iloc[0] == 120
    assert enriched["amount_to_income"].iloc[0] == pytest.approx(0.1)
    assert enriched["payment_to_monthly_income"].iloc[0] == pytest.approx(0.12)
    assert pd.isna(enriched["amount_to_income"].iloc[1]), "division by zero income is missing"
    assert enriched["amount_plus_payment"].iloc[2] == 3300


def test_unknown_derived_feature_kind_is_a_configuration_error():
    dataset = {**DATASET, "derived_features": {"bad": {"product": ["amount", "income"]}}}
    with pytest.raises(ConfigurationError, match=r"dataset\.derived_features\.bad\.product"):
        validate_parameters({"dataset": dataset})


def test_selection_drops_leakage_ids_excluded_empty_constant_and_raw_dates(raw):
    loans = add_derived_features(derive_target(parsed_only(raw, DATASET), DATASET), DATASET)
    selected, audit = select_application_columns(loans, DATASET)
    reasons = dict(zip(audit["column"], audit["reason"], strict=True))
    assert reasons["paid_total"].startswith("leakage: received after issue")
    assert reasons["recoveries"].startswith("leakage")
    assert reasons["id"] == "identifier"
    assert reasons["notes"].startswith("excluded")
    assert reasons["empty"].startswith("empty")
    assert reasons["constant"].startswith("constant")
    assert reasons["opened"].startswith("raw date")
    assert set(selected.columns).isdisjoint(reasons)
    # The target, the split date and the policy flag are kept beside the features.
    assert {"is_default", "issued", "outside_policy", "rate", "history_months"} <= set(
        selected.columns
    )


def test_integer_coded_targets_match_labels_written_as_numbers(raw):
    raw["status"] = [0, 1, 1, 0, 1]
    target = {"column": "status", "output_column": "is_default", "positive": [1], "negative": [0]}
    dataset = block("dataset", {**DATASET, "target": target})
    labelled = derive_target(parsed_only(raw, dataset), dataset)
    assert labelled["is_default"].tolist() == [0, 1, 1, 0, 1]


def test_unlisted_percent_and_date_text_and_the_date_column_get_their_parsers():
    raw = pd.DataFrame(
        {
            "status": ["Fully Paid", "Charged Off"] * 3,
            "applied": ["2019-03-15", "2019-04-01", "2020-01-31"] * 2,
            "rate": ["12.5%", "7%", "30.25 %"] * 2,
            "job": ["nurse", "teacher 2", "driver"] * 2,
        }
    )
    dataset = block(
        "dataset",
        {"target": DATASET["target"], "date_column": "applied", "date_formats": ["%Y-%m-%d"]},
    )
    parsed, types = parse_raw_loans(raw, dataset)
    assert types == {"applied": "date", "rate": "percent"}, "free text stays a category"
    assert parsed["rate"].tolist()[:3] == pytest.approx([0.125, 0.07, 0.3025])
    assert pd.api.types.is_datetime64_any_dtype(parsed["applied"])


def loans_with_copies(n_rows: int, copies: int) -> pd.DataFrame:
    """`n_rows` distinct loans, then exact copies of the first `copies` of them."""
    loans = pd.DataFrame({"id": range(n_rows), "amount": [1000.0 + i for i in range(n_rows)]})
    return pd.concat([loans, loans.head(copies)], ignore_index=True)


def duplicates_rule(**rule) -> Dataset:
    return DATASET | {"duplicates": {**DATASET.duplicates.plain(), **rule}}


def test_a_handful_of_exact_copies_is_dropped_with_a_warning_giving_count_and_share(caplog):
    with caplog.at_level("WARNING"):
        unique, summary = handle_duplicates(loans_with_copies(4452, 2), DATASET)
    assert len(unique) == 4452 and not unique.duplicated().any()
    assert summary == {
        "action": "error",
        "rows": 4454,
        "exact_duplicate_rows": 2,
        "exact_share": round(2 / 4454, 6),
        "repeated_identifier_rows": {"id": 0},
        "dropped_rows": 2,
    }
    assert "data/01_raw/toy.csv: 2 exact duplicate row(s)" in caplog.text
    assert (
        "0.0449% of the 4,454 rows, within dataset.duplicates.max_exact_share (1%)" in caplog.text
    )
    assert "Dropped 2 row(s), kept the first copy." in caplog.text


def test_a_material_share_of_exact_copies_stops_naming_file_share_and_setting():
    with pytest.raises(DataValidationError) as error:
        handle_duplicates(loans_with_copies(100, 3), DATASET)
    message = str(error.value)
    assert message.startswith("data/01_raw/toy.csv: 3 exact duplicate row(s)")
    assert "2.91% of the 103 rows, above dataset.duplicates.max_exact_share (1%)" in message
    assert "raise dataset.duplicates.max_exact_share" in message
    assert "dataset.duplicates.action: drop" in message
    unique, summary = handle_duplicates(
        loans_with_copies(100, 3), duplicates_rule(max_exact_share=0.05)
    )
    assert len(unique) == 100 and summary["dropped_rows"] == 3


def test_max_exact_share_zero_stops_on_a_single_copy():
    with pytest.raises(DataValidationError, match=r"1 exact duplicate row.*above dataset"):
        handle_duplicates(loans_with_copies(1000, 1), duplicates_rule(max_exact_share=0))


def test_an_identifier_repeated_with_other_content_always_stops_unless_dropping():
    loans = loans_with_copies(1000, 0)
    loans.loc[999, "id"] = 0  # one loan of 1,000 reuses another's identifier
    with pytest.raises(DataValidationError) as error:
        handle_duplicates(loans, DATASET)
    assert "1 more row(s) repeating a 'id' value [0]. An identifier" in str(error.value)
    assert "two versions of one loan" in str(error.value)
    unique, summary = handle_duplicates(loans, duplicates_rule(action="drop"))
    assert len(unique) == 999 and summary["repeated_identifier_rows"] == {"id": 1}
    assert summary["dropped_rows"] == 1 and summary["action"] == "drop"


def test_drop_keeps_the_first_copy_whatever_the_share():
    unique, summary = handle_duplicates(loans_with_copies(10, 10), duplicates_rule(action="drop"))
    assert unique["id"].tolist() == list(range(10))
    assert summary["exact_duplicate_rows"] == summary["dropped_rows"] == 10
    assert summary["exact_share"] == 0.5


def test_max_exact_share_is_a_fraction():
    with pytest.raises(ConfigurationError, match=r"dataset\.duplicates\.max_exact_share"):
        written = DATASET.plain() | {"duplicates": {"max_exact_share": 5}}
        validate_parameters({"dataset": written})
