"""Data-quality nodes on small hand-made frames."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from loan_default.pipelines.data_quality.nodes import analyse_missing_values, plot_missing_values
from loan_default.validation import DataValidationError
from tests.params import block

DATASET = block(
    "dataset",
    {
        "target": {"output_column": "bad", "policy_exceptions": {"flag_column": "flag"}},
        "date_column": "opened",
        "sentinel_codes": {"education": [0]},
        "informative_missing": {"months_since_default": {"fill": "max", "why": "never defaulted"}},
    },
)
RULES = block("data_quality", {"drop_above_rate": 0.9})


@pytest.fixture
def loans() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 400
    bad = (rng.random(n) < 0.2).astype("int64")
    return pd.DataFrame(
        {
            "education": rng.choice([0, 1, 2, 3], n).astype(float),
            "months_since_default": np.where(rng.random(n) < 0.5, np.nan, 12.0),
            "mostly_empty": np.where(rng.random(n) < 0.97, np.nan, 1.0),
            "empty": np.nan,
            # missing exactly when the loan defaulted: must be found informative
            "income_proof": pd.Series(np.where(bad == 1, "", "yes"), dtype="str"),
            "opened": pd.date_range("2020-01-01", periods=n, freq="D"),
            "flag": 0,
            "bad": bad,
        }
    )


def test_report_has_one_row_per_feature_and_the_expected_actions(loans):
    report = analyse_missing_values(loans, DATASET, RULES).set_index("column")
    assert list(report.index) == [
        "education", "months_since_default", "mostly_empty", "empty", "income_proof"
    ]  # fmt: skip
    assert report.loc["education", "sentinel_codes"] == (loans["education"] == 0).sum()
    assert report.loc["months_since_default", "action"] == "indicator_and_fill"
    assert "never defaulted" in report.loc["months_since_default", "reason"]
    assert report.loc["mostly_empty", "action"] == "drop"
    assert report.loc["empty", "action"] == "drop"
    assert report.loc["income_proof", "empty_strings"] == loans["bad"].sum()
    assert report.loc["income_proof", "action"] == "indicator_and_fill"
    assert report.loc["income_proof", "default_rate_missing"] == 1.0
    assert report.loc["income_proof", "default_rate_present"] == 0.0


def test_missing_target_is_a_clear_error(loans):
    with pytest.raises(DataValidationError, match="'bad'"):
        analyse_missing_values(loans.drop(columns="bad"), DATASET, RULES)


def test_plot_draws_one_bar_per_column(loans):
    report = analyse_missing_values(loans, DATASET, RULES)
    figure = plot_missing_values(report, RULES)
    assert isinstance(figure, Figure)
    assert len(figure.axes[0].patches) == len(report)
