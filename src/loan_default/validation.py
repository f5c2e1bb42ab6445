"""Errors for bad input data or configuration, written for the person who has to fix them."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class DataValidationError(ValueError):
    """Input data does not match what the configuration promises."""


class ConfigurationError(ValueError):
    """A parameter names something that does not exist or is out of range."""


def describe_examples(values: Iterable[object], limit: int = 5) -> str:
    """Up to `limit` example values, quoted, for an error message."""
    values = list(values)
    shown = ", ".join(repr(value) for value in values[:limit])
    more = f" (+{len(values) - limit} more)" if len(values) > limit else ""
    return f"[{shown}]{more}"


def require_both_classes(target: pd.Series, where: str) -> None:
    """Raise when a binary target does not contain both classes."""
    counts = target.value_counts()
    if len(counts) < 2:
        present = counts.to_dict() or "no rows"
        raise DataValidationError(
            f"{where}: the target has a single class ({present}); a default model needs both "
            "defaults (1) and repaid loans (0)."
        )
