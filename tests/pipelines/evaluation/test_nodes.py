"""Evaluation nodes: ranking follows the configured selection, findings follow the numbers."""

import numpy as np
import pandas as pd
import pytest

from loan_default.pipelines.evaluation.nodes import (
    compare_strategies,
    evaluate_test,
    write_model_finding,
)
from loan_default.pipelines.split.nodes import describe_test_set
from tests.modelling.synthetic import dataset_params, evaluation_params, make_loans, training_params
from tests.params import block

METRIC_VALUES = {
    "pr_auc": 0.3, "ks": 0.3, "brier": 0.1, "log_loss": 0.4, "accuracy": 0.8, "precision": 0.3,
    "recall": 0.6, "f1": 0.4, "approval_rate": 0.6, "expected_cost_total": 1000.0,
}  # fmt: skip


def _folds(name: str, auc: float, cost: float, kind: str = "model") -> pd.DataFrame:
    model, strategy = name.split("/")
    return pd.DataFrame(
        [
            {
                "configuration": name,
                "kind": kind,
                "model": model,
                "strategy": strategy,
                "repeat": 0,
                "fold": fold,
                "roc_auc": auc + 0.01 * fold,
                "expected_cost_per_loan": cost,
                **METRIC_VALUES,
            }  # fmt: skip
            for fold in range(3)
        ]
    )


def _point(name: str, kind: str = "model", rule: str = "min_expected_cost") -> dict:
    model, strategy = name.split("/")
    return {"kind": kind, "model": model, "strategy": strategy, "threshold": 0.2,
            "threshold_rule": rule, "probabilistic": True}  # fmt: skip


def _comparison() -> pd.DataFrame:
    names = ["xgboost/none", "xgboost/threshold_tuning", "xgboost/smote"]
    cv = pd.concat(
        [_folds(names[0], 0.70, 900), _folds(names[1], 0.70, 700), _folds(names[2], 0.65, 650)]
    )
    baseline = _folds("baseline/grade_score", 0.6, 800, kind="baseline")
    test = (
        pd.concat([cv, baseline])
        .groupby("configuration", as_index=False)
        .first()
        .drop(columns="fold")
    )
    points = {name: _point(name) for name in names}
    points["xgboost/none"]["threshold_rule"] = "fixed"
    baseline_points = {"baseline/grade_score": _point("baseline/grade_score", kind="baseline")}
    return compare_strategies(cv, baseline, test, points, baseline_points, training_params())


def test_ties_on_the_primary_metric_are_broken_by_the_tie_breaker():
    comparison = _comparison()
    assert comparison["configuration"].tolist() == [
        "xgboost/threshold_tuning", "xgboost/none", "xgboost/smote", "baseline/grade_score",
    ]  # fmt: skip
    assert comparison["rank"].tolist() == [1, 2, 3, 4]
    assert comparison.loc[0, "cv_roc_auc_std"] > 0


def test_finding_reports_the_champion_gap_to_the_baseline():
    comparison = _comparison()
    champion = {"configuration": "xgboost/threshold_tuning", "threshold": 0.2,
                "threshold_rule": "min_expected_cost"}  # fmt: skip
    params = evaluation_params() | {"reference_baselines": None}
    out_of_time = describe_test_set(dataset_params(), block("split"))
    finding = write_model_finding(comparison, champion, out_of_time, params, training_params())
    assert "Champion: xgboost/threshold_tuning" in finding
    assert "baseline/grade_score" in finding and "+0.1000" in finding
    assert "out-of-time test" in finding


def test_finding_names_a_random_split_as_such():
    champion = {"configuration": "xgboost/threshold_tuning", "threshold": 0.2,
                "threshold_rule": "min_expected_cost"}  # fmt: skip
    no_dates = {**dataset_params(), "date_column": None}
    random = describe_test_set(no_dates, block("split"))
    finding = write_model_finding(
        _comparison(), champion, random, evaluation_params(), training_params()
    )
    assert "held-out test set (random, stratified)" in finding
    assert "out-of-time" not in finding


def test_a_sampled_test_set_counts_each_kept_loan_as_the_loans_it_stands_for():
    loans = make_loans(400, seed=3)
    rng = np.random.default_rng(3)
    predictions = pd.DataFrame(
        {"configuration": "xgboost/none", "row": range(len(loans)), "score": rng.uniform(size=400)}
    )
    points = {"xgboost/none": _point("xgboost/none")}
    args = (predictions, predictions.iloc[:0], points, {})
    whole = evaluate_test(*args, loans, dataset_params()).iloc[0]
    sampled = evaluate_test(*args, loans.assign(sample_weight=4.0), dataset_params()).iloc[0]
    assert sampled["expected_cost_total"] == pytest.approx(4 * whole["expected_cost_total"])
    for rate in ("roc_auc", "pr_auc", "recall", "approval_rate", "expected_cost_per_loan"):
        assert sampled[rate] == pytest.approx(whole[rate])


def test_an_operating_point_catching_almost_no_defaults_is_flagged_not_ranked():
    names = ["xgboost/none", "xgboost/threshold_tuning"]
    cv = pd.concat([_folds(names[0], 0.75, 900), _folds(names[1], 0.70, 700)])
    cv.loc[cv["configuration"] == names[0], "recall"] = 0.015
    baseline = _folds("baseline/grade_score", 0.6, 800, kind="baseline")
    test = pd.concat([cv, baseline]).groupby("configuration", as_index=False).first()
    points = {name: _point(name) for name in names}
    baseline_points = {"baseline/grade_score": _point("baseline/grade_score", kind="baseline")}
    comparison = compare_strategies(
        cv, baseline, test.drop(columns="fold"), points, baseline_points, training_params()
    )
    assert comparison["configuration"].tolist() == [names[1], "baseline/grade_score", names[0]]
    assert comparison["rank"].tolist()[:2] == [1, 2] and pd.isna(comparison["rank"].iloc[2])
    assert comparison["flag"].iloc[2].startswith("catches 1.5% of defaults")
    assert comparison["flag"].iloc[:2].tolist() == ["", ""]
