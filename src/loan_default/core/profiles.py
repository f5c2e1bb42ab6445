"""What the column-selection rules need to know about a column, from pandas or from Spark
aggregations: one set of rules (`core.ingestion.drop_reasons`), two ways to measure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

# Fewer loans than this and a column of distinct values is not evidence of an identifier.
MIN_ROWS_FOR_IDENTIFIER = 20


@dataclass(frozen=True)
class ColumnProfile:
    """Values present, whether they are one value or a distinct one per row, an example, and
    the column's kind."""

    present: int
    constant: bool  # exactly one distinct value among those present
    unique_per_row: bool  # a value in every row, each one different
    example: Any
    is_date: bool
    is_numeric: bool
    whole_numbers: bool = False
    span: float | None = None  # max - min + 1 of a numeric column

    @property
    def looks_like_identifier(self) -> bool:
        """Unique text per row, or a run of consecutive integers: a row number, not a risk
        factor."""
        if self.present < MIN_ROWS_FOR_IDENTIFIER or not self.unique_per_row:
            return False
        if self.is_numeric:
            return self.whole_numbers and self.span == self.present
        return True


def profile(values: pd.Series) -> ColumnProfile:
    """The profile of a pandas column."""
    present = values.dropna()
    numeric = pd.api.types.is_numeric_dtype(present)
    whole = present.astype("float64") if numeric and len(present) else None
    distinct = int(present.nunique())
    return ColumnProfile(
        present=len(present),
        constant=distinct == 1,
        unique_per_row=distinct == len(values),
        example=_plain(present.iloc[0]) if len(present) else None,
        is_date=pd.api.types.is_datetime64_any_dtype(values),
        is_numeric=numeric,
        whole_numbers=bool(whole is not None and (whole % 1 == 0).all()),
        span=float(whole.max() - whole.min() + 1) if whole is not None else None,
    )


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (reports read `0.0`, not `np.float64(0.0)`)."""
    return value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value
