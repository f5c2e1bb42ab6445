"""Population stability index (PSI): how far a distribution moved between two samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loan_default.parameters import Drift
from loan_default.validation import ConfigurationError

_DRIFT = Drift()  # the defaults' one home: the schema

# Shares below this are floored so an empty bin on one side gives a large but finite PSI.
DEFAULT_EPSILON = 1e-4


def psi_from_counts(
    expected: Sequence[float] | np.ndarray,
    actual: Sequence[float] | np.ndarray,
    epsilon: float = DEFAULT_EPSILON,
) -> float:
    """PSI = sum((actual% - expected%) * ln(actual% / expected%)) over aligned bins."""
    expected = np.asarray(expected, dtype="float64")
    actual = np.asarray(actual, dtype="float64")
    if expected.shape != actual.shape:
        raise ValueError(
            f"PSI: expected and actual need the same bins, got {expected.shape} and {actual.shape}."
        )
    if expected.sum() <= 0 or actual.sum() <= 0:
        raise ValueError("PSI: both samples need at least one observation.")
    expected_share = np.maximum(expected / expected.sum(), epsilon)
    actual_share = np.maximum(actual / actual.sum(), epsilon)
    return float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share)))


def psi_from_labels(
    expected: pd.Series | Sequence[Any],
    actual: pd.Series | Sequence[Any],
    epsilon: float = DEFAULT_EPSILON,
) -> float:
    """PSI of two samples that are already binned (bin labels; missing is a bin of its own)."""
    expected = pd.Series(expected, dtype="object").fillna("Missing")
    actual = pd.Series(actual, dtype="object").fillna("Missing")
    bins = pd.Index(expected.unique()).union(pd.Index(actual.unique()))
    return psi_from_counts(
        expected.value_counts().reindex(bins, fill_value=0).to_numpy(),
        actual.value_counts().reindex(bins, fill_value=0).to_numpy(),
        epsilon,
    )


@dataclass(frozen=True)
class ReferenceDistribution:
    """A training-period distribution kept for PSI: counts per bin, and the bin edges if numeric.

    Saved with the champion at training time, so scoring measures drift without the training data.
    """

    counts: dict[str, int]
    edges: tuple[float, ...] | None = None

    @classmethod
    def of(cls, values: Sequence[Any] | np.ndarray | pd.Series, n_bins: int = _DRIFT.n_bins):
        """Quantile bins of a numeric sample (missing is a bin of its own), or its labels."""
        values = pd.Series(values)
        edges = None
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            numeric = values.to_numpy(dtype="float64", na_value=np.nan)
            present = numeric[~np.isnan(numeric)]
            if present.size == 0:
                raise ValueError("PSI: the expected sample has no non-missing values.")
            quantiles = np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1])
            edges = tuple(float(edge) for edge in np.unique(quantiles))
        reference = cls({}, edges)
        counts = reference.labels(values).value_counts()
        return cls({str(label): int(count) for label, count in counts.items()}, edges)

    def labels(self, values: Sequence[Any] | np.ndarray | pd.Series) -> pd.Series:
        """Bin label of each value: its quantile bin (numeric) or its category, else Missing."""
        if self.edges is None:
            return pd.Series(values, dtype="object").fillna("Missing").astype(str)
        numeric = pd.Series(values).to_numpy(dtype="float64", na_value=np.nan)
        return _bin_values(numeric, np.asarray(self.edges, dtype="float64")).astype(str)

    def psi(self, actual: Sequence[Any] | np.ndarray | pd.Series, epsilon: float = DEFAULT_EPSILON):
        """PSI of `actual` against this reference, on the reference's own bins."""
        observed = self.labels(actual).value_counts()
        bins = pd.Index(list(self.counts)).union(observed.index)
        expected = pd.Series(self.counts).reindex(bins, fill_value=0)
        return psi_from_counts(
            expected.to_numpy(), observed.reindex(bins, fill_value=0).to_numpy(), epsilon
        )


def population_stability_index(
    expected: Sequence[float] | np.ndarray | pd.Series,
    actual: Sequence[float] | np.ndarray | pd.Series,
    n_bins: int = _DRIFT.n_bins,
    epsilon: float = DEFAULT_EPSILON,
) -> float:
    """PSI of a continuous variable (e.g. a score): quantile bins of `expected`, NaN its own bin."""
    expected = np.asarray(expected, dtype="float64")
    actual = np.asarray(actual, dtype="float64")
    return ReferenceDistribution.of(expected, n_bins).psi(actual, epsilon)


def _bin_values(values: np.ndarray, edges: np.ndarray) -> pd.Series:
    labels = np.searchsorted(edges, values, side="right").astype("object")
    labels[np.isnan(values)] = "Missing"
    return pd.Series(labels, dtype="object")


def band(value: float, bands: Sequence[Mapping[str, Any]]) -> str:
    """Label of the first band whose `below` bound exceeds `value` (`below: null` = no bound)."""
    if value is None or np.isnan(value):
        return "not available"
    for entry in bands:
        if entry.get("below") is None or value < entry["below"]:
            return str(entry["label"])
    raise ConfigurationError(
        f"bands: {value:.4f} is above every `below` bound {[b.get('below') for b in bands]}; "
        "end the list with an entry whose `below` is null."
    )
