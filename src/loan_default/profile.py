"""What scoring needs to know about the training loans, saved with the champion at training time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loan_default.parameters import Plausibility
from loan_default.schema import (
    feature_columns,
    label_text,
    structured_feature_columns,
    text_columns,
)
from loan_default.stability import ReferenceDistribution

_PLAUSIBILITY = Plausibility()  # the defaults' one home: the schema


@dataclass(frozen=True)
class ScoringProfile:
    """Training-period facts the registered champion carries, so scoring never reads data/.

    - `typical_values`: per feature, the typical *approved* training applicant's value (median
      or most frequent), what reasons compare with; `explainer`: the champion's per-column
      contributions against approved applicants (modelling/reasons.py);
    - `numeric_ranges` and `categories`: what training saw, for input checks; `hard_bounds`:
      values no application may have; `range_tolerance`: how far outside the training range a
      value may go before it is flagged;
    - `score_reference` and `feature_references`: distributions for drift (PSI).
    """

    typical_values: pd.DataFrame
    numeric_ranges: dict[str, tuple[float, float]]
    categories: dict[str, list[str]]
    score_reference: ReferenceDistribution
    feature_references: dict[str, ReferenceDistribution] = field(default_factory=dict)
    training_rows: int = 0
    hard_bounds: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    range_tolerance: float = _PLAUSIBILITY.range_tolerance
    explainer: Any = None  # a ReasonExplainer (None in models registered before it)


def typical_values(train_loans: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """A typical loan: the median of each numeric or ordered feature, the most frequent category
    otherwise; missing when most loans have no value (e.g. no public record on file)."""
    rows = []
    texts = set(text_columns(dataset))
    orders = dataset.get("categorical_orders") or {}
    for column in feature_columns(train_loans, dataset):
        if column in texts:  # the typical text is none at all
            rows.append({"feature": column, "typical_value": "", "numeric": False})
            continue
        values = train_loans[column].dropna()
        if values.empty:
            continue
        numeric = pd.api.types.is_numeric_dtype(values)
        if len(values) < len(train_loans) / 2:
            typical = np.nan
        elif numeric:
            typical = values.median()
        elif column in orders:  # the middle of the order, not its most frequent value
            order = [label_text(v) for v in orders[column]]
            ranks = (
                values.astype(str).map({label: rank for rank, label in enumerate(order)}).dropna()
            )
            typical = order[int(ranks.median())] if len(ranks) else values.mode().iloc[0]
        else:
            typical = values.mode().iloc[0]
        rows.append({"feature": column, "typical_value": typical, "numeric": numeric})
    return pd.DataFrame(rows, columns=["feature", "typical_value", "numeric"])


def typical_row(train_loans: pd.DataFrame, typical: pd.DataFrame) -> pd.DataFrame:
    """One loan with every feature at its typical value (other columns as the first loan)."""
    row = train_loans.iloc[[0]].copy()
    for feature, value in zip(typical["feature"], typical["typical_value"], strict=True):
        row[feature] = value
    return row


def build_profile(
    train_loans: pd.DataFrame,
    training_scores: Any,
    top_features: list[str],
    dataset: dict[str, Any],
    n_bins: int,
    hard_bounds: dict[str, tuple[float | None, float | None]] | None = None,
    range_tolerance: float = _PLAUSIBILITY.range_tolerance,
    approved: Any = None,
    explainer: Any = None,
) -> ScoringProfile:
    """Profile of the training loans and of the champion's scores on them (`approved`: mask
    of the training loans the champion approves; default all)."""
    ranges, categories = {}, {}
    for column in structured_feature_columns(train_loans, dataset):
        values = train_loans[column].dropna()
        if values.empty:
            continue
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            ranges[column] = (float(values.min()), float(values.max()))
        elif not pd.api.types.is_datetime64_any_dtype(values):
            categories[column] = sorted(values.astype(str).unique())
    return ScoringProfile(
        typical_values=typical_values(
            train_loans if approved is None else train_loans[approved], dataset
        ),
        numeric_ranges=ranges,
        categories=categories,
        score_reference=ReferenceDistribution.of(training_scores, n_bins),
        feature_references={
            feature: ReferenceDistribution.of(train_loans[feature], n_bins)
            for feature in top_features
            if feature in train_loans
        },
        training_rows=len(train_loans),
        hard_bounds=hard_bounds or {},
        range_tolerance=range_tolerance,
        explainer=explainer,
    )
