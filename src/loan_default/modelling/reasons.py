"""Adverse-action reasons: the characteristics that raised an applicant's default risk most.

Contributions are per input column, in probability of default, against typical *approved*
training applicants (what a notice compares with):
- XGBoost: its own per-feature contributions (`pred_contribs`), in log-odds, which add up to
  the model's log-odds exactly. `exact` uses TreeSHAP; the default, `approximate`, the
  per-path attribution (`approx_contribs`, Saabas), about 20 times faster for the tuned model
  (depth 5, ~500 trees): its principal reasons agree closely (see docs/fair-lending.md);
- a scaled logistic regression: coefficient x scaled value, in log-odds (exact for a linear model);
- an ensemble: each member's contributions scaled to probability by its slope p(1 - p) at this
  applicant, averaged as the ensemble averages probabilities (a first-order attribution);
- any other model: occlusion, the PD minus the PD with the column set to the typical approved
  applicant's value.
Additive contributions are taken relative to their mean over approved training applicants.
Encoded columns (one-hot categories, missing indicators, text features) are summed back to the
input column they came from. The WoE scorecard uses the points-below-maximum method instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from xgboost import DMatrix, XGBClassifier

from loan_default.schema import column_labels

from .baselines import WoEScorecard
from .ensemble import AveragedClassifier

# One member's additive explanation: log-odds contributions (rows x encoded columns), its
# probability per row and its weight in the final probability.
Part = tuple[np.ndarray, np.ndarray, float]


def _sigmoid(log_odds: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-log_odds))


# The slope p(1 - p) of the probability in log-odds is 0 where p rounds to exactly 0 or 1 in
# floating point; floored, such an applicant's reasons keep their log-odds order instead of
# vanishing (a rejection at PD 1.0 still gets its reasons).
MIN_SLOPE = 1e-12


def _slope(probability: np.ndarray) -> np.ndarray:
    return np.maximum(probability * (1 - probability), MIN_SLOPE)


def additive_parts(
    estimator: BaseEstimator, X: pd.DataFrame, exact: bool = False
) -> list[Part] | None:
    """Log-odds contributions of each additive member, or None for any other model (`exact`:
    TreeSHAP for tree ensembles instead of the per-path attribution)."""
    if isinstance(estimator, AveragedClassifier):
        members = [additive_parts(member, X, exact) for member in estimator.estimators_]
        if any(parts is None for parts in members):
            return None
        share = 1.0 / len(members)
        return [(c, p, share * w) for parts in members for c, p, w in parts]
    if isinstance(estimator, XGBClassifier):
        matrix = DMatrix(X.to_numpy(dtype="float32"), feature_names=list(X.columns))
        booster = estimator.get_booster()
        booster.set_param({"nthread": os.cpu_count() or 1})  # fitted single-threaded (the grid)
        contributions = booster.predict(matrix, pred_contribs=True, approx_contribs=not exact)
        return [(contributions[:, :-1], _sigmoid(contributions.sum(axis=1)), 1.0)]
    if isinstance(estimator, Pipeline) and isinstance(estimator[-1], LogisticRegression):
        scaled = np.asarray(estimator[:-1].transform(X), dtype=float) if len(estimator) > 1 else X
        model = estimator[-1]
        contributions = np.asarray(scaled, dtype=float) * model.coef_[0]
        probability = _sigmoid(contributions.sum(axis=1) + model.intercept_[0])
        return [(contributions, probability, 1.0)]
    return None


@dataclass
class ReasonExplainer:
    """Per-column contributions of one champion, measured against its approved applicants.

    Built once at registration (`fit`) and carried inside the registered model.
    """

    model: BaseEstimator  # the final estimator, fed the preprocessor's output
    feature_names: list[str]
    sources: list[str]  # per encoded column, the input column it came from
    excluded: list[str] = field(default_factory=list)  # never a reason (protected columns)
    exact: bool = False  # trees: TreeSHAP instead of the per-path attribution
    baselines: list[np.ndarray] | None = None  # additive: mean contributions of the approved
    reference: pd.DataFrame | None = None  # occlusion: a typical approved applicant, encoded

    @property
    def columns(self) -> list[str]:
        """Input columns that can be reasons, in feature order."""
        seen = dict.fromkeys(self.sources)
        return [column for column in seen if column not in self.excluded]

    @classmethod
    def fit(
        cls,
        model: BaseEstimator,
        preprocessor: Any,
        approved_features: pd.DataFrame,
        typical_approved: pd.DataFrame,
        excluded: Iterable[str] = (),
        exact: bool = False,
        max_rows: int = 5000,
    ) -> ReasonExplainer:
        """An explainer for `model` after `preprocessor`, given the approved training applicants'
        encoded features (their mean contributions: from up to `max_rows` of them) and one
        typical approved applicant (raw columns)."""
        names = list(preprocessor.get_feature_names_out())
        mapping = getattr(preprocessor, "source_columns_", {})
        sources = [mapping.get(n, n) for n in names]
        explainer = cls(model, names, sources, list(excluded), exact)
        if len(approved_features) > max_rows:  # a mean: a seeded sample estimates it closely
            approved_features = approved_features.sample(n=max_rows, random_state=0)
        parts = additive_parts(model, approved_features[names], exact)
        if parts is not None:
            explainer.baselines = [contributions.mean(axis=0) for contributions, _, _ in parts]
        else:
            explainer.reference = preprocessor.transform(typical_approved)[names]
        return explainer

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Rows x input columns: how much each column raises the PD (negative: lowers it)."""
        X = features[self.feature_names]
        if X.empty:  # e.g. a batch without rejections
            return pd.DataFrame(columns=self.columns, index=X.index, dtype=float)
        parts = additive_parts(self.model, X, self.exact) if self.baselines is not None else None
        if parts is None:
            return self._occlusion(X)
        encoded = sum(
            weight * _slope(probability)[:, None] * (contributions - baseline)
            for (contributions, probability, weight), baseline in zip(
                parts, self.baselines, strict=True
            )
        )
        # Encoded columns -> their input column: one matrix product with a 0/1 membership.
        sources = np.asarray(self.sources, dtype=object)
        membership = (sources[:, None] == np.asarray(self.columns, dtype=object)).astype(float)
        return pd.DataFrame(encoded @ membership, columns=self.columns, index=X.index)

    def _occlusion(self, X: pd.DataFrame) -> pd.DataFrame:
        probability = self.model.predict_proba(X)[:, 1]
        sources = np.asarray(self.sources)
        out = {}
        for column in self.columns:
            encoded = [
                name for name, s in zip(self.feature_names, sources, strict=True) if s == column
            ]
            typical = X.copy()
            typical[encoded] = self.reference[encoded].to_numpy().repeat(len(X), axis=0)
            out[column] = probability - self.model.predict_proba(typical)[:, 1]
        return pd.DataFrame(out, index=X.index)


def scorecard_points_below_maximum(scorecard: WoEScorecard, loans: pd.DataFrame) -> pd.DataFrame:
    """Rows x characteristics: points the applicant falls short of the characteristic's best
    attribute in the scorecard's points table (the classic adverse-action method; 0 = best)."""
    points = scorecard.attribute_points(loans)
    best = scorecard.maximum_points()[points.columns]
    return (best - points).clip(lower=0.0)


def top_reasons(contributions: pd.DataFrame, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the `count` columns with the largest positive contributions (names, values);
    a slot without a positive contribution has name '' and value 0."""
    values = contributions.to_numpy(dtype=float)
    count = min(count, values.shape[1])
    order = np.argsort(-values, axis=1, kind="stable")[:, :count]
    chosen = np.take_along_axis(values, order, axis=1)
    names = contributions.columns.to_numpy(dtype=object)[order]
    positive = chosen > 0
    return np.where(positive, names, ""), np.where(positive, chosen, 0.0)


@dataclass(frozen=True)
class Wording:
    """How reasons name columns and show values."""

    labels: dict[str, str] = field(default_factory=dict)
    percent_columns: frozenset[str] = frozenset()
    text_columns: frozenset[str] = frozenset()
    typical: dict[str, Any] = field(default_factory=dict)  # typical approved applicant

    @classmethod
    def of(
        cls, dataset: dict[str, Any], typical_values: pd.DataFrame, input_types: dict[str, str]
    ) -> Wording:
        """Labels from the dataset parameters, percent and text columns from the champion's
        input parsers, and the typical approved applicant of its profile."""
        return cls(
            labels=column_labels(dataset),
            percent_columns=frozenset(c for c, kind in input_types.items() if kind == "percent"),
            text_columns=frozenset(c for c, kind in input_types.items() if kind == "text"),
            typical=dict(
                zip(typical_values["feature"], typical_values["typical_value"], strict=True)
            ),
        )

    def label(self, column: str) -> str:
        """The column's label from conf, or its name."""
        return self.labels.get(column) or column

    def show(self, column: str, value: Any) -> str:
        """A value as an applicant would recognise it."""
        if isinstance(value, float | int | np.floating | np.integer) and not isinstance(
            value, bool
        ):
            if column in self.percent_columns:  # as written ("17.5%"), not as parsed (0.175)
                return f"{100 * value:.4g}%"
            return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
        return str(value)

    def sentence(self, column: str, value: Any) -> str:
        """e.g. "Revolving utilisation 97% — higher than typical approved applicants (54%)"."""
        label = self.label(column)
        if column in self.text_columns:  # what raised the PD is its wording: never quoted back
            written = isinstance(value, str) and value.strip()
            return f"{label}: {'its wording' if written else 'none given'}"
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return f"{label}: not given"
        return f"{label} {self.show(column, value)}{self._compared(column, value)}"

    def _compared(self, column: str, value: Any) -> str:
        """How the value compares with the typical approved applicant's ('' if alike)."""
        if column not in self.typical:
            return ""
        typical = self.typical[column]
        if not isinstance(typical, str) and pd.isna(typical):
            return " — most approved applicants have none on record"
        if str(value) == str(typical):
            return ""
        shown = self.show(column, typical)
        if isinstance(value, str) or isinstance(typical, str):
            return f" — typical approved applicants: {shown}"
        return f" — {'higher' if value > typical else 'lower'} than typical approved applicants ({shown})"


def describe_reasons(
    contributions: pd.DataFrame, applications: pd.DataFrame, wording: Wording, count: int
) -> pd.DataFrame:
    """`reason_1..count` sentences and `reason_k_contribution` (PD points) per application."""
    names, values = top_reasons(contributions, count)
    named = {name for name in names.ravel() if name}
    columns = {name: applications[name].to_numpy(dtype=object) for name in named}
    said: dict[tuple[str, Any], str] = {}  # the same value of a column reads the same

    def sentence(name: str, row: int) -> str:
        value = columns[name][row]
        try:
            if (name, value) not in said:
                said[name, value] = wording.sentence(name, value)
            return said[name, value]
        except TypeError:  # an unhashable value
            return wording.sentence(name, value)

    out = {}
    for rank in range(names.shape[1]):
        sentences = [sentence(name, row) if name else "" for row, name in enumerate(names[:, rank])]
        out[f"reason_{rank + 1}"] = sentences
        out[f"reason_{rank + 1}_contribution"] = values[:, rank].round(4)
    return pd.DataFrame(out, index=contributions.index)
