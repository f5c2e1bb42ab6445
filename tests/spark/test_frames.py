"""Pandas logic per Spark partition gives what pandas gives on the whole frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_default.spark import is_spark_frame
from loan_default.spark.frames import map_partitions


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """A stand-in business rule: parse a percent, add a ratio, keep text with its gaps."""
    out = frame.copy()
    out["rate"] = out["rate_text"].str.rstrip("%").astype(float) / 100
    out["ratio"] = out["amount"] / out["income"]
    return out.drop(columns="rate_text")


def test_map_partitions_matches_the_pandas_function(spark):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "rate_text": [f"{r:.2f}%" for r in rng.uniform(5, 25, 500)],
            "amount": rng.uniform(1000, 30000, 500),
            "income": rng.uniform(20000, 200000, 500),
            "purpose": rng.choice(["car", None, "house"], 500),
        }
    )
    distributed = map_partitions(spark.createDataFrame(frame).repartition(4), _typed, 50)
    assert is_spark_frame(distributed) and not is_spark_frame(frame)
    result = distributed.toPandas()
    expected = _typed(frame)
    order = np.argsort(result["amount"].to_numpy())
    pd.testing.assert_frame_equal(
        result.iloc[order].reset_index(drop=True),
        expected.iloc[np.argsort(expected["amount"].to_numpy())].reset_index(drop=True),
        check_dtype=False,
    )
    assert result["purpose"].isna().sum() == frame["purpose"].isna().sum()


def test_a_column_empty_in_the_schema_sample_keeps_its_input_type(spark):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "note": [None, None, "late", "ok"]})
    distributed = map_partitions(spark.createDataFrame(frame), lambda part: part, sample_rows=2)
    assert dict(distributed.dtypes)["note"] == "string"
    assert distributed.toPandas()["note"].tolist()[2:] == ["late", "ok"]
