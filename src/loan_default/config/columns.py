"""Which columns the dataset settings name: one walk over the `dataset` block, used by every
check that needs to know (the raw file's header, empty columns, protected columns that must
never be model inputs, the raw columns a scored application needs).

A setting added to the schema that names columns is added here once, and every check sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

# What a setting does with the column it names:
# - model_input: the column reaches a model (its encoding, bins, bounds, text, derived features,
#   rule and score baselines);
# - table: reading and labelling the table (target, date, parsers, the cost's amount);
# - audit: the fair-lending audit (protected and audited columns, their groupings).
Use = Literal["model_input", "table", "audit"]

_EXPRESSION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


@dataclass(frozen=True)
class ColumnReference:
    """One column named by one setting (`key`, as the configuration spells it)."""

    column: str
    key: str
    use: Use
    required: bool = True  # False: the file may lack it (an optional text column)


def column_references(dataset: Mapping[str, Any]) -> list[ColumnReference]:
    """Every column the `dataset` settings name, with the setting and its use. Columns named
    only inside a derived feature's expression are not listed: see `expression_columns`."""
    return list(_walk(dataset))


def _walk(dataset: Mapping[str, Any]) -> Iterator[ColumnReference]:
    def each(key: str, columns: Any, use: Use, required: bool = True) -> Iterator[ColumnReference]:
        for column in [columns] if isinstance(columns, str) else list(columns or []):
            if column:
                yield ColumnReference(str(column), key, use, required)

    for key in (
        "encoders", "categorical_orders", "monotonic_trends", "sentinel_codes",
        "informative_missing", "bounds",
    ):  # fmt: skip
        yield from each(f"dataset.{key}", dataset.get(key), "model_input")
    optional = set(dataset.get("optional_text_columns") or [])
    for column in dataset.get("text_columns") or {}:
        yield from each("dataset.text_columns", column, "model_input", column not in optional)
    for name, spec in (dataset.get("derived_features") or {}).items():
        sources = spec.get("ratio") or spec.get("months_between")
        yield from each(f"dataset.derived_features.{name}", sources, "model_input")
    for name, rule in (dataset.get("baseline_rules") or {}).items():
        yield from each(f"dataset.baseline_rules.{name}.column", rule.get("column"), "model_input")
    for name, column in (dataset.get("score_baselines") or {}).items():
        yield from each(f"dataset.score_baselines.{name}", column, "model_input")
    fairness = dataset.get("fairness") or {}
    for key in ("protected_columns", "audit_columns"):
        yield from each(f"dataset.fairness.{key}", fairness.get(key), "audit")
    for name, grouping in (fairness.get("groupings") or {}).items():
        column = grouping.get("column") or name
        yield from each(f"dataset.fairness.groupings.{name}", column, "audit")
    target = dataset.get("target") or {}
    yield from each("dataset.target.column", target.get("column"), "table")
    yield from each("dataset.date_column", dataset.get("date_column"), "table")
    yield from each("dataset.column_types", dataset.get("column_types"), "table")
    amount = (dataset.get("costs") or {}).get("amount_column")
    yield from each("dataset.costs.amount_column", amount, "table")


def expression_columns(dataset: Mapping[str, Any], columns: Any) -> dict[str, list[str]]:
    """Of `columns`, those a derived feature's expression mentions, by the features' keys."""
    known = set(columns)
    found: dict[str, list[str]] = {}
    for name, spec in (dataset.get("derived_features") or {}).items():
        for column in sorted(set(_EXPRESSION_NAME.findall(spec.get("expression") or "")) & known):
            found.setdefault(column, []).append(f"dataset.derived_features.{name}")
    return found


def columns_by_key(
    references: list[ColumnReference], uses: tuple[Use, ...] = ("model_input", "table", "audit")
) -> dict[str, list[str]]:
    """{column: [keys naming it]} of the references with one of `uses`, in walk order."""
    keys: dict[str, list[str]] = {}
    for reference in references:
        if reference.use in uses and reference.key not in keys.setdefault(reference.column, []):
            keys[reference.column].append(reference.key)
    return keys
