"""Ranking, calibration and decision metrics of a risk score (higher score = riskier loan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from loan_default.config.names import (
    DECISION_METRICS,
    GREATER_IS_BETTER,
    RANKING_METRICS,
    check_registry,
)
from loan_default.schema import sample_weights, target_values
from loan_default.validation import ConfigurationError

if TYPE_CHECKING:
    from loan_default.parameters import Dataset


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


# Every metric a configuration may name is computed here, and nothing else.
check_registry("metric", GREATER_IS_BETTER, RANKING_METRICS + DECISION_METRICS)


def exposures(loans: pd.DataFrame, costs: dict[str, Any]) -> np.ndarray:
    """Amount at stake per loan: `costs.amount_column`, or 1 per loan when it is null."""
    column = costs["amount_column"]
    if not column:
        return np.ones(len(loans))
    return loans[column].fillna(loans[column].median()).to_numpy(dtype=float)


@dataclass(frozen=True)
class Outcomes:
    """What a set of loans did and what deciding on them costs: the default flags, the amount at
    stake per loan, the cost settings, and the sampling weights (None: every loan counts once)."""

    y: np.ndarray
    amounts: np.ndarray
    costs: dict[str, Any]
    weights: np.ndarray | None = None

    @classmethod
    def of(cls, loans: pd.DataFrame, dataset: Dataset) -> Outcomes:
        """The outcomes of an ingested table: its target, exposures and sampling weights."""
        return cls(
            target_values(loans, dataset),
            exposures(loans, dataset.costs),
            dataset.costs,
            sample_weights(loans),
        )

    def at(self, rows: np.ndarray) -> Outcomes:
        """The outcomes of some of the loans (row positions)."""
        weights = None if self.weights is None else self.weights[rows]
        return Outcomes(self.y[rows], self.amounts[rows], self.costs, weights)


def ks_statistic(y: np.ndarray, score: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Kolmogorov-Smirnov: largest gap between the score CDFs of defaults and repaid loans."""
    y, score = np.asarray(y), np.asarray(score, dtype=float)
    grid = np.unique(score)
    if weights is None:
        cdf_bad = np.searchsorted(np.sort(score[y == 1]), grid, side="right") / max(
            (y == 1).sum(), 1
        )
        cdf_good = np.searchsorted(np.sort(score[y == 0]), grid, side="right") / max(
            (y == 0).sum(), 1
        )
        return float(np.max(np.abs(cdf_bad - cdf_good)))
    cdfs = []
    for label in (1, 0):
        order = np.argsort(score[y == label], kind="mergesort")
        values, mass = score[y == label][order], np.cumsum(weights[y == label][order])
        at = np.searchsorted(values, grid, side="right")
        cdfs.append(np.r_[0.0, mass][at] / max(mass[-1] if len(mass) else 0.0, 1e-12))
    return float(np.max(np.abs(cdfs[0] - cdfs[1])))


def decision_metrics(
    y: np.ndarray,
    reject: np.ndarray,
    amounts: np.ndarray,
    costs: dict[str, Any],
    weights: np.ndarray | None = None,
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (default = positive = rejected), approval rate, cost;
    with `weights` each loan counts as that many loans (a sampled table, unbiased)."""
    y, reject = np.asarray(y), np.asarray(reject, dtype=bool)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    tp = float(w[(y == 1) & reject].sum())
    fp = float(w[(y == 0) & reject].sum())
    fn = float(w[(y == 1) & ~reject].sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # Cost: approved defaults lose amount x LGD, rejected good loans lose amount x margin.
    stake = amounts if weights is None else amounts * weights
    missed = stake[(y == 1) & ~reject].sum() * costs["loss_given_default"]
    lost = stake[(y == 0) & reject].sum() * costs["interest_margin"]
    total = float(missed + lost)
    return {
        "accuracy": float(w[reject == (y == 1)].sum() / w.sum()),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "approval_rate": float(w[~reject].sum() / w.sum()),
        "expected_cost_per_loan": total / w.sum(),
        "expected_cost_total": total,
    }


def ranking_metrics(
    y: np.ndarray, score: np.ndarray, probabilistic: bool, weights: np.ndarray | None = None
) -> dict[str, float]:
    """ROC AUC, PR AUC, KS; Brier and log loss only when the score is a probability."""
    y, score = np.asarray(y), np.asarray(score, dtype=float)
    metrics = {
        "roc_auc": float(roc_auc_score(y, score, sample_weight=weights)),
        "pr_auc": float(average_precision_score(y, score, sample_weight=weights)),
        "ks": ks_statistic(y, score, weights),
        "brier": np.nan,
        "log_loss": np.nan,
    }
    if probabilistic:
        clipped = np.clip(score, 1e-15, 1 - 1e-15)
        metrics["brier"] = float(brier_score_loss(y, clipped, sample_weight=weights))
        metrics["log_loss"] = float(log_loss(y, clipped, labels=[0, 1], sample_weight=weights))
    return metrics


def score_metrics(
    y: np.ndarray,
    score: np.ndarray,
    threshold: float,
    amounts: np.ndarray,
    costs: dict[str, Any],
    probabilistic: bool = True,
    weights: np.ndarray | None = None,
) -> dict[str, float]:
    """Every metric of a score at an operating threshold (reject when score >= threshold);
    `weights`: sampling weights of a sampled table (None: every loan counts once)."""
    reject = np.asarray(score, dtype=float) >= threshold
    return {
        **ranking_metrics(y, score, probabilistic, weights),
        **decision_metrics(y, reject, amounts, costs, weights),
    }
