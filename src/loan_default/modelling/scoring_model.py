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

    def predict_proba(self, loans: pd.DataFrame) -> np.ndarray:
        """Columns [P(repaid), P(default)] per loan; resamplers are skipped at predict time."""
        default = self.calibrator.transform(self.pipeline.predict_proba(loans)[:, 1])
        return np.column_stack([1 - default, default])

    def decide(self, loans: pd.DataFrame) -> np.ndarray:
        """1 = reject (default probability at or above the threshold), 0 = approve."""
        return (self.predict_proba(loans)[:, 1] >= self.threshold).astype(int)

    predict = decide

    def __repr__(self) -> str:
        return f"ScoringModel({self.name!r}, threshold={self.threshold:.4f})"
