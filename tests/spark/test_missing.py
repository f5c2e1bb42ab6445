"""Missing-value statistics on Spark equal the pandas plan, disguised kinds included."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_default.preprocessing import plan_missing_values
from loan_default.schema import RAW_ROW
from loan_default.spark.missing import plan_missing_values as plan_on_spark

SENTINELS = {"income": [-9], "region": ["??"]}
INFORMATIVE = {"months_since": {"fill": "max", "why": "missing = never"}}


def _loans() -> pd.DataFrame:
    n = 120
    rng = np.random.default_rng(3)
    income = rng.integers(10, 90, n).astype("float64")
    income[:15] = -9.0
    income[15:18] = np.inf
    income[18:25] = np.nan
    months = np.where(np.arange(n) % 3 == 0, np.nan, rng.integers(1, 60, n).astype("float64"))
    # "S" and "N" tie on count; "S" is seen first, so it is the most frequent by both rules.
    region = ["S", "N"] * 50 + ["??"] * 6 + ["", "  "] * 4 + [None] * 6
    return pd.DataFrame(
        {
            RAW_ROW: np.arange(n),
            "income": income,
            "months_since": months,
            "region": pd.Series(region, dtype="str"),
            "open_accounts": rng.integers(0, 9, n),
            "bad": (np.arange(n) % 4 == 0).astype("int64") | np.isnan(months),
        }
    )


def test_spark_plan_equals_the_pandas_plan_with_sentinels_empty_text_and_infinities(spark):
    loans = _loans()
    columns = ["income", "months_since", "region", "open_accounts"]
    rules = {"numeric_impute": "mean"}
    expected = plan_missing_values(loans[columns], loans["bad"], SENTINELS, INFORMATIVE, rules)
    frame = spark.createDataFrame(loans)
    report = plan_on_spark(frame, columns, "bad", SENTINELS, INFORMATIVE, rules)
    pd.testing.assert_frame_equal(report, expected)
    plan = report.set_index("column")
    assert plan.loc["income", ["native_missing", "sentinel_codes"]].tolist() == [10, 15]
    assert plan.loc["region", ["empty_strings", "sentinel_codes"]].tolist() == [8, 6]
    assert plan.loc["region", "fill_value"] == "S"
    assert plan.loc["months_since", "action"] == "indicator_and_fill"
    assert plan.loc["months_since", "fill_value"] == loans["months_since"].max()
