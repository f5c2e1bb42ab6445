"""Check the `dataset` parameters against the raw table before anything runs."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from loan_default.schema import label_text, label_texts
from loan_default.validation import ConfigurationError, describe_examples

logger = logging.getLogger(__name__)


def referenced_columns(dataset: dict[str, Any]) -> dict[str, list[str]]:
    """Every column the dataset parameters name, by the key that names it."""
    references: dict[str, list[str]] = {}

    def add(key: str, columns: Any) -> None:
        for column in [columns] if isinstance(columns, str) else list(columns or []):
            if column:
                references.setdefault(str(column), []).append(key)

    for key in ("encoders", "categorical_orders", "monotonic_trends", "sentinel_codes"):
        add(f"dataset.{key}", dataset[key])
    add("dataset.informative_missing", dataset["informative_missing"])
    for name, rule in dataset["baseline_rules"].items():
        add(f"dataset.baseline_rules.{name}.column", rule["column"])
    for name, column in dataset["score_baselines"].items():
        add(f"dataset.score_baselines.{name}", column)
    add("dataset.costs.amount_column", dataset["costs"]["amount_column"])
    optional = set(dataset.get("optional_text_columns") or [])
    add("dataset.text_columns", [c for c in dataset.get("text_columns") or {} if c not in optional])
    for name, spec in dataset["derived_features"].items():
        add(f"dataset.derived_features.{name}", spec["ratio"] or spec["months_between"])
    fairness = dataset.get("fairness") or {}
    for key in ("protected_columns", "audit_columns"):
        add(f"dataset.fairness.{key}", fairness.get(key))
    for name, grouping in (fairness.get("groupings") or {}).items():
        add(f"dataset.fairness.groupings.{name}", grouping["column"] or name)
    return references


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
