"""Baseline heuristics: rules, ordered-category scores, scorecard points."""

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling.baselines import (
    ANY_RULE,
    APPROVE_EVERYONE,
    fixed_scores,
    rule_rejects,
    to_points,
)
from loan_default.parameters import BaselineRule

from .synthetic import dataset_params

LOANS = pd.DataFrame(
    {
        "grade": pd.array(["A", "D", "C", None], dtype="str"),
        "dti": [10.0, 35.0, np.nan, 31.0],
    }
)


def _rule(**values) -> dict:
    return BaselineRule.model_validate(values).model_dump(by_alias=True)


def test_rules_reject_by_membership_and_by_limit():
    dataset = dataset_params()
    assert rule_rejects(LOANS, _rule(column="grade", **{"in": ["D"]}), dataset).tolist() == [
        False, True, False, False,
    ]  # fmt: skip
    assert rule_rejects(LOANS, _rule(column="dti", above=30), dataset).tolist() == [
        False, True, False, True,
    ]  # fmt: skip
    # `above` on an ordered category compares positions in categorical_orders.
    assert rule_rejects(LOANS, _rule(column="grade", above="B"), dataset).tolist() == [
        False, True, True, False,
    ]  # fmt: skip


def test_fixed_scores_order_categories_and_fill_with_training_median():
    dataset = dataset_params()
    scores = fixed_scores(LOANS, np.array([0, 1, 0, 1]), LOANS, dataset)
    assert scores["grade_score"].tolist() == [0.0, 3.0, 2.0, 2.0]  # missing -> median of 0,3,2
    assert scores["dti_score"][2] == pytest.approx(31.0)
    assert scores[APPROVE_EVERYONE].tolist() == [0.5] * 4
    assert scores[ANY_RULE].tolist() == [0.0, 1.0, 0.0, 1.0]


def test_points_add_pdo_per_doubling_of_the_odds():
    points = {"pdo": 20, "base_points": 600, "base_odds": 50}
    at_base = to_points(np.array([1 / 51]), points)[0]
    doubled = to_points(np.array([1 / 101]), points)[0]
    assert at_base == pytest.approx(600)
    assert doubled - at_base == pytest.approx(20)
