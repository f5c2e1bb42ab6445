"""Above the row budget: every default and a fraction of repaid loans for training, the same
fraction of each class for test loans; weights that undo it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loan_default.spark.sampling import (
    WEIGHT_COLUMN,
    class_fractions,
    collect_sampled_rows,
    proportional_fractions,
)


def test_within_the_budget_every_row_is_kept():
    assert class_fractions({0: 800, 1: 200}, budget=1000) == {0: 1.0, 1: 1.0}


def test_above_the_budget_defaults_are_kept_and_repaid_loans_fill_the_rest():
    fractions = class_fractions({0: 9000, 1: 1000}, budget=4000)
    assert fractions == {1: 1.0, 0: pytest.approx(3000 / 9000)}


def test_defaults_above_half_the_budget_are_sampled_too():
    fractions = class_fractions({0: 5000, 1: 5000}, budget=2000)
    assert fractions == {1: pytest.approx(0.2), 0: pytest.approx(0.2)}


def test_test_loans_keep_the_same_fraction_of_each_class():
    assert proportional_fractions({0: 800, 1: 200}, budget=1000) == {0: 1.0, 1: 1.0}
    assert proportional_fractions({0: 7500, 1: 2500}, budget=2000) == {0: 0.2, 1: 0.2}


def test_weighted_sample_keeps_the_default_rate_and_amounts_unbiased(spark):
    rng = np.random.default_rng(7)
    n = 20000
    loans = pd.DataFrame({"target": (rng.uniform(size=n) < 0.12).astype(int)})
    loans["amount"] = rng.lognormal(9, 0.5, n) * (1 + loans["target"])
    rows, summary = collect_sampled_rows(spark.createDataFrame(loans), "target", 6000, seed=3)
    assert summary["rows"] == n and summary["defaults"] == loans["target"].sum()
    assert (rows["target"] == 1).sum() == loans["target"].sum()  # every default kept
    assert abs(len(rows) - 6000) < 300
    weights = rows[WEIGHT_COLUMN]
    weighted_rate = np.average(rows["target"], weights=weights)
    assert weighted_rate == pytest.approx(loans["target"].mean(), abs=0.004)
    assert rows["target"].mean() > 2 * loans["target"].mean()  # unweighted it is biased
    total = (rows["amount"] * weights).sum()
    assert total == pytest.approx(loans["amount"].sum(), rel=0.02)


def test_proportional_sample_keeps_the_default_rate_without_weights(spark):
    rng = np.random.default_rng(11)
    n = 20000
    loans = pd.DataFrame({"target": (rng.uniform(size=n) < 0.15).astype(int)})
    rows, summary = collect_sampled_rows(
        spark.createDataFrame(loans), "target", 5000, seed=5, fractions_rule=proportional_fractions
    )
    assert summary["fraction_default"] == summary["fraction_repaid"] == pytest.approx(0.25)
    assert abs(len(rows) - 5000) < 300
    assert rows["target"].mean() == pytest.approx(loans["target"].mean(), abs=0.015)
    assert rows[WEIGHT_COLUMN].sum() == pytest.approx(n, rel=0.05)
