"""Report sections on fold schemes, text features and the ablation, from small tables."""

import pandas as pd

from loan_default.pipelines.reporting.sections import (
    ablation_section,
    selection_section,
    text_section,
)

COMPARISON = pd.DataFrame(
    {
        "configuration": ["a/x", "b/x", "baseline/r"],
        "kind": ["model", "model", "baseline"],
        "cv_roc_auc_mean": [0.71, 0.70, 0.60],
        "test_roc_auc": [0.69, 0.72, 0.61],
    }
)
SCHEME = {
    "selection": "time",
    "comparison": "stratified",
    "folds": [{"repeat": 1, "fold": 1, "fit": "10 loans", "validate": "5 loans"}],
}


def test_selection_names_the_scheme_that_chose_and_what_the_other_would_pick():
    stratified = pd.DataFrame({"configuration": ["a/x", "b/x"] * 2, "roc_auc": [0.70, 0.73] * 2})
    text = selection_section(
        COMPARISON, stratified, SCHEME, {"configuration": "a/x"}, "roc_auc", "test loans"
    )
    assert "chosen on time-ordered folds" in text
    assert "Stratified folds would have picked <b>b/x</b> (test roc_auc 0.7200)" in text
    assert "baseline/r" not in text


def test_selection_without_the_comparison_says_how_to_get_it():
    scheme = {**SCHEME, "comparison": None}
    text = selection_section(
        COMPARISON, pd.DataFrame(), scheme, {"configuration": "a/x"}, "roc_auc", "test loans"
    )
    assert "training.cv.compare=true" in text and "would have picked <b>" not in text


def test_text_section_reports_shifted_features_and_what_was_done():
    stability = pd.DataFrame(
        {
            "feature": ["d__present", "d__text_score"],
            "label": ["description: has text", "description: text score"],
            "train_mean": [0.9, 0.0],
            "test_mean": [0.6, 0.0],
            "psi": [0.3, 0.01],
            "psi_band": ["major shift", "stable"],
        }
    )
    fill = pd.DataFrame(
        {"column": ["d", "d"], "period": ["2010", "2011"], "share_with_text": [0.9, 0.6]}
    )
    text = text_section(stability, fill, "stable")
    assert "description: has text (PSI 0.300, major shift)" in text
    assert "description: text score (PSI" not in text
    assert "What was done" in text
    assert "No text columns" in text_section(stability.iloc[0:0], fill.iloc[0:0], "stable")


def test_ablation_section_shows_each_step_with_its_change():
    metrics = ["roc_auc", "pr_auc", "ks", "expected_cost_per_loan"]
    table = pd.DataFrame({"step": ["base", "text"], "configuration": ["m:base/x", "m:text/x"]})
    for metric in metrics:
        for part in ("validation", "test"):
            table[f"{part}_{metric}"] = [0.70, 0.71]
            table[f"{part}_{metric}_change"] = [None, 0.01]
    table["note"] = [None, ""]
    text = ablation_section(table, "test loans")
    assert "m:text/x" in text and "0.0100" in text and "NaN" not in text
