"""Review periods, stability (PSI / CSI) rows and the lights of a monitoring period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling import monitoring as mon
from loan_default.stability import ReferenceDistribution
from loan_default.validation import ConfigurationError, DataValidationError
from tests.params import block

DATES = pd.Series(pd.to_datetime(["2011-01-31", "2011-03-01", "2011-04-01", "2011-12-31"]))


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("month", ["2011-01", "2011-03", "2011-04", "2011-12"]),
        ("quarter", ["2011Q1", "2011Q1", "2011Q2", "2011Q4"]),
        ("half_year", ["2011H1", "2011H1", "2011H1", "2011H2"]),
        ("year", ["2011", "2011", "2011", "2011"]),
    ],
)
def test_period_labels_split_dates_into_review_periods(period, expected):
    assert mon.period_labels(DATES, period).tolist() == expected


def test_periods_sort_oldest_first_across_years():
    labels = mon.period_labels(pd.Series(pd.to_datetime(["2012-02-01", "2011-11-01"])), "quarter")
    assert mon.ordered_periods(labels) == ["2011Q4", "2012Q1"]


def test_a_missing_date_has_no_period():
    with pytest.raises(DataValidationError, match="1 missing dates"):
        mon.period_labels(pd.Series(pd.to_datetime(["2011-01-01", None])), "quarter")


def test_csi_is_zero_for_the_training_distribution_and_flags_a_shifted_driver():
    rng = np.random.default_rng(0)
    training = rng.normal(0, 1, 5_000)
    reference = ReferenceDistribution.of(training, n_bins=10)
    bands = block("monitor").lights.psi
    rows = mon.stability_rows(
        "2011Q1",
        {
            "income": ("driver", reference, training),
            "income_shifted": ("driver", reference, training + 1.0),
            "score": ("score", reference, training),
        },
        bands,
    )
    by_name = {row["variable"]: row for row in rows}
    assert by_name["income"]["value"] == pytest.approx(0.0, abs=1e-9)
    assert by_name["income"]["index"] == "CSI" and by_name["income"]["light"] == "green"
    assert by_name["income_shifted"]["value"] > 0.25 and by_name["income_shifted"]["light"] == "red"
    assert by_name["score"]["index"] == "PSI"


def test_csi_of_a_categorical_driver_counts_unseen_categories():
    reference = ReferenceDistribution.of(pd.Series(["A"] * 50 + ["B"] * 50))
    rows = mon.stability_rows(
        "all",
        {"grade": ("driver", reference, pd.Series(["A"] * 50 + ["C"] * 50))},
        block("monitor").lights.psi,
    )
    assert rows[0]["light"] == "red"


def test_a_period_is_amber_or_red_only_when_fewer_grades_pass_than_the_goal():
    assert mon.calibration_light(["green"] * 9 + ["amber"], 0.9) == "green"
    assert mon.calibration_light(["green"] * 8 + ["amber", "amber"], 0.9) == "amber"
    assert mon.calibration_light(["green"] * 9 + ["red"], 0.9) == "amber"
    assert mon.calibration_light(["green"] * 8 + ["red", "red"], 0.9) == "red"
    assert mon.calibration_light(["n/a"], 0.9) == "n/a"


def test_the_worst_light_wins_and_lights_are_numbers():
    assert mon.worst(["green", "n/a", "amber"]) == "amber"
    assert mon.worst(["n/a"]) == "n/a"
    assert [mon.light_code(x) for x in ("green", "amber", "red")] == [0.0, 1.0, 2.0]
    assert np.isnan(mon.light_code("n/a"))


def test_the_ecb_auc_test_is_one_sided_against_the_initial_auc():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 0])
    score = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.35, 0.25, 0.65])
    result = mon.discrimination(y, score, initial_auc=0.99, thresholds=[0.05, 0.01])
    assert result["auc"] == pytest.approx(0.75)
    expected = (0.99 - 0.75) / result["auc_standard_error"]
    assert result["auc_test_statistic"] == pytest.approx(expected)
    assert result["auc_p_value"] < 0.5 and result["auc_light"] in {"amber", "red", "green"}
    better = mon.discrimination(y, score, initial_auc=0.60, thresholds=[0.05, 0.01])
    assert better["auc_p_value"] > 0.5 and better["auc_light"] == "green"


def test_the_identifier_is_configured_or_the_datasets_first():
    monitor = block("monitor")
    dataset = block("dataset", {"identifier_columns": ["ID", "x"]})
    assert mon.identifier_column(monitor, dataset) == "ID"
    assert mon.identifier_column(monitor, dataset.plain()) == "ID", "the served model's mapping"
    configured = block("monitor", {"scoring_log": {"identifier_column": "loan_row"}})
    assert mon.identifier_column(configured, {"identifier_columns": []}) == "loan_row"
    with pytest.raises(ConfigurationError, match="identifier_column"):
        mon.identifier_column(monitor, block("dataset"))
