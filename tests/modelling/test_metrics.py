"""Metrics and thresholds against hand computation on tiny examples."""

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling.metrics import decision_metrics, exposures, ks_statistic, score_metrics
from loan_default.modelling.thresholds import choose_threshold
from loan_default.validation import ConfigurationError

COSTS = {"loss_given_default": 0.5, "interest_margin": 0.1}


def test_ks_matches_hand_computation():
    # Defaults score 0.4, 0.8, 0.9; repaid 0.1, 0.2, 0.5. At 0.2: CDF repaid 2/3, defaults 0.
    y = np.array([1, 1, 1, 0, 0, 0])
    score = np.array([0.4, 0.8, 0.9, 0.1, 0.2, 0.5])
    assert ks_statistic(y, score) == pytest.approx(2 / 3)
    assert ks_statistic(y, 1 - score) == pytest.approx(2 / 3)


def test_expected_cost_and_approval_rate_match_hand_computation():
    y = np.array([1, 1, 0, 0, 0])
    reject = np.array([True, False, True, False, False])
    amounts = np.array([100.0, 200.0, 300.0, 400.0, 500.0])
    metrics = decision_metrics(y, reject, amounts, COSTS)
    # Missed default: 200 x 0.5 = 100. Rejected good loan: 300 x 0.1 = 30.
    assert metrics["expected_cost_total"] == pytest.approx(130.0)
    assert metrics["expected_cost_per_loan"] == pytest.approx(26.0)
    assert metrics["approval_rate"] == pytest.approx(3 / 5)
    assert metrics["precision"] == pytest.approx(1 / 2)
    assert metrics["recall"] == pytest.approx(1 / 2)
    assert metrics["accuracy"] == pytest.approx(3 / 5)


def test_null_amount_column_counts_one_per_loan():
    loans = pd.DataFrame({"amount": [5.0, np.nan]})
    assert exposures(loans, {"amount_column": None}).tolist() == [1.0, 1.0]
    assert exposures(loans, {"amount_column": "amount"}).tolist() == [5.0, 5.0]


def test_approve_everyone_has_recall_zero_but_high_accuracy():
    y = np.array([0] * 17 + [1] * 3)
    prior = np.full(len(y), y.mean())
    metrics = score_metrics(y, prior, threshold=1.0, amounts=np.ones(len(y)), costs=COSTS)
    assert metrics["recall"] == 0.0
    assert metrics["approval_rate"] == 1.0
    assert metrics["accuracy"] == pytest.approx(0.85)
    assert metrics["roc_auc"] == pytest.approx(0.5)


def test_min_cost_threshold_equals_brute_force():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 60)
    score = rng.uniform(size=60).round(2)
    amounts = rng.uniform(1, 10, 60)
    chosen = choose_threshold(y, score, amounts, COSTS, "min_expected_cost")
    candidates = np.r_[np.unique(score), np.inf]
    costs = [
        decision_metrics(y, score >= t, amounts, COSTS)["expected_cost_total"] for t in candidates
    ]
    best = decision_metrics(y, score >= chosen, amounts, COSTS)["expected_cost_total"]
    assert best == pytest.approx(min(costs))


def test_max_f1_threshold_equals_brute_force():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 50)
    score = rng.uniform(size=50)
    chosen = choose_threshold(y, score, np.ones(50), COSTS, "max_f1")
    f1 = [decision_metrics(y, score >= t, np.ones(50), COSTS)["f1"] for t in np.unique(score)]
    assert decision_metrics(y, score >= chosen, np.ones(50), COSTS)["f1"] == pytest.approx(max(f1))


def test_unknown_threshold_objective_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="min_expected_cost"):
        choose_threshold(np.array([0, 1]), np.array([0.1, 0.9]), np.ones(2), COSTS, "max_profit")
