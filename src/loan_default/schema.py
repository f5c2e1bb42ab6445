"""Which columns of a loan table are features, read from the dataset parameters."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import numpy as np
import pandas as pd


def target_column(dataset: dict[str, Any]) -> str:
    """Name of the binary target column written by the ingestion."""
    return dataset["target"]["output_column"]


def target_values(loans: pd.DataFrame, dataset: dict[str, Any]) -> np.ndarray:
    """The binary target of an ingested table as integers."""
    return loans[target_column(dataset)].to_numpy(dtype=int)


def label_text(value: Any) -> str:
    """A target label as text, so 1, 1.0 and "1" compare alike."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def label_texts(values: pd.Series) -> pd.Series:
    """`label_text` for a whole column (missing stays missing)."""
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("string").str.strip()


# Position of each loan in the raw file, carried beside the features (never one of them).
RAW_ROW = "__raw_row__"
# Weight of a loan in a sampled modelling table (loan_default.spark.sampling); absent otherwise.
SAMPLE_WEIGHT = "sample_weight"


def protected_columns(dataset: dict[str, Any]) -> list[str]:
    """Columns a credit decision may not use (dataset.fairness): carried for the audit only."""
    return list((dataset.get("fairness") or {}).get("protected_columns") or {})


def never_reasons(dataset: dict[str, Any]) -> list[str]:
    """Columns never given as an adverse-action reason (they may be features): protected and
    audited columns, `dataset.reasons.never_reasons`, and every derived feature computed from one
    of them (a ratio over the instalment still carries the price)."""
    fairness = dataset.get("fairness") or {}
    listed = [
        *protected_columns(dataset),
        *(fairness.get("audit_columns") or {}),
        *((dataset.get("reasons") or {}).get("never_reasons") or {}),
    ]
    never = list(dict.fromkeys(listed))
    for name, spec in (dataset.get("derived_features") or {}).items():
        sources = set(spec.get("ratio") or spec.get("months_between") or [])
        expression = spec.get("expression") or ""
        if sources & set(never) or any(
            re.search(rf"\b{re.escape(column)}\b", expression) for column in never
        ):
            never.append(name)
    return never


def column_labels(dataset: dict[str, Any]) -> dict[str, str]:
    """How reasons and reports name each column: dataset.labels, then text columns' labels."""
    texts = {
        column: spec["label"]
        for column, spec in (dataset.get("text_columns") or {}).items()
        if spec.get("label")
    }
    return texts | (dataset.get("labels") or {})


def sample_weights(loans: pd.DataFrame) -> np.ndarray | None:
    """The sampling weight of each loan of a sampled table (Spark environment above
    split.row_budget); None when every loan counts once."""
    if SAMPLE_WEIGHT not in loans:
        return None
    weights = loans[SAMPLE_WEIGHT].to_numpy(dtype=float)
    return None if np.all(weights == 1.0) else weights


def meta_columns(dataset: dict[str, Any]) -> list[str]:
    """Columns carried beside the features but never fed to a model: target, date, flags, the
    raw row number, the sampling weight (Spark environment) and protected columns."""
    flag = dataset["target"]["policy_exceptions"]["flag_column"]
    columns = [target_column(dataset), dataset["date_column"], flag, RAW_ROW, SAMPLE_WEIGHT]
    return [column for column in columns if column] + protected_columns(dataset)


def feature_columns(loans: pd.DataFrame, dataset: dict[str, Any]) -> list[str]:
    """Every column of an ingested table that a model may use."""
    meta = set(meta_columns(dataset))
    return [column for column in loans.columns if column not in meta]


def text_columns(dataset: dict[str, Any]) -> list[str]:
    """The free-text columns (dataset.text_columns; none in a block written before them)."""
    return list(dataset.get("text_columns") or {})


def not_structured(dataset: dict[str, Any]) -> list[str]:
    """Columns the structured steps (selection, missing values, encoding, binning) leave alone:
    meta columns and free-text columns."""
    return meta_columns(dataset) + text_columns(dataset)


def structured_feature_columns(loans: pd.DataFrame, dataset: dict[str, Any]) -> list[str]:
    """Feature columns other than free text: what imputation, encoding and binning see."""
    left_alone = set(not_structured(dataset))
    return [column for column in loans.columns if column not in left_alone]


def required_raw_columns(dataset: dict[str, Any]) -> list[str]:
    """Raw columns a training file must have: every typed column and the date column."""
    columns = list(dataset["column_types"])
    date_column = dataset["date_column"]
    if date_column and date_column not in columns:
        columns.append(date_column)
    return columns


def application_columns(dataset: dict[str, Any]) -> list[str]:
    """Raw columns a new application must have: typed columns known before the decision."""
    unknown_at_application = (
        set(dataset["identifier_columns"])
        | set(dataset["excluded_columns"])
        | set(protected_columns(dataset))  # never asked of an applicant by the model
    )
    patterns = list(dataset["leakage_columns"])
    return [
        column
        for column in required_raw_columns(dataset)
        if column not in unknown_at_application
        and not any(fnmatch.fnmatch(column, pattern) for pattern in patterns)
    ]
