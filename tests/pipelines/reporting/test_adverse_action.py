"""The report's adverse-action reasons section, from a small reasons table."""

import pandas as pd

from loan_default.modelling.reasons import coverage_summary, reason_shares
from loan_default.pipelines.reporting.adverse_action import reasons_section
from tests.params import block

REASONS = pd.DataFrame(
    {
        "row": [3, 8, 9],
        "probability_of_default": [0.3, 0.5, 0.7],
        "reason_1": ["Loan term 60", "Utilisation 90%", "Loan description mentions 'medical'"],
        "reason_1_column": ["term", "revol_util", "desc"],
        "reason_2": ["Utilisation 95%", None, "Loan term 60"],  # a blank reads back as NaN
        "reason_2_column": ["revol_util", None, "term"],
        "reason_coverage": [0.5, 0.2, 0.9],
        "scorecard_rejects": [True, True, False],
        "first_reason_in_scorecard_reasons": [True, False, False],
    }
)


def test_shares_count_each_column_once_per_rejection_and_first_reasons_apart():
    shares = reason_shares(REASONS, {"term": "Loan term"}).set_index("column")
    assert shares.loc["term", "share_citing"] == 2 / 3
    assert shares.loc["term", "share_first"] == 1 / 3
    assert shares.loc["revol_util", "share_citing"] == 2 / 3
    assert shares.loc["term", "reason"] == "Loan term" and "" not in shares.index
    summary = coverage_summary(REASONS)
    assert summary["rejections"] == 3 and summary["with_a_reason"] == 1.0
    assert summary["p50"] == 0.5


def test_the_section_shows_coverage_agreement_notices_and_the_application_only_champion():
    dataset = block(
        "dataset",
        {
            "reasons": {"never_reasons": {"int_rate": "pricing"}},
            "fairness": {"audit_columns": {"addr_state": "geography"}},
            "labels": {"int_rate": "Interest rate"},
        },
    )
    comparison = pd.DataFrame(
        {
            "variant": ["champion", "application-only champion", "change"],
            "test_roc_auc": [0.71, 0.70, -0.01],
            "test_expected_cost_per_loan": [870.0, 890.0, 20.0],
        }
    )
    page = reasons_section(REASONS, comparison, dataset)
    assert "Interest rate: pricing" in page and "addr_state: geography" in page
    assert "median reason coverage" in page and "50%" in page
    assert "for 50.0%" in page, "first reason among the scorecard's for 1 of the 2 both reject"
    assert "Test loan 3" in page and "Test loan 8" in page and "Utilisation 90%" in page
    assert "Test ROC AUC" in page and "0.7000" in page
    assert "nan" not in page.lower().replace("financ", "")
    off = reasons_section(REASONS, pd.DataFrame(columns=["variant"]), dataset)
    assert "was not trained" in off
