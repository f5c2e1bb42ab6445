"""The rating nodes: the scale is fitted on the champion's out-of-fold training PDs only, and
the backtest grades the test loans on it and reports Jeffreys per grade and overall checks."""

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling.calibration import choose_calibrator
from loan_default.pipelines.rating.nodes import backtest_ratings, fit_rating_scale
from tests.params import block

DATASET = block("dataset", {"target": {"output_column": "default"}})
CHAMPION = {"configuration": "m/s"}


def _predictions(pd_values, folds=None):
    n = len(pd_values)
    return pd.DataFrame(
        {
            "configuration": "m/s",
            "repeat": 0,
            "fold": np.zeros(n, dtype=int) if folds is None else folds,
            "row": np.arange(n),
            "score": pd_values,
        }
    )


@pytest.fixture(scope="module")
def loans():
    rng = np.random.default_rng(4)
    train_pd, test_pd = rng.beta(1.2, 7, 8000), rng.beta(1.2, 7, 3000)
    train = pd.DataFrame({"default": (rng.uniform(size=8000) < train_pd).astype(int)})
    test = pd.DataFrame({"default": (rng.uniform(size=3000) < test_pd).astype(int)})
    return train_pd, train, test_pd, test


def test_the_scale_reads_only_the_champions_out_of_fold_pds(loans):
    train_pd, train, _, _ = loans
    cv = pd.concat(
        [_predictions(train_pd), _predictions(np.full(8000, 0.5)).assign(configuration="x/y")]
    )
    scale = fit_rating_scale(cv, CHAMPION, train, DATASET, block("rating"))
    assert 2 <= scale.grades <= 8 and sum(scale.loans) == 8000
    assert np.all(np.diff(scale.grade_pd) > 0)


def test_backtest_table_metrics_and_lights(loans):
    train_pd, train, test_pd, test = loans
    settings = block("rating")
    scale = fit_rating_scale(_predictions(train_pd), CHAMPION, train, DATASET, settings)
    folds = np.arange(8000) * 4 // 8000
    calibrator = choose_calibrator(_predictions(train_pd, folds), train["default"].to_numpy())
    table, summary, metrics = backtest_ratings(
        _predictions(test_pd), CHAMPION, {"m/s": calibrator}, scale, test, DATASET, settings
    )
    assert table["rating_grade"].tolist() == list(range(1, scale.grades + 1))
    assert table["loans"].sum() == 3000 and table["defaults"].sum() == test["default"].sum()
    expected = {"loans", "defaults", "mean_pd", "observed_default_rate", "jeffreys_p_value"}
    assert expected <= set(table.columns)
    assert set(table["traffic_light"]) <= {"green", "amber", "red"}
    # The PDs are the true probabilities: nearly every grade passes.
    assert metrics["calibration.jeffreys_not_red_share"]["value"] >= 0.75
    assert metrics["calibration.binomial_p_value"]["value"] > 0.01
    assert metrics["calibration.grades"]["value"] == scale.grades
    assert "calibration.validation_log_loss_none" in metrics
    assert summary.set_index("check").loc["method", "value"] == (calibrator.method or "none")


def test_pds_far_too_low_turn_the_lights_red(loans):
    train_pd, train, test_pd, test = loans
    settings = block("rating")
    scale = fit_rating_scale(_predictions(train_pd), CHAMPION, train, DATASET, settings)
    calibrator = choose_calibrator(_predictions(train_pd), train["default"].to_numpy())
    table, _, metrics = backtest_ratings(
        _predictions(test_pd * 0.5), CHAMPION, {"m/s": calibrator}, scale, test, DATASET, settings
    )
    assert (table["traffic_light"] == "red").mean() >= 0.5
    assert metrics["calibration.traffic_light"]["value"] == 2.0
    assert metrics["calibration.binomial_p_value"]["value"] < 1e-6


def test_a_scale_merged_into_one_grade_still_backtests():
    rng = np.random.default_rng(9)
    train_pd = rng.uniform(0.1, 0.2, 600)
    train = pd.DataFrame({"default": (rng.uniform(size=600) < 0.15).astype(int)})
    scale = fit_rating_scale(_predictions(train_pd), CHAMPION, train, DATASET, block("rating"))
    assert scale.grades == 1
    calibrator = choose_calibrator(_predictions(train_pd), train["default"].to_numpy())
    table, summary, metrics = backtest_ratings(
        _predictions(train_pd), CHAMPION, {"m/s": calibrator}, scale, train, DATASET,
        block("rating"),
    )  # fmt: skip
    assert table["rating_grade"].tolist() == [1] and table["loans"].tolist() == [600]
    assert "calibration.herfindahl_index" not in metrics, "undefined for one grade: not logged"
    assert metrics["calibration.herfindahl_sum_of_squares"]["value"] == 1.0
