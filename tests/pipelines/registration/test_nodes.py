"""Promotion decisions on small frames: like with like, a margin, and a champion that cannot score."""

import numpy as np
import pandas as pd
import pytest

from loan_default.pipelines.registration.nodes import (
    decide_promotion,
    request_registration,
    select_raw_test_loans,
)
from loan_default.profile import build_profile
from loan_default.schema import RAW_ROW
from loan_default.serving import ChampionHandle, LoanDefaultModel
from tests.params import block

DATASET = block("dataset", {"costs": {"loss_given_default": 0.7, "interest_margin": 0.1}})
RAW = pd.DataFrame({"rate": [0.05, 0.30, 0.10, 0.40, 0.08, 0.35], "status": [0, 1, 0, 1, 0, 0]})
# The ingested test loans point back at their raw rows; here they are the raw rows reversed.
TEST_LOANS = pd.DataFrame(
    {
        RAW_ROW: [5, 4, 3, 2, 1, 0],
        "rate": RAW["rate"][::-1].to_numpy(),
        "is_default": RAW["status"][::-1].to_numpy(),
    }
)


class ColumnModel:
    """PD = one column of the loans, or a constant 0.1 when no column is given."""

    threshold = 0.2

    def __init__(self, column: str | None) -> None:
        self.column = column

    def predict_proba(self, loans: pd.DataFrame) -> np.ndarray:
        score = loans[self.column].to_numpy(float) if self.column else np.full(len(loans), 0.1)
        return np.column_stack([1 - score, score])


def handle(column: str | None, version: str = "") -> ChampionHandle:
    """A registered model reading `column` (or just `rate`, for the constant model)."""
    inputs = {column or "rate": "numeric"}
    profile = build_profile(TEST_LOANS, np.full(len(TEST_LOANS), 0.1), [], DATASET, 2)
    model = LoanDefaultModel(ColumnModel(column), DATASET, profile, inputs)
    return ChampionHandle(model, f"models:/m/{version or 'new'}", "run", "m", version)


def decide(challenger, incumbent, **registry_values):
    # A null metric is resolved to training's primary metric when the parameters are loaded.
    return decide_promotion(
        challenger,
        incumbent,
        TEST_LOANS,
        select_raw_test_loans(RAW, TEST_LOANS),
        DATASET,
        block("registry", {"metric": "roc_auc"} | registry_values),
    )


def test_without_a_champion_the_challenger_is_promoted():
    decision, metrics = decide(handle("rate"), None)
    assert decision["promote"] and decision["reason"] == "no current champion"
    assert metrics["promotion.challenger_roc_auc"]["value"] == pytest.approx(0.875)


def test_both_champions_are_scored_on_the_same_test_loans():
    decision, metrics = decide(handle("rate"), handle(None, "3"))
    assert decision["promote"] and "beats the champion on test roc_auc" in decision["reason"]
    assert metrics["promotion.champion_roc_auc"]["value"] == pytest.approx(0.5)


def test_an_improvement_below_the_margin_does_not_promote():
    decision, _ = decide(handle("rate"), handle(None, "3"), min_improvement=0.5)
    assert not decision["promote"] and "does not beat" in decision["reason"]


def test_a_champion_that_cannot_score_the_new_data_is_kept_unless_forced():
    incumbent = handle("other_column", "3")
    kept, _ = decide(handle("rate"), incumbent)
    assert not kept["promote"] and "cannot score this run's test data" in kept["reason"]
    assert "other_column" in kept["reason"]
    forced, _ = decide(handle("rate"), incumbent, force=True)
    assert forced["promote"] and forced["reason"].startswith("forced by registry.force")


def test_rows_one_model_refuses_are_left_out_for_both():
    raw = RAW.assign(rate=RAW["rate"].astype(object))
    raw.loc[0, "rate"] = "n/a"  # raw row 0 = test loan 5: a repaid loan the challenger cannot read
    decision, _ = decide_promotion(
        handle("rate"),
        handle(None, "3"),
        TEST_LOANS,
        select_raw_test_loans(raw, TEST_LOANS),
        DATASET,
        block("registry", {"metric": "roc_auc"}),
    )
    assert decision["evaluated_on"].startswith("this run's test set: 5 of 6 loans")


def test_a_registered_version_carries_ten_tags_that_matter_and_the_headline():
    decision, _ = decide(handle("rate"), handle(None, "3"))
    metrics = {"configuration": "xgboost/smote", "threshold": 0.2, "test_roc_auc": 0.875}
    metrics |= {"test_pr_auc": 0.8, "cv_roc_auc_mean": 0.7, "cv_ks_std": 0.1, "rank": 1}
    summary = {"lines": ["Champion: xgboost/smote", "Promotion: the alias moves"]}
    request = request_registration(
        handle("rate"), decision, metrics, {"sha256": "ab" * 32}, summary, "<html>"
    )
    tags = request["version_tags"]
    assert len(tags) <= 10
    assert tags["source_run_id"] == "run" and tags["data_sha256"] == "ab" * 32
    assert tags["promotion.promoted"] == "true" and tags["promotion.champion_roc_auc"] == "0.5"
    assert tags["test_roc_auc"] == "0.875" and tags["configuration"] == "xgboost/smote"
    assert request["promote"] and request["description"].startswith("Champion: xgboost/smote")
