"""Parsers that accept both the bundled format and LendingClub's raw download format."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

_NUMBER = re.compile(r"[-+]?\d*\.?\d+")


def _as_text(values: pd.Series) -> pd.Series:
    """Strip strings; non-strings become their string form, missing stays missing."""
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def parse_numeric(values: pd.Series, **_: object) -> pd.Series:
    """Parse numbers, tolerating thousands separators and surrounding spaces."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = _as_text(values).str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def parse_percent(values: pd.Series, **_: object) -> pd.Series:
    """'11.22%' -> 0.1122; values without a percent sign are already fractions."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = _as_text(values)
    has_sign = text.str.endswith("%").fillna(False).astype(bool)
    number = pd.to_numeric(text.str.rstrip("%").str.strip(), errors="coerce").astype("float64")
    return number.where(~has_sign, number / 100.0)


def parse_months(values: pd.Series, **_: object) -> pd.Series:
    """'36 months' or 36 -> 36.0."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = _as_text(values)
    matched = text.str.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:months?)?", case=False).fillna(False)
    number = pd.to_numeric(text.str.extract(r"^(\d+(?:\.\d+)?)")[0], errors="coerce")
    return number.where(matched.astype(bool)).astype("float64")


def parse_years(values: pd.Series, **_: object) -> pd.Series:
    """'< 1 year' -> 0, '1 year' -> 1, '10+ years' -> 10, 4 -> 4."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = _as_text(values).str.lower()
    pattern = r"(<\s*)?(\d+)\s*\+?\s*(?:years?|yrs?)?"
    parts = text.str.extract(f"^{pattern}$")
    number = pd.to_numeric(parts[1], errors="coerce").astype("float64")
    below = parts[0].notna()
    return number.where(~below, np.maximum(number - 1, 0))


def parse_date(values: pd.Series, date_formats: Sequence[str] = ("%Y-%m-%d",)) -> pd.Series:
    """Parse dates trying each configured format in turn ('Dec-2011' or '2011-12-01')."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    text = _as_text(values)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for date_format in date_formats:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=date_format, errors="coerce")
    return parsed


def parse_category(values: pd.Series, **_: object) -> pd.Series:
    """Keep categories as stripped strings (missing stays missing)."""
    return _as_text(values).astype(pd.StringDtype(na_value=np.nan))


def unparsable(raw: pd.Series, parsed: pd.Series) -> pd.Series:
    """Values that were present (not missing, not blank) but did not parse."""
    present = raw.notna() & _as_text(raw).notna().fillna(False).astype(bool)
    return present & parsed.isna()


PARSERS: dict[str, Callable[..., pd.Series]] = {
    "numeric": parse_numeric,
    "percent": parse_percent,
    "months": parse_months,
    "years": parse_years,
    "date": parse_date,
    "category": parse_category,
}
