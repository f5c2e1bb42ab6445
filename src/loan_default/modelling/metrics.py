"""Ranking, calibration and decision metrics of a risk score (higher score = riskier loan)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from loan_default.validation import ConfigurationError

# Whether a larger value is better, for every metric a configuration can be ranked by.
GREATER_IS_BETTER = {
    "roc_auc": True,
    "pr_auc": True,
    "ks": True,
    "brier": False,
    "log_loss": False,
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "approval_rate": True,
    "expected_cost_per_loan": False,
    "expected_cost_total": False,
}


def selection_metrics(training: dict[str, Any]) -> list[str]:
    """The primary metric and tie-breaker of `training.selection`, checked against known names."""
    selection = training["selection"]
    metrics = [m for m in (selection["primary_metric"], selection["tie_breaker"]) if m]
    for metric in metrics:
        if metric not in GREATER_IS_BETTER:
            raise ConfigurationError(
                f"training.selection: unknown metric '{metric}' "
                f"(known: {', '.join(sorted(GREATER_IS_BETTER))})."
            )
    return metrics


RANKING_METRICS = ["roc_auc", "pr_auc", "ks", "brier", "log_loss"]
DECISION_METRICS = [
    "accuracy",
    "precision",
    "recall",
    "f1",
    "approval_rate",
    "expected_cost_per_loan",
    "expected_cost_total",
]


def exposures(loans: pd.DataFrame, costs: dict[str, Any]) -> np.ndarray:
    """Amount at stake per loan: `costs.amount_column`, or 1 per loan when it is null."""
    column = costs["amount_column"]
    if not column:
        return np.ones(len(loans))
    return loans[column].fillna(loans[column].median()).to_numpy(dtype=float)


def ks_statistic(y: np.ndarray, score: np.ndarray) -> float:
    """Kolmogorov-Smirnov: largest gap between the score CDFs of defaults and repaid loans."""
    y, score = np.asarray(y), np.asarray(score, dtype=float)
    grid = np.unique(score)
    cdf_bad = np.searchsorted(np.sort(score[y == 1]), grid, side="right") / max((y == 1).sum(), 1)
    cdf_good = np.searchsorted(np.sort(score[y == 0]), grid, side="right") / max((y == 0).sum(), 1)
    return float(np.max(np.abs(cdf_bad - cdf_good)))


def decision_costs(
    y: np.ndarray, reject: np.ndarray, amounts: np.ndarray, costs: dict[str, Any]
) -> float:
    """Total cost: approved defaults lose amount x LGD, rejected good loans lose amount x margin."""
    y, reject = np.asarray(y), np.asarray(reject, dtype=bool)
    missed = amounts[(y == 1) & ~reject].sum() * costs["loss_given_default"]
    lost = amounts[(y == 0) & reject].sum() * costs["interest_margin"]
    return float(missed + lost)


def decision_metrics(
    y: np.ndarray, reject: np.ndarray, amounts: np.ndarray, costs: dict[str, Any]
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (default = positive = rejected), approval rate, cost."""
    y, reject = np.asarray(y), np.asarray(reject, dtype=bool)
    tp = int(((y == 1) & reject).sum())
    fp = int(((y == 0) & reject).sum())
    fn = int(((y == 1) & ~reject).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    total = decision_costs(y, reject, amounts, costs)
    return {
        "accuracy": float((reject == (y == 1)).mean()),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "approval_rate": float((~reject).mean()),
        "expected_cost_per_loan": total / len(y),
        "expected_cost_total": total,
    }


def ranking_metrics(y: np.ndarray, score: np.ndarray, probabilistic: bool) -> dict[str, float]:
    """ROC AUC, PR AUC, KS; Brier and log loss only when the score is a probability."""
    y, score = np.asarray(y), np.asarray(score, dtype=float)
    metrics = {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "ks": ks_statistic(y, score),
        "brier": np.nan,
        "log_loss": np.nan,
    }
    if probabilistic:
        clipped = np.clip(score, 1e-15, 1 - 1e-15)
        metrics["brier"] = float(brier_score_loss(y, clipped))
        metrics["log_loss"] = float(log_loss(y, clipped, labels=[0, 1]))
    return metrics


def score_metrics(
    y: np.ndarray,
    score: np.ndarray,
    threshold: float,
    amounts: np.ndarray,
    costs: dict[str, Any],
    probabilistic: bool = True,
) -> dict[str, float]:
    """Every metric of a score at an operating threshold (reject when score >= threshold)."""
    reject = np.asarray(score, dtype=float) >= threshold
    return {
        **ranking_metrics(y, score, probabilistic),
        **decision_metrics(y, reject, amounts, costs),
    }
