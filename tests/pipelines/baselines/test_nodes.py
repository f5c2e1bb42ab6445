"""Baseline nodes: same folds as the models, thresholds chosen on training loans only."""

import numpy as np

from loan_default.modelling.cross_validation import assign_folds, iter_folds
from loan_default.pipelines.baselines.nodes import (
    choose_baseline_operating_points,
    cross_validate_baselines,
)
from loan_default.pipelines.nodes import summarise_folds
from tests.modelling.synthetic import (
    baselines_params,
    dataset_params,
    fitted_standins,
    make_loans,
    training_params,
)


def test_baselines_use_the_models_folds_and_score_every_training_loan_once():
    train = make_loans(240, seed=3)
    _, binning = fitted_standins(train)
    fold_table = _stratified_folds(train)
    predictions = cross_validate_baselines(
        train, binning, fold_table, dataset_params(), baselines_params()
    )
    folds = list(iter_folds(fold_table))
    scorecard = predictions[predictions["configuration"] == "baseline/woe_scorecard"]
    for _, fold, _, valid_rows in folds:
        assert set(scorecard.loc[scorecard["fold"] == fold, "row"]) == set(valid_rows)
    assert predictions.groupby("configuration")["row"].nunique().eq(len(train)).all()


def _stratified_folds(train):
    return assign_folds(train["target"].to_numpy(), None, training_params()["cv"], "stratified")


def test_approve_everyone_and_rules_keep_fixed_thresholds():
    train = make_loans(240, seed=4)
    _, binning = fitted_standins(train)
    predictions = cross_validate_baselines(
        train, binning, _stratified_folds(train), dataset_params(), baselines_params()
    )
    args = (dataset_params(), baselines_params(), training_params())
    points = choose_baseline_operating_points(predictions, train, *args)
    assert points["baseline/approve_everyone"]["threshold"] == 1.0
    assert points["baseline/reject_grade_d"]["threshold_rule"] == "fixed"
    assert points["baseline/grade_score"]["threshold_rule"] == "min_expected_cost"
    results = summarise_folds(predictions, points, train, dataset_params())
    everyone = results[results["configuration"] == "baseline/approve_everyone"]
    assert np.all(everyone["recall"] == 0.0)
