"""The data-quality stage on an in-memory catalog."""

import numpy as np
import pandas as pd

from loan_default.pipelines.data_quality import create_pipeline
from tests.kedro_helpers import run_in_memory

from .test_nodes import DATASET, RULES


def test_stage_runs_and_writes_report_and_plot():
    rng = np.random.default_rng(0)
    n = 300
    train = pd.DataFrame(
        {
            "education": rng.choice([0, 1, 2], n).astype(float),
            "months_since_default": np.where(rng.random(n) < 0.4, np.nan, 5.0),
            "opened": pd.date_range("2020-01-01", periods=n, freq="D"),
            "flag": 0,
            "bad": (rng.random(n) < 0.3).astype("int64"),
        }
    )
    outputs = run_in_memory(
        create_pipeline(),
        {"training_population": train, "params:dataset": DATASET, "params:data_quality": RULES},
    )
    assert set(outputs) == {"data_quality.missing_value_report", "missing_value_plot"}
    report = outputs["data_quality.missing_value_report"]
    assert report["column"].tolist() == ["education", "months_since_default"]
    assert report["missing_rate"].tolist() == [
        (train["education"] == 0).mean(),
        train["months_since_default"].isna().mean(),
    ]
