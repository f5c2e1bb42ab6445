"""The grid on Spark tasks (joblibspark) gives what threads give, and its errors surface."""

from __future__ import annotations

import pandas as pd
import pytest

from loan_default.modelling import cross_validation
from loan_default.modelling.cross_validation import (
    GridPlan,
    assign_folds,
    cross_validate_grid,
    prepare_folds,
)
from loan_default.modelling.registry import build_grid
from tests.modelling.standins import StandInPreprocessor
from tests.modelling.synthetic import make_loans, training_params


def _grid_scores(backend: str) -> pd.DataFrame:
    """Scores of a grid whose fits draw random numbers (forest, SMOTE): seeds must travel.
    Each fit is a Spark job, so the grid is as small as shows that: 2 configurations x 2 folds."""
    params = training_params().plain()  # a mapping the test edits
    params["models"] = {"random_forest": params["models"]["random_forest"]}
    params["strategies"] = {k: params["strategies"][k] for k in ("none", "smote")}
    params["cv"]["n_splits"] = 2
    loans = make_loans(300, seed=1)
    y = loans["target"].to_numpy()
    folds = assign_folds(y, loans["issued"], params["cv"], "stratified")
    preprocessor = StandInPreprocessor(meta=("target", "issued", "flag"))
    prepared = prepare_folds(loans, y, preprocessor, folds)
    grid = build_grid(params)
    return cross_validate_grid(prepared, y, GridPlan(grid, params["random_state"], 2, backend))


def test_spark_backend_gives_the_threads_results(spark):
    pd.testing.assert_frame_equal(_grid_scores("spark"), _grid_scores("threads"))


def test_a_failing_fit_raises_its_own_error_on_spark(spark, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("fit failed on purpose")

    monkeypatch.setattr(cross_validation, "fit_model", broken)
    with pytest.raises(Exception, match="fit failed on purpose"):
        _grid_scores("spark")
