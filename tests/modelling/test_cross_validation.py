"""The CV engine: resampling sees training-fold rows only, one preprocessing fit per fold;
time-ordered folds fit on the past and validate on the future."""

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling import cross_validation, registry
from loan_default.modelling.cross_validation import (
    GridPlan,
    assign_folds,
    cross_validate_grid,
    iter_folds,
    prepare_folds,
    resolve_scheme,
)
from loan_default.modelling.registry import StrategyEntry, build_grid
from loan_default.validation import ConfigurationError

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


def _folds(loans, params, scheme="stratified"):
    return assign_folds(loans["target"].to_numpy(), loans["issued"], params["cv"], scheme)


def _run(loans, params, preprocessor=None, scheme="stratified"):
    preprocessor = preprocessor or StandInPreprocessor(meta=("target", "issued", "flag"))
    y = loans["target"].to_numpy()
    prepared = prepare_folds(loans, y, preprocessor, _folds(loans, params, scheme))
    return cross_validate_grid(prepared, y, GridPlan(build_grid(params), params["random_state"]))


def test_resampler_only_sees_training_fold_rows(loans, monkeypatch):
    monkeypatch.setitem(
        registry.STRATEGIES, "spy", StrategyEntry(sampler=lambda p, s: SpySampler())
    )
    SpySampler.seen = []
    params = training_params().plain()  # a mapping the test edits
    params["models"] = {"logistic_regression": params["models"]["logistic_regression"]}
    params["strategies"] = {"spy": {"strategy": "spy", "params": {}, "threshold": None}}
    _run(loans, params)
    folds = list(iter_folds(_folds(loans, params)))
    assert len(SpySampler.seen) == len(folds)
    for seen, (_, _, fit_rows, valid_rows) in zip(SpySampler.seen, folds, strict=True):
        assert seen == set(loans["loan_id"].iloc[fit_rows])
        assert not seen & set(loans["loan_id"].iloc[valid_rows])


def test_preprocessing_is_fitted_once_per_fold_for_the_whole_grid(loans):
    CountingPreprocessor.fits = 0
    params = training_params().plain()  # a mapping the test edits
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
    cv = training_params()["cv"] | {"n_splits": 3, "n_repeats": 2, "random_state": 0}
    folds = list(iter_folds(assign_folds(y, None, cv, "stratified")))
    assert len(folds) == 6
    for _, _, _, valid_rows in folds:
        assert y[valid_rows].sum() == 10
    again = list(iter_folds(assign_folds(y, None, cv, "stratified")))
    assert all((a[3] == b[3]).all() for a, b in zip(folds, again, strict=True))


def test_time_ordered_folds_fit_on_the_past_and_validate_on_the_next_period():
    loans = make_loans(1200, seed=3)
    params = training_params().plain()  # a mapping the test edits
    params["cv"] |= {"time_splits": 3, "min_train_fraction": 0.4}
    folds = list(iter_folds(_folds(loans, params, "time")))
    months = loans["issued"].dt.to_period("M")
    assert len(folds) == 3
    previous_end = None
    for _, _, fit_rows, valid_rows in folds:
        # every fitted loan is from an earlier month than every validated loan
        assert months.iloc[fit_rows].max() < months.iloc[valid_rows].min()
        # expanding window: the fit covers everything up to the validation period
        assert set(fit_rows) == set(np.flatnonzero(months < months.iloc[valid_rows].min()))
        if previous_end is not None:
            assert months.iloc[valid_rows].min() > previous_end
        previous_end = months.iloc[valid_rows].max()
    assert 0.3 < len(folds[0][2]) / len(loans) < 0.5
    # the validation periods together cover the rest of the loans, each loan once
    validated = np.concatenate([valid for *_, valid in folds])
    assert len(validated) == len(set(validated)) == len(loans) - len(folds[0][2])


def test_scheme_auto_follows_the_date_column_and_time_needs_one():
    cv = training_params()["cv"]
    assert resolve_scheme(cv | {"scheme": "auto"}, "issued") == "time"
    assert resolve_scheme(cv | {"scheme": "auto"}, None) == "stratified"
    assert resolve_scheme(cv | {"scheme": "stratified"}, "issued") == "stratified"
    with pytest.raises(Exception, match="date_column"):
        resolve_scheme(cv | {"scheme": "time"}, None)


def test_time_folds_need_enough_months():
    loans = make_loans(200, seed=4)
    loans["issued"] = pd.Timestamp("2010-01-15")
    params = training_params().plain()  # a mapping the test edits
    with pytest.raises(Exception, match="time_splits"):
        _folds(loans, params, "time")


def test_time_ordered_cv_scores_only_validation_periods(loans):
    predictions = _run(loans, training_params(), scheme="time")
    folds = _folds(loans, training_params(), "time")
    validated = set(folds.loc[folds["role"] == "validate", "row"])
    assert set(predictions["row"]) == validated
    assert len(validated) < len(loans)  # the first window is never validated


def test_the_spark_backend_outside_the_spark_engine_is_a_configuration_error(monkeypatch):
    monkeypatch.delitem(cross_validation.parallel.BACKENDS, "spark", raising=False)
    with pytest.raises(ConfigurationError, match="training.backend: spark .*--env spark"):
        cross_validation.joblib_backend("spark")
    assert cross_validation.joblib_backend("threads") == "threading"
