"""The CV engine: resampling sees training-fold rows only, one preprocessing fit per fold."""

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling import registry
from loan_default.modelling.cross_validation import cross_validate_grid, make_folds
from loan_default.modelling.registry import StrategyEntry, build_grid

from .standins import StandInPreprocessor
from .synthetic import make_loans, training_params


class SpySampler:
    """A resampler that records which loans it was shown, and returns them unchanged."""

    seen: list[set[float]] = []

    def fit_resample(self, X: pd.DataFrame, y):
        SpySampler.seen.append(set(X["loan_id"]))
        return X, y


class CountingPreprocessor(StandInPreprocessor):
    """Counts its fits across clones."""

    fits = 0

    def fit(self, X, y=None):
        CountingPreprocessor.fits += 1
        return super().fit(X, y)


@pytest.fixture
def loans() -> pd.DataFrame:
    return make_loans(300, seed=1)


def _run(loans, params, preprocessor=None):
    preprocessor = preprocessor or StandInPreprocessor(meta=("target", "issued", "flag"))
    y = loans["target"].to_numpy()
    return cross_validate_grid(
        loans, y, preprocessor, build_grid(params), params["cv"], params["random_state"], 1
    )


def test_resampler_only_sees_training_fold_rows(loans, monkeypatch):
    monkeypatch.setitem(
        registry.STRATEGIES, "spy", StrategyEntry(sampler=lambda p, s: SpySampler())
    )
    SpySampler.seen = []
    params = training_params()
    params["models"] = {"logistic_regression": params["models"]["logistic_regression"]}
    params["strategies"] = {"spy": {"strategy": "spy", "params": {}, "threshold": None}}
    _run(loans, params)
    folds = list(make_folds(loans["target"].to_numpy(), params["cv"]))
    assert len(SpySampler.seen) == len(folds)
    for seen, (_, _, fit_rows, valid_rows) in zip(SpySampler.seen, folds, strict=True):
        assert seen == set(loans["loan_id"].iloc[fit_rows])
        assert not seen & set(loans["loan_id"].iloc[valid_rows])


def test_preprocessing_is_fitted_once_per_fold_for_the_whole_grid(loans):
    CountingPreprocessor.fits = 0
    params = training_params()
    _run(loans, params, CountingPreprocessor(meta=("target", "issued", "flag")))
    assert CountingPreprocessor.fits == params["cv"]["n_splits"]


def test_every_training_loan_gets_one_out_of_fold_score_per_configuration(loans):
    predictions = _run(loans, training_params())
    counts = predictions.groupby("configuration")["row"].agg(["size", "nunique"])
    assert (counts["size"] == len(loans)).all() and (counts["nunique"] == len(loans)).all()
    assert predictions["score"].between(0, 1).all()


def test_same_seed_gives_identical_scores_and_another_seed_does_not(loans):
    first = _run(loans, training_params(seed=5))
    second = _run(loans, training_params(seed=5))
    pd.testing.assert_frame_equal(first, second)
    other = _run(loans, training_params(seed=6))
    assert not np.allclose(first["score"], other["score"])


def test_folds_are_stratified_and_seeded():
    y = np.array([0] * 90 + [1] * 30)
    cv = {"n_splits": 3, "n_repeats": 2, "random_state": 0}
    folds = list(make_folds(y, cv))
    assert len(folds) == 6
    for _, _, _, valid_rows in folds:
        assert y[valid_rows].sum() == 10
    again = list(make_folds(y, cv))
    assert all((a[3] == b[3]).all() for a, b in zip(folds, again, strict=True))
