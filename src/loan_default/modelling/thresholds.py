"""Choose the operating threshold (reject when score >= threshold) by a configured objective."""

from __future__ import annotations

from typing import Any

import numpy as np

from loan_default.config.names import THRESHOLD_OBJECTIVES, check_registry
from loan_default.validation import ConfigurationError


def _rejection_curve(
    y: np.ndarray, score: np.ndarray, amounts: np.ndarray, weights: np.ndarray | None
) -> dict[str, Any]:
    """For every distinct threshold (plus 'approve all'), what rejecting at it catches (each
    loan counted `weights` times in a sampled table)."""
    order = np.argsort(-score, kind="mergesort")
    ordered = score[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(ordered) != 0), len(ordered) - 1]
    bad, good = (y[order] == 1), (y[order] == 0)
    if weights is not None:
        w = weights[order]
        bad, good, amounts = bad * w, good * w, amounts * weights
    return {
        "threshold": np.r_[np.inf, ordered[last_of_run]],
        "tp": np.r_[0, np.cumsum(bad)[last_of_run]],
        "fp": np.r_[0, np.cumsum(good)[last_of_run]],
        "bad_amount": np.r_[0.0, np.cumsum(np.where(bad, amounts[order], 0.0))[last_of_run]],
        "good_amount": np.r_[0.0, np.cumsum(np.where(good, amounts[order], 0.0))[last_of_run]],
        "positives": np.sum(bad),
        "negatives": np.sum(good),
        "bad_total": amounts[y == 1].sum(),
    }


def _expected_cost(curve: dict, y, amounts, costs) -> np.ndarray:
    missed = curve["bad_total"] - curve["bad_amount"]
    return missed * costs["loss_given_default"] + curve["good_amount"] * costs["interest_margin"]


def _f1(curve: dict, y, amounts, costs) -> np.ndarray:
    return -2 * curve["tp"] / np.maximum(curve["tp"] + curve["fp"] + curve["positives"], 1)


def _youden(curve: dict, y, amounts, costs) -> np.ndarray:
    tpr = curve["tp"] / max(curve["positives"], 1)
    fpr = curve["fp"] / max(curve["negatives"], 1)
    return -(tpr - fpr)


# Each objective returns a loss per candidate threshold (lower is better).
OBJECTIVES = {
    "min_expected_cost": _expected_cost,
    "max_f1": _f1,
    "max_youden": _youden,
}
check_registry("threshold objective", THRESHOLD_OBJECTIVES, OBJECTIVES)


def choose_threshold(
    y: np.ndarray,
    score: np.ndarray,
    amounts: np.ndarray,
    costs: dict[str, Any],
    objective: str = "min_expected_cost",
    weights: np.ndarray | None = None,
) -> float:
    """Threshold that optimises `objective` on these (training, out-of-fold) predictions;
    `weights`: sampling weights of a sampled training table."""
    if objective not in OBJECTIVES:
        raise ConfigurationError(
            f"training.threshold.objective: unknown objective '{objective}' "
            f"(known: {sorted(OBJECTIVES)})."
        )
    y, score = np.asarray(y), np.asarray(score, dtype=float)
    amounts = np.asarray(amounts, dtype=float)
    curve = _rejection_curve(y, score, amounts, weights)
    loss = OBJECTIVES[objective](curve, y, amounts, costs)
    return float(curve["threshold"][int(np.argmin(loss))])
