"""Post-hoc calibration of scores, fitted on out-of-fold training predictions.

`choose_calibrator` picks the method (none, Platt scaling = `sigmoid`, `isotonic`) on
validation folds of those predictions: each candidate is fitted on some folds and scored by a
proper scoring rule (log loss or Brier) on a later fold (time-ordered folds: only earlier
folds fit, never a later one) or on the held-out fold (stratified folds). The test loans are
never read. The chosen method is then fitted on every out-of-fold prediction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from loan_default.parameters import Calibration
from loan_default.validation import ConfigurationError

_CALIBRATION = Calibration()  # the defaults' one home: the schema

METHODS = (None, "sigmoid", "isotonic")
SCORING_RULES = ("log_loss", "brier")


class ScoreCalibrator:
    """Maps raw scores to probabilities (identity when `method` is None)."""

    def __init__(self, method: str | None = None):
        if method not in METHODS:
            raise ConfigurationError(
                f"training.calibration.method: unknown method '{method}' (known: {METHODS})."
            )
        self.method = method
        self.mapping_ = None
        # Filled by choose_calibrator: each candidate's validation loss, and the rule used.
        self.validation_losses_: dict[str, float] = {}
        self.scoring_rule_: str | None = None

    def fit(self, score: np.ndarray, y: np.ndarray) -> ScoreCalibrator:
        """Learn the mapping from scores to observed default rates."""
        score = np.asarray(score, dtype=float)
        if self.method == "isotonic":
            self.mapping_ = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
            self.mapping_.fit(score, y)
        elif self.method == "sigmoid":
            self.mapping_ = LogisticRegression().fit(_logit(score)[:, None], y)
        return self

    def transform(self, score: np.ndarray) -> np.ndarray:
        """Calibrated probabilities."""
        score = np.asarray(score, dtype=float)
        if self.method == "isotonic":
            return self.mapping_.predict(score)
        if self.method == "sigmoid":
            return self.mapping_.predict_proba(_logit(score)[:, None])[:, 1]
        return score


def choose_calibrator(
    predictions: pd.DataFrame,
    y: np.ndarray,
    candidates: Sequence[str | None] = METHODS,
    scoring_rule: str = _CALIBRATION.scoring_rule,
    time_ordered: bool = True,
) -> ScoreCalibrator:
    """The candidate with the lowest validation loss, fitted on all out-of-fold predictions.

    `predictions` are one configuration's out-of-fold rows (columns `fold`, `row`, `score`,
    optionally `repeat`: the first repeat is used); `y` is indexed by `row`. With time-ordered
    folds each fold is predicted by calibrators fitted on the earlier folds only; otherwise on
    all the other folds. Ties go to the earlier candidate (none before Platt before isotonic).
    """
    if scoring_rule not in SCORING_RULES:
        raise ConfigurationError(
            f"training.calibration.scoring_rule: unknown rule '{scoring_rule}' "
            f"(known: {SCORING_RULES})."
        )
    for method in candidates:
        ScoreCalibrator(method)  # a misnamed candidate fails here, before any fitting
    if "repeat" in predictions:
        predictions = predictions[predictions["repeat"] == predictions["repeat"].min()]
    losses = validation_losses(predictions, y, candidates, scoring_rule, time_ordered)
    if losses:
        chosen = min(losses, key=lambda name: (losses[name], list(losses).index(name)))
        method = None if chosen == "none" else chosen
    else:  # a single time-ordered fold: nothing later to validate on
        method = None if None in candidates else candidates[0]
    oof = predictions.groupby("row")["score"].mean()
    calibrator = ScoreCalibrator(method).fit(oof.to_numpy(), y[oof.index.to_numpy()])
    calibrator.validation_losses_ = losses
    calibrator.scoring_rule_ = scoring_rule
    return calibrator


def validation_losses(
    predictions: pd.DataFrame,
    y: np.ndarray,
    candidates: Sequence[str | None],
    scoring_rule: str,
    time_ordered: bool,
) -> dict[str, float]:
    """Per candidate method (`none` for no calibration), its loss on the validation folds."""
    folds = sorted(predictions["fold"].unique())
    pooled: dict[str, list[np.ndarray]] = {_label(m): [] for m in candidates}
    outcomes: list[np.ndarray] = []
    for fold in folds:
        fitted_on = predictions["fold"] < fold if time_ordered else predictions["fold"] != fold
        fit_rows, held_out = predictions[fitted_on], predictions[predictions["fold"] == fold]
        y_fit = y[fit_rows["row"].to_numpy()]
        if len(np.unique(y_fit)) < 2:
            continue  # the first time-ordered fold has no earlier fold to fit on
        outcomes.append(y[held_out["row"].to_numpy()])
        for method in candidates:
            fitted = ScoreCalibrator(method).fit(fit_rows["score"].to_numpy(), y_fit)
            pooled[_label(method)].append(fitted.transform(held_out["score"].to_numpy()))
    if not outcomes:
        return {}
    observed = np.concatenate(outcomes)
    return {
        name: _loss(observed, np.concatenate(scores), scoring_rule)
        for name, scores in pooled.items()
    }


def _label(method: str | None) -> str:
    return "none" if method is None else method


def _loss(y: np.ndarray, probability: np.ndarray, scoring_rule: str) -> float:
    if scoring_rule == "brier":
        return float(np.mean((probability - y) ** 2))
    p = np.clip(probability, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _logit(score: np.ndarray) -> np.ndarray:
    clipped = np.clip(score, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))
