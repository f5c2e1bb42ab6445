"""Nodes that more than one stage uses."""

from __future__ import annotations

from typing import Any

import pandas as pd

from loan_default.parameters import Dataset
from loan_default.pipelines.lazy import metrics, results


def summarise_folds(
    predictions: pd.DataFrame,
    points: dict[str, dict[str, Any]],
    train_loans: pd.DataFrame,
    dataset: Dataset,
) -> pd.DataFrame:
    """Every metric per configuration (or baseline) x repeat x fold, tidy: one row each."""
    return results.configuration_metrics(
        predictions, points, metrics.Outcomes.of(train_loans, dataset), per_fold=True
    )
