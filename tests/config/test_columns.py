"""One walk over the dataset settings names every column they use, with its setting and use."""

from __future__ import annotations

from loan_default.config.columns import column_references, columns_by_key, expression_columns
from loan_default.parameters import Dataset

SETTINGS = Dataset.model_validate(
    {
        "name": "toy",
        "source_file": "toy.csv",
        "target": {"column": "status", "positive": ["bad"], "negative": ["good"]},
        "date_column": "issued",
        "column_types": {"rate": "percent"},
        "encoders": {"home": "one_hot"},
        "categorical_orders": {"grade": ["A", "B"]},
        "monotonic_trends": {"dti": "ascending"},
        "sentinel_codes": {"months_since": [-1]},
        "informative_missing": {"months_since": {}},
        "bounds": {"income": {"min": 0}},
        "text_columns": {"title": {}, "desc": {}},
        "optional_text_columns": ["desc"],
        "derived_features": {
            "ratio": {"ratio": ["amount", "income"]},
            "scaled": {"expression": "amount / 1000 + bonus"},
        },
        "baseline_rules": {"high_dti": {"column": "dti", "above": 30}},
        "score_baselines": {"lender_grade": "grade"},
        "costs": {"amount_column": "amount", "loss_given_default": 0.6, "interest_margin": 0.1},
        "fairness": {
            "protected_columns": {"sex": "prohibited"},
            "audit_columns": {"state": "a proxy"},
        },
    }
).model_dump()


def test_every_setting_that_names_a_column_is_walked_with_its_use():
    found = {(r.column, r.key, r.use, r.required) for r in column_references(SETTINGS)}
    assert {
        ("status", "dataset.target.column", "table", True),
        ("issued", "dataset.date_column", "table", True),
        ("rate", "dataset.column_types", "table", True),
        ("amount", "dataset.costs.amount_column", "table", True),
        ("home", "dataset.encoders", "model_input", True),
        ("grade", "dataset.categorical_orders", "model_input", True),
        ("dti", "dataset.monotonic_trends", "model_input", True),
        ("months_since", "dataset.sentinel_codes", "model_input", True),
        ("months_since", "dataset.informative_missing", "model_input", True),
        ("income", "dataset.bounds", "model_input", True),
        ("title", "dataset.text_columns", "model_input", True),
        ("desc", "dataset.text_columns", "model_input", False),
        ("amount", "dataset.derived_features.ratio", "model_input", True),
        ("income", "dataset.derived_features.ratio", "model_input", True),
        ("dti", "dataset.baseline_rules.high_dti.column", "model_input", True),
        ("grade", "dataset.score_baselines.lender_grade", "model_input", True),
        ("sex", "dataset.fairness.protected_columns", "audit", True),
        ("state", "dataset.fairness.audit_columns", "audit", True),
    } <= found


def test_columns_by_key_groups_the_settings_of_a_column():
    keys = columns_by_key(column_references(SETTINGS), uses=("model_input",))
    assert keys["dti"] == ["dataset.monotonic_trends", "dataset.baseline_rules.high_dti.column"]
    assert "status" not in keys and "sex" not in keys


def test_expression_columns_are_the_known_columns_an_expression_mentions():
    assert expression_columns(SETTINGS, ["amount", "bonus", "other"]) == {
        "amount": ["dataset.derived_features.scaled"],
        "bonus": ["dataset.derived_features.scaled"],
    }
