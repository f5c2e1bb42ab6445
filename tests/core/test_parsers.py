"""Each parser accepts the bundled format and LendingClub's raw download format."""

import numpy as np
import pandas as pd
import pytest

from loan_default.core.parsers import (
    parse_category,
    parse_date,
    parse_months,
    parse_numeric,
    parse_percent,
    parse_years,
)


def _values(*items):
    return pd.Series(list(items), dtype="object")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("11.22%", 0.1122), (" 7.5 % ", 0.075), ("0.1122", 0.1122), (0.0542, 0.0542)],
)
def test_percent_accepts_strings_with_sign_and_fractions(raw, expected):
    assert parse_percent(_values(raw)).iloc[0] == pytest.approx(expected)


def test_percent_keeps_missing_and_flags_garbage_as_missing():
    parsed = parse_percent(_values("12%", None, "abc"))
    assert parsed.iloc[0] == pytest.approx(0.12)
    assert parsed.iloc[1:].isna().all()


@pytest.mark.parametrize(("raw", "expected"), [("36 months", 36), (" 60 months", 60), ("36", 36)])
def test_months_parses_raw_and_bundled_terms(raw, expected):
    assert parse_months(_values(raw)).iloc[0] == expected


def test_months_on_numeric_column_is_unchanged():
    assert parse_months(pd.Series([36, 60])).tolist() == [36.0, 60.0]


def test_months_rejects_other_units():
    assert parse_months(_values("3 years")).isna().all()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("< 1 year", 0), ("1 year", 1), ("2 years", 2), ("10+ years", 10), ("4", 4)],
)
def test_years_parses_employment_length(raw, expected):
    assert parse_years(_values(raw)).iloc[0] == expected


def test_years_leaves_unknown_text_unparsed():
    assert parse_years(_values("forever", None)).isna().all()


@pytest.mark.parametrize("raw", ["Dec-2011", "2011-12-01", "Dec-11", "2011-12"])
def test_date_accepts_month_year_and_iso(raw):
    formats = ["%Y-%m-%d", "%b-%Y", "%b-%y", "%Y-%m"]
    assert parse_date(_values(raw), date_formats=formats).iloc[0] == pd.Timestamp("2011-12-01")


def test_date_mixed_formats_in_one_column():
    parsed = parse_date(_values("Jan-2010", "2010-02-01", None), date_formats=["%Y-%m-%d", "%b-%Y"])
    assert parsed.iloc[0] == pd.Timestamp("2010-01-01")
    assert parsed.iloc[1] == pd.Timestamp("2010-02-01")
    assert pd.isna(parsed.iloc[2])


def test_numeric_tolerates_thousands_separators():
    assert parse_numeric(_values("1,200.5", " 3 ")).tolist() == [1200.5, 3.0]


def test_category_strips_and_treats_blank_as_missing():
    parsed = parse_category(_values(" RENT ", "", None))
    assert parsed.iloc[0] == "RENT"
    assert parsed.iloc[1:].isna().all()
    assert not isinstance(parsed.iloc[1], str) and np.isnan(parsed.iloc[1])
