"""Ingestion nodes: type the raw table, derive the target, keep application-time columns only."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default.config_checks import check_dataset_config
from loan_default.core.ingestion import (
    derive_features,
    drop_reasons,
    dropped_table,
    duplicate_summary,
    judge_duplicates,
    label_loans,
    parse_columns,
    resolve_column_types,
)
from loan_default.core.profiles import profile
from loan_default.parameters import Dataset
from loan_default.raw_file import check_empty_columns
from loan_default.schema import RAW_ROW, required_raw_columns
from loan_default.validation import (
    ConfigurationError,
    DataValidationError,
    describe_examples,
    require_both_classes,
)

logger = logging.getLogger(__name__)


def _source(dataset: Dataset) -> str:
    return dataset.source_file


def parse_raw_loans(
    raw_loans: pd.DataFrame, dataset: Dataset
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Check the raw table's shape, parse every typed column, number the raw rows; and say which
    parser each column got (configured, the date column, or inferred from its text)."""
    source = _source(dataset)
    target_column = dataset.target.column
    if not raw_loans.empty and target_column not in raw_loans.columns:
        raise DataValidationError(
            f"{source}: target column '{target_column}' is missing "
            f"(columns present: {describe_examples(raw_loans.columns)})."
        )
    types = resolve_column_types(raw_loans, dataset)
    parsed = parse_columns(raw_loans, dataset, required_raw_columns(dataset), source, types)
    check_dataset_config(raw_loans, dataset, source)
    check_empty_columns(raw_loans, dataset, source)
    # Which raw row each loan came from, so a later stage can score the raw test rows.
    parsed.insert(0, RAW_ROW, np.arange(len(parsed)))
    return parsed, types


def handle_duplicates(
    parsed_loans: pd.DataFrame, dataset: Dataset
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Find exact duplicate rows and repeated identifiers; stop, or keep the first copy (see
    `judge_duplicates`).

    Copies of one loan would land in both training and validation folds (or in training and
    test) and inflate every estimate, so they are dealt with before anything is learned.
    """
    source, action = _source(dataset), dataset.duplicates.action
    if action not in {"error", "drop"}:
        raise ConfigurationError(
            f"dataset.duplicates.action: unknown action '{action}' (known: error, drop)."
        )
    exact = parsed_loans.drop(columns=RAW_ROW, errors="ignore").duplicated(keep="first")
    repeated_ids = {}
    for column in dataset.identifier_columns:
        if column in parsed_loans:
            values = parsed_loans[column]
            repeated_ids[column] = values.notna() & values.duplicated(keep="first") & ~exact
    repeated = pd.concat(repeated_ids, axis=1).any(axis=1) if repeated_ids else exact & False
    summary = duplicate_summary(
        action,
        len(parsed_loans),
        int(exact.sum()),
        {name: int(mask.sum()) for name, mask in repeated_ids.items()},
    )
    if not (exact | repeated).any():
        return parsed_loans, summary
    details = []
    if exact.any():
        hashes = pd.util.hash_pandas_object(
            parsed_loans.drop(columns=RAW_ROW, errors="ignore"), index=False
        )
        copy = parsed_loans.index[exact][0]
        original = hashes.index[hashes == hashes.loc[copy]][0]
        details.append(
            f"{int(exact.sum()):,} exact duplicate row(s) (e.g. data row {copy + 1} repeats "
            f"data row {original + 1})"
        )
    for column, mask in repeated_ids.items():
        if mask.any():
            examples = describe_examples(parsed_loans.loc[mask, column].unique().tolist())
            details.append(
                f"{int(mask.sum()):,} more row(s) repeating a '{column}' value {examples}"
            )
    message = judge_duplicates(source, details, summary, dataset.duplicates)
    keep = ~(exact | repeated)
    summary["dropped_rows"] = int((~keep).sum())
    logger.warning("%s Dropped %d row(s), kept the first copy.", message, summary["dropped_rows"])
    return parsed_loans.loc[keep].reset_index(drop=True), summary


def derive_target(parsed_loans: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Map outcome labels to 1 (default) / 0 (repaid); unfinished loans are dropped."""
    labelled = label_loans(parsed_loans, dataset)
    target = dataset.target
    require_both_classes(
        labelled[target.output_column], f"{_source(dataset)}: target '{target.column}'"
    )
    return labelled


def add_derived_features(labelled_loans: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Add application-time features (ratios, durations, expressions) declared in parameters."""
    return derive_features(labelled_loans, dataset)


def select_application_columns(
    loans: pd.DataFrame, dataset: Dataset
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop leakage, identifier, excluded, empty, constant and raw date columns, with reasons."""
    reasons = drop_reasons(list(loans.columns), lambda column: profile(loans[column]), dataset)
    return loans.drop(columns=list(reasons)), dropped_table(reasons)
