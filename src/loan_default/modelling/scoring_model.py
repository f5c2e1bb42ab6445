"""The champion as one object: end-to-end pipeline, optional calibrator and operating threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .calibration import ScoreCalibrator


class ScoringModel:
    """Scores a loans frame: `predict_proba` gives default probabilities, `decide` 1 = reject."""

    def __init__(
        self,
        pipeline: BaseEstimator,
        threshold: float,
        calibrator: ScoreCalibrator | None = None,
        name: str = "",
    ):
        self.pipeline = pipeline
        self.threshold = float(threshold)
        self.calibrator = calibrator or ScoreCalibrator(None)
        self.name = name

    @property
    def preprocessor(self) -> BaseEstimator:
        """The fitted preprocessing step (raw loans -> model features)."""
        return self.pipeline.steps[0][1]

    @property
    def estimator(self) -> BaseEstimator:
        """The fitted model, fed the preprocessor's output."""
        return self.pipeline.steps[-1][1]

    def encode(self, loans: pd.DataFrame) -> pd.DataFrame:
        """The model's features of the loans (encode once, then score and explain)."""
        return self.preprocessor.transform(loans)

    def predict_encoded(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated default probability per row of `encode`'s output."""
        return self.calibrator.transform(self.estimator.predict_proba(features)[:, 1])

    def predict_proba(self, loans: pd.DataFrame) -> np.ndarray:
        """Columns [P(repaid), P(default)] per loan; resamplers are skipped at predict time."""
        default = self.predict_encoded(self.encode(loans))
        return np.column_stack([1 - default, default])

    def decide(self, loans: pd.DataFrame) -> np.ndarray:
        """1 = reject (default probability at or above the threshold), 0 = approve."""
        return (self.predict_proba(loans)[:, 1] >= self.threshold).astype(int)

    predict = decide

    def __repr__(self) -> str:
        return f"ScoringModel({self.name!r}, threshold={self.threshold:.4f})"
