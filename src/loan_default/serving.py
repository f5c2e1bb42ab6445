"""The champion as an MLflow pyfunc model: raw application columns in, probability out.

The registered model is self-contained: it carries the fitted preprocessing and model with its
operating threshold (`champion`, a scikit-learn FixedThresholdClassifier), the dataset
configuration it was trained with (`dataset`), the training profile scoring needs for input
checks, reasons and drift (`profile`), and the master scale that turns a probability of default
into a rating grade (`rating_scale`).
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
    model_of,
    preprocessor_of,
)
from loan_default.modelling.rating import MasterScale
from loan_default.modelling.reasons import ReasonExplainer, Wording, describe_reasons
from loan_default.profile import ScoringProfile, typical_row
from loan_default.schema import never_reasons, protected_columns

# A notice gives up to four principal reasons (the default of score.reasons.count).
REASONS = 4


class LoanDefaultModel(mlflow.pyfunc.PythonModel):
    """Types raw application rows like the ingestion does, then asks the champion."""

    def __init__(
        self,
        champion: Any,
        dataset: dict[str, Any],
        profile: ScoringProfile | None = None,
        input_types: dict[str, str] | None = None,
        input_example: pd.DataFrame | None = None,
        reason_count: int = REASONS,
        rating_scale: MasterScale | None = None,
    ) -> None:
        self.champion = champion
        self.dataset = dataset
        self.profile = profile
        self.input_types = input_types or {}
        self.input_example = input_example
        self.reason_count = reason_count
        self.rating_scale = rating_scale

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A champion registered before the FixedThresholdClassifier carries a ScoringModel.
        state["champion"] = as_threshold_classifier(state["champion"])
        state.setdefault("reason_count", REASONS)
        state.setdefault("rating_scale", None)  # registered before the master scale
        self.__dict__.update(state)

    @property
    def threshold(self) -> float:
        """Operating threshold: reject at or above this probability of default."""
        return float(self.champion.threshold)

    def grade(self, probability: np.ndarray) -> np.ndarray:
        """The master-scale grade (1 = safest) of each probability; None for every row of a
        model registered before the scale."""
        if self.rating_scale is None:
            return np.full(len(probability), None, dtype=object)
        return self.rating_scale.grade(probability).astype(object)

    def assess(self, valid: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
        """For checked rows and the champion's probability of each: the probability no lower
        than with the riskiest known level of an unseen category, its rating grade, the decision
        (approve, reject, or refer when a value is far outside the training range) and the
        review reason. Batch, Spark and REST scoring all grade here."""
        floored = floor_unseen_categories(
            valid, probability, self._default_probability, self.profile, self.dataset,
            self._encoder(),
        )  # fmt: skip
        review = review_reasons(valid, self.profile)
        return pd.DataFrame(
            {
                "probability_of_default": floored,
                "rating_grade": self.grade(floored),
                "decision": decisions(floored, self.threshold, review),
                "review_reason": review.to_numpy(dtype=object),
            },
            index=valid.index,
        )

    def explain(
        self,
        applications: pd.DataFrame,
        features: pd.DataFrame,
        explained: np.ndarray,
        count: int | None = None,
    ) -> pd.DataFrame:
        """Up to `count` reasons (default: the registered count) for the `explained` rows of
        checked applications and their encoded `features`, in words, with each reason's
        contribution and the coverage; blank reasons and 0 for the other rows. Batch scoring,
        Spark and REST all explain through here, so a row gets the same reasons everywhere."""
        count = self.reason_count if count is None else count
        model, profile = self.champion, self.profile
        explainer = profile.explainer
        if explainer is None:  # registered before explainers: measured against its typical loan
            reference = typical_row(applications, profile.typical_values)
            preprocessor = preprocessor_of(model)
            explainer = ReasonExplainer.fit(
                model_of(model), preprocessor, preprocessor.transform(reference), reference,
                protected_columns(self.dataset),
            )  # fmt: skip
        wording = Wording.of(
            self.dataset, profile.typical_values, self.input_types, preprocessor_of(model)
        )
        rows = np.flatnonzero(explained)
        contributions = explainer.contributions(features.iloc[rows])
        described = describe_reasons(
            contributions.reset_index(drop=True),
            applications.iloc[rows].reset_index(drop=True),
            wording,
            count,
            never_reasons(self.dataset),
        )
        table = described.set_axis(rows).reindex(range(len(applications)))
        sizes = [c for c in table if c.endswith("_contribution") or c == "reason_coverage"]
        table[sizes] = table[sizes].fillna(0.0)
        return table.fillna("")

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
        """Per application row: probability of default, rating grade, decision, threshold, the
        principal reasons of a rejection (up to four, most important first) and their coverage,
        the review reason of a referral, and any error or warning. A row with an error (not
        scored) has null probability, grade, decision, threshold, reasons and coverage, so the
        JSON answer never holds NaN. `params={"reasons": false}` skips the reasons (Spark explains apart)."""
        valid, problems = check_applications(pd.DataFrame(model_input), self)
        rows = pd.Series(np.arange(1, len(model_input) + 1))
        n = len(rows)
        probability = np.full(n, None, dtype=object)
        grade = np.full(n, None, dtype=object)
        decision = np.full(n, None, dtype=object)
        threshold = np.full(n, None, dtype=object)
        review = np.full(n, "", dtype=object)
        reasons = np.full(n, None, dtype=object)
        coverage = np.full(n, None, dtype=object)
        if len(valid):
            at = valid[ROW].to_numpy() - 1
            model = self.champion
            features = preprocessor_of(model).transform(valid) if self._encoder() else None
            scored = self.assess(
                valid,
                default_probability(model, features)
                if features is not None
                else self._default_probability(valid),
            )
            probability[at] = scored["probability_of_default"].astype(float).tolist()
            grade[at] = scored["rating_grade"].tolist()
            decision[at] = scored["decision"].tolist()
            threshold[at] = self.threshold
            review[at] = scored["review_reason"].tolist()
            rejected = scored["decision"].to_numpy() == "reject"
            given = [[] for _ in at]
            if (params or {}).get("reasons", True) and features is not None:
                table = self.explain(valid.reset_index(drop=True), features, rejected)
                ranked = table.filter(regex=r"^reason_\d+$")  # fewer with fewer columns
                given = [[r for r in row if r] for row in ranked.to_numpy(dtype=object)]
                coverage[at] = np.where(rejected, table["reason_coverage"], None).tolist()
            for row, listed in zip(at, given, strict=True):  # lists, one per row (never 2-D)
                reasons[row] = listed
        columns = {
            "probability_of_default": probability,
            "rating_grade": grade,
            "decision": decision,
            "threshold": threshold,
            "reasons": reasons,
            "reason_coverage": coverage,
            "review_reason": review,
            "error": summarise_problems(rows, problems, "error").to_numpy(dtype=object),
            "warning": summarise_problems(rows, problems, "warning").to_numpy(dtype=object),
        }
        # Object columns keep None as None (JSON null); pandas would read a missing string or
        # number as NaN, which is no JSON at all.
        return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})


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
