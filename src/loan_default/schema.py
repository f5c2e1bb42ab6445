"""Which columns of a loan table are features, read from the dataset parameters."""

from __future__ import annotations

from typing import Any

import pandas as pd


def target_column(dataset: dict[str, Any]) -> str:
    """Name of the binary target column written by the ingestion."""
    return dataset["target"]["output_column"]


def meta_columns(dataset: dict[str, Any]) -> list[str]:
    """Columns carried beside the features but never fed to a model: target, date, flags."""
    flag = (dataset["target"].get("policy_exceptions") or {}).get("flag_column")
    columns = [target_column(dataset), dataset.get("date_column"), flag]
    return [column for column in columns if column]


def feature_columns(loans: pd.DataFrame, dataset: dict[str, Any]) -> list[str]:
    """Every column of an ingested table that a model may use."""
    meta = set(meta_columns(dataset))
    return [column for column in loans.columns if column not in meta]
