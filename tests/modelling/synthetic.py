"""Small synthetic loan tables and parameters for the modelling tests (no real column names)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_default.preprocessing.binning import OptimalWoEBinning
from tests.params import block

from .standins import StandInPreprocessor

GRADES = ["A", "B", "C", "D"]


def make_loans(n: int, seed: int, start: str = "2010-01-01") -> pd.DataFrame:
    """Loans whose default risk rises with grade, dti and a noise feature; ~20% defaults."""
    rng = np.random.default_rng(seed)
    grade_index = rng.integers(0, len(GRADES), n)
    dti = rng.uniform(0, 40, n)
    other = rng.normal(size=n)
    logit = -2.6 + 0.6 * grade_index + 0.03 * dti + 0.5 * other
    default = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    dti[rng.uniform(size=n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "loan_id": np.arange(n, dtype=float) + seed * 1_000_000,
            "amount": rng.uniform(1_000, 20_000, n).round(),
            "grade": pd.array([GRADES[i] for i in grade_index], dtype="str"),
            "dti": dti,
            "other": other,
            "home": pd.array(rng.choice(["RENT", "OWN", "MORTGAGE"], n), dtype="str"),
            "target": default,
            "issued": pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "flag": 0,
        }
    )


def dataset_params() -> dict:
    """A `dataset` block for the synthetic table."""
    return block(
        "dataset",
        {
            "target": {"output_column": "target", "policy_exceptions": {"flag_column": "flag"}},
            "date_column": "issued",
            "categorical_orders": {"grade": GRADES},
            "baseline_rules": {
                "reject_grade_d": {"column": "grade", "in": ["D"]},
                "reject_dti_above_30": {"column": "dti", "above": 30},
            },
            "score_baselines": {"grade_score": "grade", "dti_score": "dti"},
            "costs": {
                "amount_column": "amount",
                "loss_given_default": 0.7,
                "interest_margin": 0.12,
            },
        },
    )


def training_params(seed: int = 0) -> dict:
    """A small but complete grid: three models x five strategies, 3-fold CV."""
    return block(
        "training",
        {
            "random_state": seed,
            "n_jobs": 1,
            "cv": {"n_splits": 3, "n_repeats": 1, "random_state": seed},
            "models": {
                "logistic_regression": {"params": {"max_iter": 500}},
                "random_forest": {"params": {"n_estimators": 15, "min_samples_leaf": 10}},
                "xgboost": {"params": {"n_estimators": 20, "max_depth": 2, "tree_method": "hist"}},
            },
            "strategies": {
                "none": {"threshold": 0.5},
                "class_weight": {},
                "smote": {"params": {"k_neighbors": 3}},
                "undersample": {},
                "threshold_tuning": {},
            },
            "threshold": {"objective": "min_expected_cost"},
            "calibration": {"method": None},
            "selection": {"primary_metric": "roc_auc", "tie_breaker": "expected_cost_per_loan"},
        },
    )


def baselines_params() -> dict:
    """A `baselines` block with the scorecard on."""
    return block(
        "baselines",
        {
            "scorecard": {
                "enabled": True,
                "model_params": {"max_iter": 500},
                "points": {"pdo": 20, "base_points": 600, "base_odds": 50, "band_width": 20},
            }
        },
    )


def evaluation_params() -> dict:
    """An `evaluation` block naming the synthetic baselines."""
    return block(
        "evaluation",
        {
            "report_metrics": [
                "roc_auc",
                "ks",
                "recall",
                "approval_rate",
                "expected_cost_per_loan",
            ],
            "chart_metric": None,
            "calibration_bins": 5,
            "reference_baselines": ["baseline/grade_score", "baseline/woe_scorecard"],
            "strategy_contrasts": [["smote", "class_weight"]],
        },
    )


def fitted_standins(train: pd.DataFrame) -> tuple[StandInPreprocessor, OptimalWoEBinning]:
    """Stand-in preprocessor and the real binning process, both fitted on `train` as the
    features stage fits them (the scorecard is optbinning's and reuses these bins; the fold
    stages clone the binning and fit their own)."""
    meta = ("target", "issued", "flag")
    preprocessor = StandInPreprocessor(meta=meta).fit(train, train["target"])
    return preprocessor, OptimalWoEBinning(exclude=meta).fit(train, train["target"])
