"""Ingestion rules: column types and parsing, duplicates, the target's labels, derived features
and which columns an application-time model may use. The pandas nodes
(`pipelines.ingestion.nodes`) and the Spark engine (`spark.ingestion`) both apply them."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from loan_default.core.parsers import PARSERS, unparsable
from loan_default.core.profiles import ColumnProfile
from loan_default.schema import label_text, label_texts, meta_columns
from loan_default.validation import DataValidationError, describe_examples

logger = logging.getLogger(__name__)


def resolve_column_types(raw: pd.DataFrame, dataset: dict[str, Any]) -> dict[str, str]:
    """Configured parsers; `date` for the date column; `percent` or `date` for unlisted text
    columns whose every value reads as one (e.g. "12.5%", "2019-03-15"); others as pandas read them."""
    types = dict(dataset["column_types"])
    date_column = dataset["date_column"]
    if date_column and date_column not in types:
        types[date_column] = "date"
    removed = set(dataset["identifier_columns"]) | set(dataset["excluded_columns"])
    removed |= {dataset["target"]["column"]}
    for column in raw.columns:
        leaked = any(fnmatch.fnmatch(column, pattern) for pattern in dataset["leakage_columns"])
        textual = pd.api.types.is_string_dtype(raw[column]) or raw[column].dtype == object
        if column in types or column in removed or leaked or not textual:
            continue
        kind = _inferred_text_kind(raw[column], dataset["date_formats"])
        if kind:
            types[column] = kind
            logger.info("Column '%s' reads as %s values: typed as %s", column, kind, kind)
    return types


def _inferred_text_kind(values: pd.Series, date_formats: list[str]) -> str | None:
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return None
    sample = text.drop_duplicates().head(500)
    if sample.str.fullmatch(r"[-+]?\d+(\.\d+)?\s*%").all():
        return "percent"
    looks_dated = sample.str.contains(r"\d").all() and sample.str.len().between(6, 20).all()
    if looks_dated and PARSERS["date"](sample, date_formats=date_formats).notna().all():
        return "date"
    return None


def parse_columns(
    raw: pd.DataFrame,
    dataset: dict[str, Any],
    required: list[str],
    source: str,
    types: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Parse the typed columns of `raw` (default: dataset.column_types) after checking it has
    rows and the `required` columns."""
    if raw.empty:
        raise DataValidationError(f"{source}: the file has no rows (only a header or nothing).")
    missing = sorted(set(required) - set(raw.columns))
    if missing:
        raise DataValidationError(
            f"{source}: {len(missing)} required column(s) missing: {missing}. "
            "They are listed in dataset.column_types / dataset.date_column."
        )
    parsed = raw.copy()
    for column, kind in (dataset["column_types"] if types is None else types).items():
        if column in raw.columns:
            parsed[column] = _parse_column(raw[column], column, kind, dataset, source)
    return parsed


def _parse_column(
    values: pd.Series, column: str, kind: str, dataset: dict[str, Any], source: str
) -> pd.Series:
    if kind not in PARSERS:
        raise DataValidationError(
            f"dataset.column_types.{column}: unknown type '{kind}' (known: {sorted(PARSERS)})."
        )
    parsed = PARSERS[kind](values, date_formats=dataset["date_formats"])
    failed = unparsable(values, parsed)
    n_failed, n_present = int(failed.sum()), int(values.notna().sum())
    if n_failed:
        message = (
            f"{source}: column '{column}' ({kind}): {n_failed:,} of {n_present:,} values "
            f"could not be parsed, e.g. {describe_examples(values[failed].unique())}"
        )
        if kind == "date":
            message += f"; dataset.date_formats tries {dataset['date_formats']}"
        if n_failed > dataset["max_unparsable_fraction"] * n_present:
            raise DataValidationError(message)
        logger.warning("%s; set to missing", message)
    return parsed


def duplicate_summary(
    action: str, rows: int, exact: int, repeated: dict[str, int]
) -> dict[str, Any]:
    """The duplicate_summary record; `dropped_rows` is filled in once rows are dropped."""
    return {
        "action": action,
        "rows": rows,
        "exact_duplicate_rows": exact,
        "exact_share": round(exact / rows, 6) if rows else 0.0,
        "repeated_identifier_rows": repeated,
        "dropped_rows": 0,
    }


def judge_duplicates(
    source: str, details: list[str], summary: dict[str, Any], rule: dict[str, Any]
) -> str:
    """What was found, in one message. With dataset.duplicates.action error (the default), an
    identifier repeated with other content, or exact copies above `max_exact_share` of the
    rows, stop the run; a smaller share of exact copies is dropped. `drop` drops them all."""
    message = f"{source}: {'; '.join(details)}."
    if rule["action"] == "drop":
        return message
    rows, limit = summary["rows"], rule["max_exact_share"]
    share = summary["exact_duplicate_rows"] / rows
    if any(summary["repeated_identifier_rows"].values()):
        raise DataValidationError(
            f"{message} An identifier repeated with other content is two versions of one loan: "
            "fix the file, or set dataset.duplicates.action: drop to keep the first version."
        )
    if share > limit:
        raise DataValidationError(
            f"{message} That is {_percent(share)} of the {rows:,} rows, above "
            f"dataset.duplicates.max_exact_share ({_percent(limit)}): copies of a loan would "
            "sit in both training and validation folds and inflate cross-validation. Fix the "
            "file, raise dataset.duplicates.max_exact_share, or set dataset.duplicates.action: "
            "drop to keep the first copy."
        )
    return (
        f"{message} That is {_percent(share)} of the {rows:,} rows, within "
        f"dataset.duplicates.max_exact_share ({_percent(limit)})."
    )


def _percent(share: float) -> str:
    """A share as a percentage with three significant digits: 0.0449%, 2.69%, 50%."""
    return f"{100 * share:.3g}%"


def label_loans(parsed_loans: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """Outcome labels mapped to 1 (default) / 0 (repaid), unfinished loans dropped, row by row:
    the whole-table check that both classes remain is the caller's (Spark labels per partition)."""
    target, source = dataset["target"], dataset["source_file"]
    status = label_texts(parsed_loans[target["column"]])
    exceptions = target["policy_exceptions"]
    mapping = _label_map(target["positive"], target["negative"])
    exception_labels = _label_map(exceptions["positive"], exceptions["negative"])
    ignored = {label_text(label) for label in target["ignore"]}
    known = set(mapping) | set(exception_labels) | ignored
    unknown = status.notna() & ~status.isin(known)
    if status.isna().any() or unknown.any():
        bad = status[unknown | status.isna()]
        raise DataValidationError(
            f"{source}: column '{target['column']}': {len(bad):,} rows with labels in none of "
            f"dataset.target positive/negative/ignore lists, e.g. {describe_examples(bad.unique())}"
        )
    unfinished = status.isin(ignored)
    logger.info("Dropped %s loans with an unfinished status", f"{int(unfinished.sum()):,}")
    keep = ~unfinished
    is_exception = status.isin(set(exception_labels))
    if exceptions["action"] == "drop":
        keep &= ~is_exception
        logger.info("Dropped %s loans outside the credit policy", f"{int(is_exception.sum()):,}")
    labelled = parsed_loans.loc[keep].copy()
    labelled[target["output_column"]] = (
        status[keep].map(mapping | exception_labels).astype("int64").to_numpy()
    )
    if exceptions["flag_column"] and exceptions["action"] == "keep":
        labelled[exceptions["flag_column"]] = is_exception[keep].astype("int64").to_numpy()
    return labelled.drop(columns=[target["column"]]).reset_index(drop=True)


def _label_map(positive: list, negative: list) -> dict[str, int]:
    return {label_text(label): 1 for label in positive} | {
        label_text(label): 0 for label in negative
    }


def _derive(loans: pd.DataFrame, name: str, spec: dict[str, Any]) -> pd.Series:
    if spec["ratio"]:
        numerator, denominator = spec["ratio"]
        scale = spec["scale"]
        return scale * loans[numerator].astype("float64") / loans[denominator].astype("float64")
    if spec["months_between"]:
        start, end = (loans[column] for column in spec["months_between"])
        months = (end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)
        return months.astype("float64")
    if spec["expression"]:
        return loans.eval(spec["expression"]).astype("float64")
    raise DataValidationError(
        f"dataset.derived_features.{name}: needs one of ratio, months_between, expression; "
        f"got {sorted(spec)}."
    )


def drop_reasons(
    columns: list[str], profile_of: Callable[[str], ColumnProfile], dataset: dict[str, Any]
) -> dict[str, str]:
    """Why each dropped column goes: configured (leakage, identifier, excluded) first, then what
    its profile shows (empty, constant, raw date, identifier-like)."""
    protected = meta_columns(dataset)
    reasons: dict[str, str] = {}
    for pattern, why in dataset["leakage_columns"].items():
        for column in fnmatch.filter(columns, pattern):
            reasons.setdefault(column, f"leakage: {why}")
    for column in dataset["identifier_columns"]:
        if column in columns:
            reasons.setdefault(column, "identifier")
    for column, why in dataset["excluded_columns"].items():
        if column in columns:
            reasons.setdefault(column, f"excluded: {why}")
    for column in sorted(set(columns) - set(reasons) - set(protected), key=columns.index):
        found = profile_of(column)
        if found.present == 0:
            reasons[column] = "empty: no values at all"
        elif found.constant:
            reasons[column] = f"constant: every non-missing value is {found.example!r}"
        elif found.is_date:
            reasons[column] = "raw date: only used through derived features"
        elif column not in dataset["column_types"] and found.looks_like_identifier:
            reasons[column] = (
                "identifier-like: a distinct value per loan (list it in "
                "dataset.identifier_columns, or in dataset.column_types to keep it)"
            )
    logger.info("Dropped %d columns not usable at application time", len(reasons))
    return reasons


def dropped_table(reasons: dict[str, str]) -> pd.DataFrame:
    """The dropped-columns report: column, reason."""
    return pd.DataFrame(
        {"column": list(reasons), "reason": list(reasons.values())}, columns=["column", "reason"]
    )


def derive_features(labelled_loans: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """`labelled_loans` with the application-time features declared in
    dataset.derived_features (ratios, durations, expressions); infinities become missing."""
    loans = labelled_loans.copy()
    for name, spec in dataset["derived_features"].items():
        loans[name] = _derive(loans, name, spec).replace([np.inf, -np.inf], np.nan)
    return loans
