"""The champion as an MLflow pyfunc model: raw application columns in, probability out.

The registered model is self-contained: it carries the fitted preprocessing and model with its
operating threshold (`champion`, a scikit-learn FixedThresholdClassifier), the dataset configuration it was trained with (`dataset`), and
the training profile scoring needs for input checks, reasons and drift (`profile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from sklearn.model_selection import FixedThresholdClassifier

from loan_default.applications import (
    ROW,
    Encoder,
    check_applications,
    decisions,
    floor_unseen_categories,
    review_reasons,
    summarise_problems,
)
from loan_default.modelling.champion import (
    as_threshold_classifier,
    default_probability,
    preprocessor_of,
)
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

    def assess(self, valid: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
        """For checked rows and the champion's probability of each: the probability no lower
        than with the riskiest known level of an unseen category, the decision (approve, reject,
        or refer when a value is far outside the training range) and the review reason."""
        floored = floor_unseen_categories(
            valid, probability, self._default_probability, self.profile, self.dataset,
            self._encoder(),
        )  # fmt: skip
        review = review_reasons(valid, self.profile)
        return pd.DataFrame(
            {
                "probability_of_default": floored,
                "decision": decisions(floored, self.threshold, review),
                "review_reason": review.to_numpy(dtype=object),
            },
            index=valid.index,
        )

    def _encoder(self) -> Encoder | None:
        """The champion's encoding step, its model on encoded rows and each encoded column's
        input column (None for a champion that is not a FixedThresholdClassifier pipeline)."""
        if not isinstance(self.champion, FixedThresholdClassifier):
            return None
        preprocessor = preprocessor_of(self.champion)
        return (
            preprocessor.transform,
            partial(default_probability, self.champion),
            getattr(preprocessor, "source_columns_", {}),
        )

    def _default_probability(self, applications: pd.DataFrame) -> np.ndarray:
        return self.champion.predict_proba(applications)[:, 1]

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        """Per application row: probability of default and decision, or the error that kept it
        from being scored (no probability, no decision); the review reason of a referral and any
        warning (a value far outside the training range, an unseen or re-cased category)."""
        valid, problems = check_applications(pd.DataFrame(model_input), self)
        rows = pd.Series(np.arange(1, len(model_input) + 1))
        assessed = pd.DataFrame(
            {"probability_of_default": np.nan, "decision": "", "review_reason": ""},
            index=rows.to_numpy(),
        )
        if len(valid):
            scored = self.assess(valid, self._default_probability(valid))
            assessed.loc[valid[ROW].to_numpy(), list(scored)] = scored.to_numpy()
        return pd.DataFrame(
            {
                "probability_of_default": assessed["probability_of_default"].to_numpy("float64"),
                "decision": assessed["decision"].to_numpy(dtype=object),
                "review_reason": assessed["review_reason"].to_numpy(dtype=object),
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
