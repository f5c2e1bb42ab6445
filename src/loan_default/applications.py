"""New applications, checked and typed the way training typed its loans.

One path for the score pipeline and the registered pyfunc model: every input column is parsed
with the parser training used; a row with an unparsable value or a value outside the column's
hard bounds is an error (left out, named in the errors table); a value far outside the training
range or a category never seen in training is a warning (scored, and said so).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from loan_default.pipelines.ingestion.nodes import add_derived_features
from loan_default.pipelines.ingestion.parsers import PARSERS, unparsable
from loan_default.schema import feature_columns, text_columns
from loan_default.validation import DataValidationError

ROW = "application_row"
PROBLEM_COLUMNS = [ROW, "severity", "column", "value", "problem"]
NUMERIC_KINDS = {"numeric", "percent", "months", "years"}
TEXT = "text"  # free text: optional, never parsed


def derived_sources(dataset: dict[str, Any], columns: Any) -> set[str]:
    """Raw columns the derived features are computed from."""
    sources: set[str] = set()
    for spec in dataset["derived_features"].values():
        sources |= set(spec["ratio"] or []) | set(spec["months_between"] or [])
        if spec["expression"]:
            names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", spec["expression"]))
            sources |= names & set(columns)
    return sources


def input_types(
    raw_loans: pd.DataFrame,
    train_loans: pd.DataFrame,
    column_types: dict[str, str],
    dataset: dict[str, Any],
) -> dict[str, str]:
    """Raw columns the champion needs and the parser of each: the one the ingestion used
    (`column_types`), else how pandas typed the training loans (numeric, otherwise category)."""
    used = set(feature_columns(train_loans, dataset)) | derived_sources(dataset, raw_loans.columns)
    types = {}
    for column in (column for column in raw_loans.columns if column in used):
        if column in text_columns(dataset):
            types[column] = TEXT
            continue
        configured = column_types.get(column)
        values = train_loans[column] if column in train_loans else raw_loans[column]
        types[column] = configured or _inferred_kind(values)
    return types


def _inferred_kind(values: pd.Series) -> str:
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return "numeric" if numeric else "category"


def hard_bounds(
    train_loans: pd.DataFrame, types: dict[str, str], dataset: dict[str, Any]
) -> dict[str, tuple[float | None, float | None]]:
    """Configured bounds (dataset.bounds), else: non-negative when training had no negatives."""
    bounds = {}
    for column, kind in types.items():
        configured = dataset["bounds"].get(column)
        if configured is not None:
            bounds[column] = (configured["min"], configured["max"])
        elif kind in NUMERIC_KINDS and column in train_loans:
            values = pd.to_numeric(train_loans[column], errors="coerce").dropna()
            if len(values) and values.min() >= 0:
                bounds[column] = (0.0, None)
    return bounds


def check_applications(raw: pd.DataFrame, champion: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed, derived rows that can be scored (with their row number) and the problems found.

    `champion` is the registered model (LoanDefaultModel): its input types, dataset
    configuration and training profile say how training saw each column.
    """
    dataset, profile, types = champion.dataset, champion.profile, champion.input_types
    if raw.empty:
        raise DataValidationError("applications: the file has no rows (only a header or nothing).")
    missing = [c for c, kind in types.items() if c not in raw.columns and kind != TEXT]
    if missing:
        raise DataValidationError(
            f"applications: {len(missing)} required column(s) missing: {missing}; no application "
            "can be scored without them (the champion was trained on them)."
        )
    # Identifiers are carried along untouched, so a scored row can be matched to its applicant.
    carried = [c for c in dataset["identifier_columns"] if c in raw.columns and c not in types]
    absent_text = [column for column in types if column not in raw.columns]
    applications = raw.reindex(columns=[*carried, *types]).reset_index(drop=True)
    applications.insert(0, ROW, np.arange(1, len(raw) + 1))
    problems: list[tuple] = []
    for column in absent_text:
        problems += _rows(
            applications, np.ones(len(raw), dtype=bool), applications[column], "warning",
            column, "text column not provided; scored as empty text",
        )  # fmt: skip
    for column, kind in types.items():
        if kind == TEXT:
            continue
        values = raw[column].reset_index(drop=True)
        parsed = PARSERS[kind](values, date_formats=dataset["date_formats"])
        failed = unparsable(values, parsed)
        problems += _rows(
            applications, failed, values, "error", column, f"not a valid {kind} value"
        )
        applications[column] = parsed.to_numpy()
        if kind in NUMERIC_KINDS:
            problems += _bound_problems(applications, column, profile)
    problems += _unseen_categories(applications, profile.categories)
    table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    table = table.sort_values([ROW, "severity"], kind="stable").reset_index(drop=True)
    rejected = set(table.loc[table["severity"] == "error", ROW])
    valid = applications[~applications[ROW].isin(rejected)]
    return add_derived_features(valid, dataset).reset_index(drop=True), table


def _rows(
    applications: pd.DataFrame, mask: Any, values: pd.Series, severity: str, column: str, why: str
) -> list[tuple]:
    mask = np.asarray(mask, dtype=bool)
    return [
        (row, severity, column, str(value), why)
        for row, value in zip(applications.loc[mask, ROW], values[mask], strict=True)
    ]


def _bound_problems(applications: pd.DataFrame, column: str, profile: Any) -> list[tuple]:
    values = pd.to_numeric(applications[column], errors="coerce")
    problems = []
    low, high = profile.hard_bounds.get(column, (None, None))
    if low is not None:
        problems += _rows(applications, values < low, values, "error", column, f"below {low:g}")
    if high is not None:
        problems += _rows(applications, values > high, values, "error", column, f"above {high:g}")
    if column in profile.numeric_ranges:
        seen_low, seen_high = profile.numeric_ranges[column]
        margin = profile.range_tolerance * max(seen_high - seen_low, abs(seen_high), 1e-9)
        outside = (values < seen_low - margin) | (values > seen_high + margin)
        if low is not None:
            outside &= values >= low
        if high is not None:
            outside &= values <= high
        why = f"far outside the training range [{seen_low:,.6g}, {seen_high:,.6g}]; scored"
        problems += _rows(applications, outside, values, "warning", column, why)
    return problems


def _unseen_categories(applications: pd.DataFrame, categories: dict[str, list[str]]) -> list[tuple]:
    """Warnings for categories never seen in training (scored as an unknown category)."""
    problems = []
    for column, known in categories.items():
        if column in applications:
            values = applications[column]
            unseen = values.notna() & ~values.astype(str).isin(set(known))
            why = "category not seen in training; scored as unknown"
            problems += _rows(applications, unseen, values, "warning", column, why)
    return problems


def summarise_problems(rows: pd.Series, problems: pd.DataFrame, severity: str) -> pd.Series:
    """Per application row, its problems of one severity as `column = value: problem; ...`."""
    chosen = problems[problems["severity"] == severity]
    text = chosen["column"] + " = " + chosen["value"] + ": " + chosen["problem"]
    joined = text.groupby(chosen[ROW]).agg("; ".join)
    return rows.map(joined).fillna("")
