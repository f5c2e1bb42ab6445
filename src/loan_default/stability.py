"""Population stability index (PSI): how far a distribution moved between two samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loan_default.validation import ConfigurationError

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


def population_stability_index(
    expected: Sequence[float] | np.ndarray | pd.Series,
    actual: Sequence[float] | np.ndarray | pd.Series,
    n_bins: int = 10,
    epsilon: float = DEFAULT_EPSILON,
) -> float:
    """PSI of a continuous variable (e.g. a score): quantile bins of `expected`, NaN its own bin."""
    expected = np.asarray(expected, dtype="float64")
    actual = np.asarray(actual, dtype="float64")
    present = expected[~np.isnan(expected)]
    if present.size == 0:
        raise ValueError("PSI: the expected sample has no non-missing values.")
    edges = np.unique(np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return psi_from_labels(_bin_values(expected, edges), _bin_values(actual, edges), epsilon)


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
