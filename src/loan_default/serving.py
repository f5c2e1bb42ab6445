"""The champion as an MLflow pyfunc model: raw application columns in, probability out."""

from __future__ import annotations

from typing import Any

import mlflow
import numpy as np
import pandas as pd

from loan_default.pipelines.ingestion.nodes import prepare_applications


class LoanDefaultModel(mlflow.pyfunc.PythonModel):
    """Types raw application rows like the ingestion does, then asks the champion."""

    def __init__(self, champion: Any, dataset: dict[str, Any]) -> None:
        self.champion = champion
        self.dataset = dataset

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> np.ndarray:
        """Probability of default for each application row."""
        applications = prepare_applications(pd.DataFrame(model_input), self.dataset)
        return np.asarray(self.champion.predict_proba(applications)[:, 1], dtype="float64")
