"""Baseline heuristics: rules, ordered-category scores, the scorecard and its points."""

import numpy as np
import pandas as pd
import pytest
from optbinning import BinningProcess
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from loan_default.modelling.baselines import (
    ANY_RULE,
    APPROVE_EVERYONE,
    fixed_scores,
    make_scorecard,
    rule_rejects,
)
from loan_default.parameters import BaselineRule
from loan_default.preprocessing.binning import OptimalWoEBinning

from .synthetic import dataset_params, make_loans

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


SCORECARD = {
    "model_params": {"C": 1.0, "max_iter": 1000},
    "points": {"pdo": 40, "base_points": 500, "base_odds": 20},
}
BINNING = OptimalWoEBinning(
    exclude=("target", "issued", "flag", "loan_id"), special_codes={"other": [-99.0]}
)


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    """Synthetic loans with missing (dti) and special (other = -99) values to bin."""
    frame = make_loans(1500, seed=8)
    frame.loc[frame.index[::25], "other"] = -99.0
    return frame


@pytest.fixture(scope="module")
def scorecard(loans):
    return make_scorecard(BINNING, SCORECARD).fit(loans, loans["target"])


def test_scorecard_points_add_pdo_per_doubling_of_its_odds(loans, scorecard):
    probability = scorecard.predict_proba(loans)[:, 1]
    factor = 40 / np.log(2)
    expected = 500 - factor * np.log(20) + factor * np.log((1 - probability) / probability)
    assert scorecard.points(loans) == pytest.approx(expected, abs=1e-9)
    # The points of a loan are the sum of its attributes' points.
    attributes = scorecard.attribute_points(loans)
    assert list(attributes.columns) == ["amount", "grade", "dti", "other", "home"]
    assert attributes.sum(axis=1).to_numpy() == pytest.approx(expected, abs=1e-9)
    assert (attributes.max() <= scorecard.maximum_points()[attributes.columns] + 1e-9).all()


def test_scorecard_predicts_as_logistic_regression_on_the_binnings_woe(loans, scorecard):
    """Missing and Special values take their training WoE, as the binning's transform does."""
    woe_model = Pipeline([("woe", clone(BINNING)), ("model", LogisticRegression(max_iter=1000))])
    woe_model.fit(loans, loans["target"])
    new = make_loans(300, seed=9).drop(columns="target")
    new.loc[new.index[:30], "other"] = -99.0
    assert new["dti"].isna().any()
    assert scorecard.predict_proba(new) == pytest.approx(woe_model.predict_proba(new), abs=1e-12)


def test_scorecard_on_bins_fitted_before_equals_binning_again(loans, scorecard):
    """The features stage's binning of the same loans gives the scorecard fitted from scratch,
    without binning twice; a binning fitted on other loans is refused."""
    binning = clone(BINNING).fit(loans, loans["target"])
    reused = make_scorecard(binning, SCORECARD).fit(loans, loans["target"], binned=True)
    np.testing.assert_array_equal(reused.predict_proba(loans), scorecard.predict_proba(loans))
    np.testing.assert_array_equal(reused.points(loans), scorecard.points(loans))
    pd.testing.assert_frame_equal(reused.scorecard_.table(), scorecard.scorecard_.table())
    assert type(reused.scorecard_.binning_process_) is BinningProcess  # pickles as plain optbinning
    other = clone(BINNING).fit(loans.iloc[:1000], loans["target"].iloc[:1000])
    with pytest.raises(ValueError, match="binning fitted on the same loans"):
        make_scorecard(other, SCORECARD).fit(loans, loans["target"], binned=True)
