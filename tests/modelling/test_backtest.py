"""Statistical backtests of PDs, checked against values worked out by hand."""

import math

import numpy as np
import pytest
from scipy import integrate
from sklearn.metrics import roc_auc_score

from loan_default.modelling import backtest
from loan_default.validation import ConfigurationError, DataValidationError


def test_jeffreys_matches_the_closed_form_for_one_loan():
    # D=0, N=1: Beta(1/2, 3/2) has cdf (2/pi)(asin(sqrt p) + sqrt(p(1-p))); at p=1/2: 1/2 + 1/pi
    assert backtest.jeffreys_p_value(0, 1, 0.5) == pytest.approx(0.5 + 1 / math.pi, abs=1e-12)
    # D=1, N=1 is its mirror image
    assert backtest.jeffreys_p_value(1, 1, 0.5) == pytest.approx(0.5 - 1 / math.pi, abs=1e-12)
    p = 0.1
    by_hand = 2 / math.pi * (math.asin(math.sqrt(p)) + math.sqrt(p * (1 - p)))
    assert backtest.jeffreys_p_value(0, 1, p) == pytest.approx(by_hand, abs=1e-12)


def test_jeffreys_matches_the_integrated_posterior_and_flags_too_many_defaults():
    defaults, loans, pd_estimate = 7, 200, 0.02
    a, b = defaults + 0.5, loans - defaults + 0.5
    log_norm = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)

    def density(x):
        return math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_norm)

    by_integral = integrate.quad(density, 0, pd_estimate, epsabs=1e-13)[0]
    assert backtest.jeffreys_p_value(defaults, loans, pd_estimate) == pytest.approx(
        by_integral, rel=1e-7
    )
    # 5% observed against a 2% PD: the PD is too low; against an 8% PD it is conservative
    values = backtest.jeffreys_p_value([10, 10], [200, 200], [0.02, 0.08])
    assert values[0] < 0.05
    assert values[1] > 0.5


def test_jeffreys_rejects_impossible_counts():
    with pytest.raises(DataValidationError, match="defaults"):
        backtest.jeffreys_p_value(5, 3, 0.1)
    with pytest.raises(DataValidationError, match="probabilities"):
        backtest.jeffreys_p_value(1, 3, 1.5)


def test_binomial_test_is_the_upper_tail_of_the_binomial():
    defaults, loans, p = 5, 100, 0.02
    upper_tail = 1 - sum(
        math.comb(loans, k) * p**k * (1 - p) ** (loans - k) for k in range(defaults)
    )
    result = backtest.binomial_test(defaults, loans, p)
    assert result.p_value == pytest.approx(upper_tail, rel=1e-9)
    assert result.statistic == pytest.approx(0.03)
    assert backtest.binomial_test(0, 100, 0.05, "two-sided").p_value < 0.05
    assert backtest.binomial_test(0, 100, 0.05).p_value == pytest.approx(1.0)
    with pytest.raises(ConfigurationError, match="alternative"):
        backtest.binomial_test(1, 10, 0.1, "less")


def test_brier_and_spiegelhalter_by_hand():
    assert backtest.brier_score([1, 0], [0.25, 0.25]) == pytest.approx((0.5625 + 0.0625) / 2)
    # numerator 0.75*0.5 - 0.25*0.5 = 0.25; variance 2 * 0.25 * 0.1875 = 0.09375
    z, p_value = backtest.spiegelhalter_test([1, 0], [0.25, 0.25])
    assert z == pytest.approx(0.25 / math.sqrt(0.09375))
    assert p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2)))))


def test_spiegelhalter_and_hosmer_lemeshow_separate_good_from_bad_pds():
    rng = np.random.default_rng(3)
    truth = rng.uniform(0.01, 0.4, 20_000)
    y = (rng.uniform(size=truth.size) < truth).astype(int)
    assert backtest.spiegelhalter_test(y, truth).p_value > 0.01
    assert backtest.hosmer_lemeshow_test(y, truth, 10, dof_adjustment=0).p_value > 0.01
    too_low = truth * 0.7
    assert backtest.spiegelhalter_test(y, too_low).p_value < 1e-6
    assert backtest.hosmer_lemeshow_test(y, too_low, 10).p_value < 1e-6


def test_hosmer_lemeshow_by_hand_with_grade_labels():
    y = [1, 0, 0, 0, 1, 1]
    p = [0.1, 0.1, 0.1, 0.1, 0.5, 0.5]
    # group A: (1 - 0.4)^2 / (0.4 * 0.9) = 1; group B: (2 - 1)^2 / (1 * 0.5) = 2
    statistic, p_value = backtest.hosmer_lemeshow_test(y, p, list("AAAABB"), dof_adjustment=0)
    assert statistic == pytest.approx(3.0)
    assert p_value == pytest.approx(math.exp(-1.5))


def test_herfindahl_both_forms():
    assert backtest.herfindahl_sum_of_squares([10, 10, 10, 10]) == pytest.approx(0.25)
    assert backtest.herfindahl_cv([10, 10, 10, 10]) == pytest.approx(0.0)
    assert backtest.herfindahl_cv([5, 0, 0, 0]) == pytest.approx(1.0)
    assert backtest.herfindahl_sum_of_squares([3, 1]) == pytest.approx(0.625)
    assert backtest.herfindahl_cv([3, 1]) == pytest.approx(1 + math.log(0.625) / math.log(2))


def _delong_by_pairs(y, score):
    positives, negatives = score[y == 1], score[y == 0]
    psi = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :]
    )
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return math.sqrt(v10.var(ddof=1) / len(positives) + v01.var(ddof=1) / len(negatives))


def test_auc_and_its_delong_standard_error_match_the_pairwise_definition():
    rng = np.random.default_rng(5)
    y = (rng.uniform(size=400) < 0.3).astype(int)
    score = np.round(rng.normal(size=400) + y, 1)  # rounded: ties on purpose
    assert backtest.auc(y, score) == pytest.approx(roc_auc_score(y, score))
    assert backtest.auc_standard_error(y, score) == pytest.approx(
        _delong_by_pairs(y, score), rel=1e-10
    )
    with pytest.raises(DataValidationError, match="at least 2 defaults"):
        backtest.auc_standard_error([1, 0, 0], [0.3, 0.2, 0.1])


def test_auc_test_is_the_ecb_formula():
    statistic, p_value = backtest.auc_test(0.75, 0.70, 0.02)
    assert statistic == pytest.approx(2.5)
    assert p_value == pytest.approx(0.0062096653, rel=1e-6)
    assert backtest.auc_test(0.70, 0.75, 0.02).p_value > 0.99
    with pytest.raises(DataValidationError, match="standard error"):
        backtest.auc_test(0.7, 0.7, 0.0)


def test_traffic_lights_and_codes_with_configurable_thresholds():
    p = np.array([0.2, 0.03, 0.005, np.nan])
    assert backtest.traffic_light(p, (0.05, 0.01)).tolist() == ["green", "amber", "red", "n/a"]
    codes = backtest.traffic_light_code(p, (0.05, 0.01))
    assert codes[:3].tolist() == [0.0, 1.0, 2.0] and np.isnan(codes[3])
    assert backtest.traffic_light(0.03, (0.10, 0.05)) == "red"
    assert backtest.traffic_light_code(0.07, backtest.LightThresholds(0.10, 0.05)) == 1.0
    assert backtest.worst_light(["green", "n/a", "amber"]) == "amber"
    with pytest.raises(ConfigurationError, match="red <= amber"):
        backtest.traffic_light(0.5, (0.01, 0.05))


def test_grade_backtest_table():
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    pd_estimate = np.array([0.05, 0.05, 0.05, 0.05, 0.5, 0.5, 0.5, 0.5])
    table = backtest.grade_backtest(y, pd_estimate, [1, 1, 1, 1, 2, 2, 2, 2], (0.05, 0.01))
    assert table["rating_grade"].tolist() == [1, 2]
    assert table["loans"].tolist() == [4, 4]
    assert table["defaults"].tolist() == [1, 3]
    assert table["observed_default_rate"].tolist() == [0.25, 0.75]
    assert table["jeffreys_p_value"].iloc[0] == pytest.approx(backtest.jeffreys_p_value(1, 4, 0.05))
    assert set(table["traffic_light"]) <= {"green", "amber", "red"}


def test_two_proportion_test_by_hand():
    # 10/100 against 20/100: pooled 0.15, spread sqrt(0.15 * 0.85 * 0.02) = 0.0505
    z, p_value = backtest.two_proportion_test(10, 100, 20, 100)
    assert z == pytest.approx(0.1 / math.sqrt(0.15 * 0.85 * 0.02))
    assert p_value == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)))
    assert backtest.two_proportion_test(20, 100, 10, 100).p_value > 0.5
    assert backtest.two_proportion_test(0, 10, 0, 10).p_value == 1.0
