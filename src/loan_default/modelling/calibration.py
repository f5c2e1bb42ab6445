"""Optional post-hoc calibration of scores, fitted on out-of-fold training predictions."""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from loan_default.validation import ConfigurationError

METHODS = (None, "sigmoid", "isotonic")


class ScoreCalibrator:
    """Maps raw scores to probabilities (identity when `method` is None)."""

    def __init__(self, method: str | None = None):
        if method not in METHODS:
            raise ConfigurationError(
                f"training.calibration.method: unknown method '{method}' (known: {METHODS})."
            )
        self.method = method
        self.mapping_ = None

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


def _logit(score: np.ndarray) -> np.ndarray:
    clipped = np.clip(score, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))
