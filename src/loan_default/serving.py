"""The champion as an MLflow pyfunc model: raw application columns in, probability out.

The registered model is self-contained: it carries the fitted preprocessing and model with its
operating threshold (`champion`, a scikit-learn FixedThresholdClassifier), the dataset configuration it was trained with (`dataset`), and
the training profile scoring needs for input checks, reasons and drift (`profile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from loan_default.applications import ROW, check_applications, summarise_problems
from loan_default.modelling.champion import as_threshold_classifier
from loan_default.profile import ScoringProfile


class LoanDefaultModel(mlflow.pyfunc.PythonModel):
    """Types raw application rows like the ingestion does, then asks the champion."""

    def __init__(
        self,
        champion: Any,
        dataset: dict[str, Any],
        profile: ScoringProfile | None = None,
        input_types: dict[str, str] | None = None,
        input_example: pd.DataFrame | None = None,
    ) -> None:
        self.champion = champion
        self.dataset = dataset
        self.profile = profile
        self.input_types = input_types or {}
        self.input_example = input_example

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A champion registered before the FixedThresholdClassifier carries a ScoringModel.
        state["champion"] = as_threshold_classifier(state["champion"])
        self.__dict__.update(state)

    @property
    def threshold(self) -> float:
        """Operating threshold: reject at or above this probability of default."""
        return float(self.champion.threshold)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        """Per application row: probability of default, or the error that kept it from being
        scored; and any warning (far outside the training range, unseen category)."""
        valid, problems = check_applications(pd.DataFrame(model_input), self)
        rows = pd.Series(np.arange(1, len(model_input) + 1))
        probability = pd.Series(np.nan, index=rows)
        if len(valid):
            scores = self.champion.predict_proba(valid)[:, 1]
            probability[valid[ROW].to_numpy()] = scores
        return pd.DataFrame(
            {
                "probability_of_default": probability.to_numpy(dtype="float64"),
                "error": summarise_problems(rows, problems, "error").to_numpy(),
                "warning": summarise_problems(rows, problems, "warning").to_numpy(),
            }
        )


@dataclass(frozen=True)
class ChampionHandle:
    """A champion loaded from MLflow, and where it came from (shown in scoring outputs)."""

    model: LoanDefaultModel
    uri: str
    run_id: str
    name: str = ""
    version: str = ""

    @property
    def self_contained(self) -> bool:
        """Whether the model carries what scoring needs (earlier releases did not)."""
        return getattr(self.model, "profile", None) is not None and bool(
            getattr(self.model, "input_types", None)
        )

    def describe(self) -> str:
        """e.g. `loan-default v3 (run 1a2b...)`, or the logged model's URI."""
        where = f"{self.name} v{self.version}" if self.version else self.uri
        return f"{where} (run {self.run_id})"
