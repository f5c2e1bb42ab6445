"""What a run records about itself: the raw table's description, tags, and the closing summary."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from loan_default.hooks import RunSummaryHook
from loan_default.pipelines.run_record import (
    describe_raw_data,
    duplicate_tags,
    scoring_model_tags,
    split_tags,
    summarise_run,
)

METRICS = {
    "configuration": "xgboost/smote",
    "threshold": 0.151,
    "cv_roc_auc_mean": 0.71831,
    "test_roc_auc": 0.71086,
    "cv_pr_auc_mean": 0.29503,
    "test_pr_auc": 0.29379,
}


def decision(promote: bool, champion: str = "none", reason: str = "no current champion") -> dict:
    return {"promote": promote, "champion": champion, "reason": reason}


def test_the_raw_table_is_described_by_its_columns_and_rows():
    loans = pd.DataFrame({"loan_status": ["Fully Paid"], "int_rate": [0.1]})
    assert describe_raw_data(loans) == {
        "rows": 1,
        "columns": {"loan_status": pd.Series(["x"]).dtype.name, "int_rate": "float64"},
    }


def test_split_and_duplicate_summaries_become_tags():
    summary = pd.DataFrame({"split": ["train", "test"], "loans": [90, 10]})
    assert split_tags(summary) == {"split.train.loans": "90", "split.test.loans": "10"}
    found = {"action": "drop", "exact_duplicate_rows": 3, "exact_share": 0.01, "dropped_rows": 3}
    assert duplicate_tags(found)["duplicates.dropped_rows"] == "3"


def test_a_scoring_run_is_tagged_with_the_version_it_used():
    champion = SimpleNamespace(uri="models:/loan-default/3", version="3", run_id="abc")
    assert scoring_model_tags(champion)["scoring.model_version"] == "3"


def test_the_summary_names_the_champion_its_figures_and_the_decision():
    summary, description = summarise_run(METRICS, decision(True))
    assert summary["lines"] == [
        "Champion: xgboost/smote (threshold 0.1510)",
        "ROC AUC: validation 0.7183 / test 0.7109; PR AUC: validation 0.2950 / test 0.2938",
        "Promotion: the alias moves to this run's version: no current champion",
    ]
    assert description == {"mlflow.note.content": "\n\n".join(summary["lines"])}


@pytest.mark.parametrize(
    ("promote", "expected"),
    [
        (True, "the alias moves from loan-default v3 (run r3) to this run's version: beats"),
        (False, "the alias stays on loan-default v3 (run r3): beats"),
    ],
)
def test_the_summary_says_against_which_version_the_alias_moved_or_stayed(promote, expected):
    summary, _ = summarise_run(METRICS, decision(promote, "loan-default v3 (run r3)", "beats"))
    assert summary["lines"][-1] == f"Promotion: {expected}"


def test_a_missing_figure_is_shown_as_not_available():
    summary, _ = summarise_run({"configuration": "lr/none"}, decision(True))
    assert summary["lines"][1].startswith("ROC AUC: validation n/a / test n/a")


def test_the_run_ends_with_the_summary_the_registry_and_where_to_look(caplog, tmp_path):
    summary, _ = summarise_run(METRICS, decision(True))
    registered = {
        "model_name": "loan-default",
        "registered_version": "4",
        "alias": "champion",
        "promoted": "true",
        "previous_version": "3",
        "champion_version": "4",
    }
    report = MemoryDataset("<html>")
    report._filepath = tmp_path / "loan_report.html"  # what a file dataset holds
    catalog = DataCatalog(
        {
            "run_summary": MemoryDataset(summary),
            "champion_registration": MemoryDataset(registered),
            "loan_report": report,
        }
    )
    pipeline = Pipeline(
        [Node(lambda: (summary, registered, ""), None, list(catalog.keys()), name="n")]
    )
    hook = RunSummaryHook()
    hook._run = ("1", "abc")
    with caplog.at_level(logging.INFO, logger="loan_default.hooks"):
        hook.after_pipeline_run(pipeline, catalog)
    text = caplog.text
    assert "Champion: xgboost/smote" in text and "test 0.7109" in text
    assert "loan-default v4 registered; @champion moved to v4 (was v3)" in text
    assert f"Report: {tmp_path / 'loan_report.html'}" in text
    assert "#/experiments/1/runs/abc" in text


def test_a_pipeline_without_a_summary_prints_none(caplog):
    with caplog.at_level(logging.INFO, logger="loan_default.hooks"):
        RunSummaryHook().after_pipeline_run(Pipeline([]), DataCatalog())
    assert "Run summary" not in caplog.text
