"""The master scale: monotone PD bands, a minimum share per grade, distinct neighbours."""

import numpy as np
import pytest

from loan_default.modelling import backtest
from loan_default.modelling.rating import MasterScale, fit_master_scale


def _loans(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    probability = np.clip(rng.beta(1.2, 7, n), 0.001, 0.99)
    y = (rng.uniform(size=n) < probability).astype(int)
    return probability, y


def test_bands_are_monotone_hold_the_minimum_share_and_neighbours_differ():
    probability, y = _loans()
    scale = fit_master_scale(probability, y, grades=8, min_share=0.05, distinct_at=0.05)
    table = scale.table()
    assert 2 <= scale.grades <= 8
    assert np.all(np.diff(scale.bounds) > 0)
    assert np.all(np.diff(table["grade_pd"]) > 0)
    assert np.all(np.diff(table["observed_default_rate"]) > 0)
    assert table["share"].min() >= 0.05
    assert table["loans"].sum() == len(y)
    for low, high in zip(table.index[:-1], table.index[1:], strict=True):
        test = backtest.two_proportion_test(
            table.loc[low, "defaults"], table.loc[low, "loans"],
            table.loc[high, "defaults"], table.loc[high, "loans"],
        )  # fmt: skip
        assert test.p_value <= 0.05
    grades = scale.grade(probability)
    assert grades.min() == 1 and grades.max() == scale.grades
    assert np.all(np.diff(grades[np.argsort(probability)]) >= 0), "higher PD, never a better grade"


def test_grades_without_signal_are_merged():
    rng = np.random.default_rng(1)
    probability = rng.uniform(0.1, 0.2, 5_000)
    y = (rng.uniform(size=5_000) < 0.15).astype(int)  # outcomes ignore the PD
    scale = fit_master_scale(probability, y, grades=8, min_share=0.03, distinct_at=0.05)
    assert scale.grades <= 2


def test_a_small_grade_is_merged_into_a_neighbour():
    probability, y = _loans(seed=2)
    scale = fit_master_scale(probability, y, grades=10, min_share=0.2, distinct_at=0.5)
    assert min(scale.loans) / len(y) >= 0.2
    assert scale.grades <= 5


def test_grade_uses_half_open_bands():
    scale = MasterScale(bounds=(0.05, 0.1), grade_pd=(0.02, 0.07, 0.2), loans=(5, 5, 5),
                        defaults=(0, 1, 2))  # fmt: skip
    assert scale.grade([0.0, 0.0499, 0.05, 0.0999, 0.1, 1.0]).tolist() == [1, 1, 2, 2, 3, 3]
    assert scale.table()["pd_upper"].tolist() == [0.05, 0.1, 1.0]


def test_fitting_needs_matching_outcomes():
    with pytest.raises(Exception, match="out-of-fold PDs"):
        fit_master_scale(np.array([0.1, 0.2]), np.array([1]), 5, 0.05, 0.05)
