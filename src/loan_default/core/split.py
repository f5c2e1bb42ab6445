"""The split rule: out-of-time when the table has a date column, else random."""

from __future__ import annotations

from typing import Any

from loan_default.validation import ConfigurationError


def resolve_split_method(dataset: dict[str, Any], split: dict[str, Any]) -> str:
    """'out_of_time' or 'random', resolving 'auto' from whether a date column exists."""
    method = split["method"]
    if method == "auto":
        return "out_of_time" if dataset["date_column"] else "random"
    if method not in {"out_of_time", "random"}:
        raise ConfigurationError(
            f"split.method: '{method}' is not one of auto, out_of_time, random."
        )
    if method == "out_of_time" and not dataset["date_column"]:
        raise ConfigurationError("split.method is out_of_time but dataset.date_column is not set.")
    return method
