"""Split nodes: out-of-time by default, stratified random when the data has no dates."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default.core.split import resolve_split_method
from loan_default.parameters import Dataset, Split, Training
from loan_default.pipelines.lazy import cross_validation, sklearn_model_selection, tracking
from loan_default.schema import sample_weights, target_column, target_values
from loan_default.validation import ConfigurationError, require_both_classes

logger = logging.getLogger(__name__)


def split_loans(
    loans: pd.DataFrame, dataset: Dataset, split: Split
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Training loans, test loans (out-of-time or stratified random, as configured) and every
    training loan again as `training_population`, the table whole-table statistics describe
    (the same loans: only the Spark engine samples the training loans, to `split.row_budget`)."""
    method = resolve_split_method(dataset, split)
    target = target_column(dataset)
    if method == "out_of_time":
        dates = loans[dataset.date_column]
        if dates.isna().any():
            raise ConfigurationError(
                f"split: {int(dates.isna().sum()):,} loans have no '{dataset.date_column}' "
                "date, so they cannot be placed before or after the cut-off."
            )
        cutoff = _cutoff(dates, dataset, split)
        is_test = dates >= cutoff
        train, test = loans.loc[~is_test], loans.loc[is_test]
    else:
        train, test = sklearn_model_selection.train_test_split(
            loans,
            test_size=split.test_size,
            stratify=loans[target],
            random_state=split.random_state,
        )
        train, test = train.sort_index(), test.sort_index()
    for name, part in (("training", train), ("test", test)):
        require_both_classes(part[target], f"split ({method}): {name} set")
    logger.info("Split %s: %d training loans, %d test loans", method, len(train), len(test))
    train = train.reset_index(drop=True)
    return train, test.reset_index(drop=True), train


def _cutoff(dates: pd.Series, dataset: Dataset, split: Split) -> pd.Timestamp:
    """dataset.split_cutoff, or the date that leaves the latest `test_size` share for test."""
    if dataset.split_cutoff is not None:
        return pd.Timestamp(dataset.split_cutoff)
    cutoff = dates.sort_values().iloc[int(len(dates) * (1 - split.test_size))]
    logger.info("dataset.split_cutoff not set: %s leaves the latest loans for test", cutoff.date())
    return pd.Timestamp(cutoff)


def describe_test_set(dataset: Dataset, split: Split) -> dict[str, str]:
    """How reports name the test set: out-of-time only when the split really was out of time."""
    method = resolve_split_method(dataset, split)
    if method == "out_of_time":
        return {"method": method, "name": "out-of-time test set", "loans": "out-of-time test loans"}
    return {
        "method": method,
        "name": "held-out test set (random, stratified)",
        "loans": "held-out test loans (random, stratified)",
    }


def summarise_split(
    train_loans: pd.DataFrame, test_loans: pd.DataFrame, dataset: Dataset
) -> pd.DataFrame:
    """One row per split: loans and defaults it stands for, default rate, loans kept (fewer
    only when the Spark environment sampled above a row budget) and date range."""
    target, date_column = target_column(dataset), dataset.date_column
    rows = []
    for name, part in (("train", train_loans), ("test", test_loans)):
        y, weights = part[target].to_numpy(dtype=float), _weights(part)
        row = {
            "split": name,
            "loans": round(float(weights.sum())),
            "defaults": round(float(weights @ y)),
            "default_rate": round(float(np.average(y, weights=weights)), 4),
            "kept_loans": len(part),
        }
        if date_column:
            row["first_date"] = part[date_column].min().date().isoformat()
            row["last_date"] = part[date_column].max().date().isoformat()
        rows.append(row)
    return pd.DataFrame(rows)


def _weights(loans: pd.DataFrame) -> np.ndarray:
    weights = sample_weights(loans)
    return np.ones(len(loans)) if weights is None else weights


def assign_cv_folds(
    train_loans: pd.DataFrame, dataset: Dataset, training: Training
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Folds inside the training loans: those that choose (time-ordered when the loans have
    dates) and, when `training.cv.compare` is set, the other scheme's for the report."""
    cv, date_column = training.cv, dataset.date_column
    y = target_values(train_loans, dataset)
    dates = train_loans[date_column] if date_column else None
    scheme = cross_validation.resolve_scheme(cv, date_column)
    folds = cross_validation.assign_folds(y, dates, cv, scheme)
    other = {"time": "stratified", "stratified": "time" if date_column else None}[scheme]
    if cv.compare and other:
        comparison = cross_validation.assign_folds(y, dates, cv, other)
    else:
        comparison = pd.DataFrame(columns=cross_validation.FOLD_COLUMNS)
    return folds, comparison


def describe_cv_folds(
    cv_folds: pd.DataFrame,
    comparison_cv_folds: pd.DataFrame,
    train_loans: pd.DataFrame,
    dataset: Dataset,
) -> dict[str, Any]:
    """Which scheme chooses, which one is only compared, and each fold's rows (and months)."""
    date_column = dataset.date_column

    def span(rows: np.ndarray) -> str:
        text = f"{len(rows):,} loans"
        if date_column:
            dates = train_loans[date_column].iloc[rows]
            text += f", {dates.min():%Y-%m} to {dates.max():%Y-%m}"
        return text

    folds = [
        {"repeat": repeat + 1, "fold": fold + 1, "fit": span(fit), "validate": span(valid)}
        for repeat, fold, fit, valid in cross_validation.iter_folds(cv_folds)
    ]
    comparison = comparison_cv_folds["scheme"].iloc[0] if len(comparison_cv_folds) else None
    return {"selection": cv_folds["scheme"].iloc[0], "comparison": comparison, "folds": folds}


def describe_modelling_table(
    train_loans: pd.DataFrame, test_loans: pd.DataFrame, dataset: Dataset
) -> dict[str, dict[str, float]]:
    """For MLflow: training and test loans kept, how many they stand for, and each class's
    weight (1 unless the Spark environment sampled above split.row_budget or
    split.test_row_budget)."""
    values = {}
    for table, loans in (("modelling_table", train_loans), ("test_table", test_loans)):
        y, weights = target_values(loans, dataset), _weights(loans)
        values |= {
            f"{table}.kept_loans": float(len(y)),
            f"{table}.represented_loans": float(weights.sum()),
            f"{table}.weight_default": float(weights[y == 1].max(initial=1.0)),
            f"{table}.weight_repaid": float(weights[y == 0].max(initial=1.0)),
        }
    return {
        tracking.metric_name(name): {"value": value, "step": 0} for name, value in values.items()
    }
