"""The champion as scikit-learn's own threshold classifier.

`FixedThresholdClassifier(FrozenEstimator(pipeline), threshold)`: `predict_proba` gives default
probabilities, `predict` 1 = reject (probability at or above the threshold). The frozen pipeline
is preprocess -> [resample] -> model (imblearn's Pipeline skips the resampler at predict time);
with post-hoc calibration the model step is a `CalibratedModel`. Scoring encodes the loans once
for the probability and the reasons: `preprocessor_of`, then `default_probability`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier

from .calibration import ScoreCalibrator


class CalibratedModel(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose default probability passes through a fitted calibrator.

    scikit-learn's CalibratedClassifierCV fits its calibrator on the frozen model's predictions
    of the rows it is given; ours is fitted on out-of-fold training predictions, so it is
    wrapped as it is rather than refitted."""

    def __init__(self, model: BaseEstimator, calibrator: ScoreCalibrator):
        self.model = model
        self.calibrator = calibrator

    @property
    def classes_(self) -> np.ndarray:
        """The wrapped model's classes."""
        return self.model.classes_

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X: Any, y: Any = None) -> CalibratedModel:
        """Both parts arrive fitted; refitting would need out-of-fold scores."""
        raise NotImplementedError("CalibratedModel wraps fitted parts; it is never refitted.")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns [P(repaid), P(default)] after calibration."""
        default = self.calibrator.transform(self.model.predict_proba(X)[:, 1])
        return np.column_stack([1 - default, default])


def build_champion(
    preprocessor: BaseEstimator,
    sampler: BaseEstimator | None,
    model: BaseEstimator,
    calibrator: ScoreCalibrator | None,
    threshold: float,
) -> FixedThresholdClassifier:
    """Fitted parts and the operating threshold as one end-to-end classifier of loans frames."""
    steps: list[tuple[str, Any]] = [("preprocess", preprocessor)]
    if sampler is not None:
        steps.append(("resample", sampler))  # documents training; skipped at predict time
    calibrated = calibrator is not None and calibrator.method is not None
    steps.append(("model", CalibratedModel(model, calibrator) if calibrated else model))
    return FixedThresholdClassifier(
        FrozenEstimator(Pipeline(steps)),
        threshold=float(threshold),
        response_method="predict_proba",
    )


def _pipeline(champion: FixedThresholdClassifier) -> Pipeline:
    return champion.estimator.estimator


def preprocessor_of(champion: FixedThresholdClassifier) -> BaseEstimator:
    """The fitted preprocessing step (raw loans -> model features)."""
    return _pipeline(champion)[0]


def model_of(champion: FixedThresholdClassifier) -> BaseEstimator:
    """The fitted model fed the preprocessor's output, before calibration (for reasons)."""
    model = _pipeline(champion)[-1]
    return model.model if isinstance(model, CalibratedModel) else model


def default_probability(champion: FixedThresholdClassifier, features: pd.DataFrame) -> np.ndarray:
    """Calibrated default probability per row of the preprocessor's output."""
    return _pipeline(champion)[1:].predict_proba(features)[:, 1]


def as_threshold_classifier(champion: Any) -> FixedThresholdClassifier:
    """The champion as a FixedThresholdClassifier; a model registered before this release (a
    `ScoringModel` with pipeline, calibrator and threshold) is rebuilt from its fitted parts."""
    if isinstance(champion, FixedThresholdClassifier):
        return champion
    steps = dict(champion.pipeline.steps)
    return build_champion(
        steps["preprocess"], steps.get("resample"), steps["model"],
        champion.calibrator, champion.threshold,
    )  # fmt: skip
