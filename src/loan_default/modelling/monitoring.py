"""Monitoring a PD model over review periods: the period split, stability (PSI / CSI) tables and
the traffic lights of each period (the `monitor` pipeline's statistics; I/O-free).

The statistical tests themselves (Jeffreys, the ECB AUC test, lights from p-values) live in
`loan_default.modelling.backtest`; PSI in `loan_default.stability`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loan_default.modelling import backtest
from loan_default.stability import ReferenceDistribution, band
from loan_default.validation import ConfigurationError, DataValidationError

if TYPE_CHECKING:
    from loan_default.parameters import Monitor

# The one review period of a table without scoring dates.
ALL_PERIODS = "all"
PERIOD = "review_period"
OUTCOME = "default"
PD = "pd"
GRADE = "rating_grade"


def identifier_column(monitor: Monitor, dataset: Mapping[str, Any]) -> str:
    """The scoring log's identifier column: monitor.scoring_log.identifier_column, else the
    first of dataset.identifier_columns (`dataset`: the Dataset block, or the served model's
    plain mapping of it)."""
    configured = monitor.scoring_log.identifier_column
    if configured:
        return configured
    if dataset["identifier_columns"]:
        return dataset["identifier_columns"][0]
    raise ConfigurationError(
        "monitor.scoring_log.identifier_column: not set, and dataset.identifier_columns is "
        "empty; name the column that identifies an application (parameters_monitor.yml)."
    )


def scoring_date_column(monitor: Monitor, dataset: Mapping[str, Any]) -> str | None:
    """The scoring log's date column: monitor.scoring_log.date_column, else (null) the dataset's
    date column; "" or a dataset without dates: None (one review period)."""
    configured = monitor.scoring_log.date_column
    if configured is None:
        return dataset["date_column"] or None
    return configured or None


def period_labels(dates: pd.Series, period: str) -> pd.Series:
    """The review period of each date: `2011-03` (month), `2011Q1` (quarter), `2011H1`
    (half_year) or `2011` (year); dates must be parsed (datetime) and present."""
    if dates.isna().any():
        raise DataValidationError(f"review periods: {int(dates.isna().sum())} missing dates.")
    years = dates.dt.year.astype(str)
    if period == "month":
        return years + "-" + dates.dt.month.map("{:02d}".format)
    if period == "quarter":
        return years + "Q" + dates.dt.quarter.astype(str)
    if period == "half_year":
        return years + "H" + ((dates.dt.month > 6).astype(int) + 1).astype(str)
    if period == "year":
        return years
    raise ValueError(f"unknown review period '{period}' (month, quarter, half_year, year)")


def ordered_periods(labels: pd.Series) -> list[str]:
    """The periods present, oldest first (the labels sort as text)."""
    return sorted(pd.unique(labels.astype(str)))


def outcome_counts(sample: pd.DataFrame) -> pd.DataFrame:
    """Per period: loans, defaults and non-defaults."""
    grouped = sample.groupby(PERIOD, sort=True)[OUTCOME]
    counts = grouped.agg(loans="size", defaults="sum").reset_index()
    counts["defaults"] = counts["defaults"].astype(int)
    counts["non_defaults"] = counts["loans"] - counts["defaults"]
    return counts


def discrimination(
    y: np.ndarray, score: np.ndarray, initial_auc: float, thresholds: Sequence[float]
) -> dict[str, Any]:
    """The period's AUC, its DeLong standard error and the ECB test against the initial AUC,
    with the light of the test's p-value."""
    current = backtest.auc(y, score)
    error = backtest.auc_standard_error(y, score)
    test = backtest.auc_test(initial_auc, current, error)
    return {
        "auc": current,
        "auc_standard_error": error,
        "initial_auc": initial_auc,
        "auc_test_statistic": test.statistic,
        "auc_p_value": test.p_value,
        "auc_light": backtest.traffic_light(test.p_value, thresholds),
    }


def calibration_light(grade_lights: Sequence[str], pass_goal: float) -> str:
    """A period's Jeffreys light from its grades' lights: red when fewer than `pass_goal` of
    the grades pass (are not red); amber when a grade is red or fewer than that share are
    green; else green (a few amber grades are expected by chance: at 5%, one in twenty)."""
    lights = [light for light in grade_lights if light in backtest.LIGHT_CODES]
    if not lights:
        return "n/a"
    passing = sum(light != "red" for light in lights) / len(lights)
    green = sum(light == "green" for light in lights) / len(lights)
    if passing < pass_goal:
        return "red"
    return "amber" if green < pass_goal or passing < 1 else "green"


def stability_rows(
    period: str,
    values: Mapping[str, tuple[str, ReferenceDistribution, Any]],
    bands: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """One row per variable: its kind (score, rating grade, driver), the index (PSI for the
    score and grades, CSI for a driver: the same formula on the characteristic's training
    bins), its value against the training reference and its light."""
    rows = []
    for name, (kind, reference, actual) in values.items():
        value = reference.psi(actual)
        rows.append(
            {
                PERIOD: period,
                "variable": name,
                "kind": kind,
                "index": "PSI" if kind != "driver" else "CSI",
                "value": round(value, 5),
                "light": band(value, bands),
            }
        )
    return rows


def worst(lights: Sequence[str]) -> str:
    """The most severe light ('n/a' when none could be judged)."""
    judged = [light for light in lights if light in backtest.LIGHT_CODES]
    return backtest.worst_light(judged) if judged else "n/a"


def light_code(light: str) -> float:
    """0 green, 1 amber, 2 red; NaN for n/a."""
    return float(backtest.LIGHT_CODES.get(light, np.nan))
