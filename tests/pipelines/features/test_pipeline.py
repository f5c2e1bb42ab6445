"""The features stage on an in-memory catalog with a small synthetic loan table."""

import pytest
from sklearn.base import clone

from loan_default.pipelines.features import create_pipeline
from tests.kedro_helpers import run_in_memory
from tests.test_preprocessing import BINNING, DATA_QUALITY, DATASET, ENCODING, TARGET, make_loans

REPORTS = {
    "woe_plot_top_n": 4,
    "iv_bands": [{"below": 0.02, "label": "not predictive"}, {"below": None, "label": "useful"}],
    "psi_bands": [{"below": 0.1, "label": "stable"}, {"below": None, "label": "shift"}],
}


@pytest.mark.parametrize("method", ["optimal", "quantile"])
def test_stage_produces_every_output(method):
    inputs = {
        "train_loans": make_loans(n=1500, seed=0),
        "test_loans": make_loans(n=800, seed=1),
        "params:dataset": DATASET,
        "params:data_quality": DATA_QUALITY,
        "params:features.encoding": ENCODING,
        "params:features.binning": {**BINNING, "method": method},
        "params:features.reports": REPORTS,
    }
    outputs = run_in_memory(create_pipeline(), inputs)
    assert set(outputs) == {
        "fitted_preprocessor", "train_features", "test_features", "binning_process",
        "train_woe", "test_woe", "feature_stability", "iv_ranking", "binning_tables", "woe_plot",
    }  # fmt: skip
    assert outputs["iv_ranking"]["feature"].iloc[0] in {"rate", "rating"}
    assert len(outputs["woe_plot"].axes) >= REPORTS["woe_plot_top_n"]
    refit = clone(outputs["fitted_preprocessor"]).fit(
        inputs["train_loans"], inputs["train_loans"][TARGET]
    )
    assert list(refit.transform(inputs["test_loans"]).columns) == list(
        outputs["test_features"].drop(columns=TARGET).columns
    )
