"""Check the `dataset` parameters against the raw table before anything runs."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from loan_default.config.columns import column_references, columns_by_key
from loan_default.schema import label_text, label_texts
from loan_default.validation import ConfigurationError, describe_examples

logger = logging.getLogger(__name__)


def referenced_columns(dataset: dict[str, Any]) -> dict[str, list[str]]:
    """Every column the dataset parameters name that a raw file must have, by the keys that name
    it (`config.columns`): the target, date and parser columns are checked on their own, bounds
    may name columns a table lacks, and an optional text column may be absent."""
    header_checked = {"dataset.target.column", "dataset.date_column", "dataset.column_types"}
    return columns_by_key([
        reference for reference in column_references(dataset)
        if reference.required and reference.key not in header_checked
        and reference.key != "dataset.bounds"
    ])  # fmt: skip


def check_header(columns: list[str], dataset: dict[str, Any], source: str) -> None:
    """Raise a ConfigurationError naming the key for every configured column not in the file."""
    target = dataset["target"]["column"]
    if target not in columns:
        raise ConfigurationError(
            f"{source}: dataset.target.column: '{target}' is not a column of the file "
            f"(columns: {describe_examples(columns)})."
        )
    available = set(columns) | set(dataset["derived_features"])
    unknown = {
        column: keys for column, keys in referenced_columns(dataset).items()
        if column not in available
    }  # fmt: skip
    if unknown:
        details = "; ".join(f"{', '.join(keys)}: '{column}'" for column, keys in unknown.items())
        raise ConfigurationError(
            f"{source}: the dataset parameters name column(s) that are not in the file: {details}."
        )


def check_dataset_config(raw: pd.DataFrame, dataset: dict[str, Any], source: str) -> None:
    """Raise a ConfigurationError naming the key for columns or labels that do not exist."""
    check_header(list(raw.columns), dataset, source)
    absent = [c for c in dataset.get("optional_text_columns") or [] if c not in raw.columns]
    if absent:
        logger.warning(
            "%s: optional text column(s) %s are not in the file: the model is trained without "
            "their text.",
            source,
            describe_examples(absent),
        )
    target = dataset["target"]
    present = set(label_texts(raw[target["column"]]).dropna().unique())
    for side in ("positive", "negative"):
        missing = [label for label in target[side] if label_text(label) not in present]
        if missing:
            raise ConfigurationError(
                f"{source}: dataset.target.{side}: label(s) {missing} never occur in column "
                f"'{target['column']}' (labels present: {describe_examples(sorted(present))})."
            )
