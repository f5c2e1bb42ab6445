"""The features stage on an in-memory catalog with a small synthetic loan table."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loan_default.parameters import FeatureReports
from loan_default.pipelines.features import create_pipeline
from tests.kedro_helpers import run_in_memory
from tests.params import block
from tests.test_preprocessing import BINNING, DATA_QUALITY, DATASET, ENCODING, TARGET, make_loans

REPORTS = FeatureReports(
    woe_plot_top_n=4,
    iv_bands=[{"below": 0.02, "label": "not predictive"}, {"below": None, "label": "useful"}],
    psi_bands=[{"below": 0.1, "label": "stable"}, {"below": None, "label": "shift"}],
)

TEXT = block("features", {"text": {"cv": 3}})["text"]


@pytest.mark.parametrize("method", ["optimal", "quantile"])
def test_stage_produces_every_output(method):
    inputs = {
        "train_loans": make_loans(n=1500, seed=0),
        "test_loans": make_loans(n=800, seed=1),
        "params:dataset": DATASET,
        "params:data_quality": DATA_QUALITY,
        "params:features.encoding": ENCODING,
        "params:features.binning": BINNING | {"method": method},
        "params:features.reports": REPORTS,
        "params:features.text": TEXT,
    }
    outputs = run_in_memory(create_pipeline(), inputs)
    assert set(outputs) == {
        "fitted_preprocessor", "train_features", "test_features", "binning_process",
        "train_woe", "test_woe", "features.feature_stability", "features.iv_ranking", "features.binning_tables", "woe_plot",
        "features.text_feature_stability", "features.text_fill_rates",
    }  # fmt: skip
    assert outputs["features.text_feature_stability"].empty  # no text columns configured
    assert outputs["features.iv_ranking"]["feature"].iloc[0] in {"rate", "rating"}
    assert len(outputs["woe_plot"].axes) >= REPORTS["woe_plot_top_n"]
    refit = clone(outputs["fitted_preprocessor"]).fit(
        inputs["train_loans"], inputs["train_loans"][TARGET]
    )
    assert list(refit.transform(inputs["test_loans"]).columns) == list(
        outputs["test_features"].drop(columns=TARGET).columns
    )


def _with_notes(loans, seed):
    """A free-text column whose words carry the target, missing more often in later loans."""
    rng = np.random.default_rng(seed)
    risky = np.where(loans[TARGET] == 1, "behind on bills consolidate", "new kitchen savings")
    noise = rng.choice(["car", "home", "wedding", "school"], len(loans))
    notes = pd.Series([f"Added on 01/02/10 > {a} {b}" for a, b in zip(risky, noise, strict=True)])
    return loans.assign(note=notes.where(rng.random(len(loans)) < 0.7))


def test_text_columns_become_features_with_stability_and_fill_rate_reports():
    dataset = DATASET | {"text_columns": {"note": {"strip": [r"Added on \d\d/\d\d/\d\d >"]}}}
    inputs = {
        "train_loans": _with_notes(make_loans(n=1500, seed=0), 0),
        "test_loans": _with_notes(make_loans(n=800, seed=1), 1),
        "params:dataset": dataset,
        "params:data_quality": DATA_QUALITY,
        "params:features.encoding": ENCODING,
        "params:features.binning": BINNING,
        "params:features.reports": REPORTS,
        "params:features.text": TEXT,
    }
    outputs = run_in_memory(create_pipeline(), inputs)
    features = outputs["train_features"]
    assert {"note__text_score", "note__present", "note__words"} <= set(features.columns)
    assert (
        "note" not in outputs["features.iv_ranking"]["feature"].tolist()
    )  # never binned as a category
    # the text score separates the classes on test loans that have a note
    test = outputs["test_features"]
    has_note = test["note__present"] == 1
    scores = test.loc[has_note].groupby(TARGET)["note__text_score"].mean()
    assert scores[1] > scores[0] + 1
    stability = outputs["features.text_feature_stability"]
    assert set(stability["feature"]) == {"note__text_score", "note__present", "note__words"}
    assert stability["psi"].ge(0).all()
    fill = outputs["features.text_fill_rates"]
    assert set(fill["column"]) == {"note"} and fill["share_with_text"].between(0.6, 0.8).all()
