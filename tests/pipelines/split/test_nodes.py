"""Split: out-of-time by default, stratified random without dates, clear configuration errors."""

import numpy as np
import pandas as pd
import pytest

from loan_default.core.split import resolve_split_method
from loan_default.pipelines.split.nodes import (
    describe_modelling_table,
    split_loans,
    summarise_split,
)
from loan_default.validation import ConfigurationError, DataValidationError
from tests.params import block

DATASET = block(
    "dataset",
    {
        "target": {"output_column": "is_default"},
        "date_column": "issued",
        "split_cutoff": "2011-01-01",
    },
)
SPLIT = block("split", {"method": "auto", "test_size": 0.25, "random_state": 3})


@pytest.fixture
def loans() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "issued": pd.to_datetime("2009-01-01")
            + pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D"),
            "x": rng.normal(size=n),
            "is_default": (rng.random(n) < 0.2).astype(int),
        }
    )


def test_out_of_time_split_has_no_overlap_and_respects_cutoff(loans):
    train, test, _ = split_loans(loans, DATASET, SPLIT)
    assert len(train) + len(test) == len(loans)
    assert train["issued"].max() < pd.Timestamp("2011-01-01") <= test["issued"].min()
    merged = train.merge(test, how="inner", on=["issued", "x"])
    assert merged.empty


def test_random_split_is_stratified_and_seeded(loans):
    dataset = {**DATASET, "date_column": None}
    train, test, _ = split_loans(loans, dataset, SPLIT)
    assert len(test) == pytest.approx(0.25 * len(loans), abs=1)
    assert train["is_default"].mean() == pytest.approx(test["is_default"].mean(), abs=0.01)
    again_train, _, _ = split_loans(loans, dataset, SPLIT)
    pd.testing.assert_frame_equal(train, again_train)
    assert set(train["x"]).isdisjoint(set(test["x"]))


def test_auto_method_follows_the_date_column():
    assert resolve_split_method(DATASET, SPLIT) == "out_of_time"
    assert resolve_split_method({**DATASET, "date_column": None}, SPLIT) == "random"


def test_out_of_time_without_date_column_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="date_column"):
        resolve_split_method({**DATASET, "date_column": None}, {**SPLIT, "method": "out_of_time"})


def test_unknown_method_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="split.method: 'by_month'"):
        resolve_split_method(DATASET, {**SPLIT, "method": "by_month"})


def test_cutoff_leaving_test_set_single_class_is_an_error(loans):
    loans.loc[loans["issued"] >= "2011-01-01", "is_default"] = 0
    with pytest.raises(DataValidationError, match="test set.*single class"):
        split_loans(loans, DATASET, SPLIT)


def test_summary_reports_counts_rates_and_date_ranges(loans):
    train, test, _ = split_loans(loans, DATASET, SPLIT)
    summary = summarise_split(train, test, DATASET).set_index("split")
    assert summary.loc["train", "loans"] == summary.loc["train", "kept_loans"] == len(train)
    assert summary.loc["test", "defaults"] == test["is_default"].sum()
    assert summary.loc["test", "first_date"] >= "2011-01-01"
    assert summary.loc["train", "last_date"] < "2011-01-01"


def test_a_sampled_test_set_is_summarised_as_the_loans_it_stands_for(loans):
    train, test, _ = split_loans(loans, DATASET, SPLIT)
    kept = test.iloc[::4].assign(sample_weight=4.0)
    summary = summarise_split(train, kept, DATASET).set_index("split")
    assert summary.loc["test", "kept_loans"] == len(kept)
    assert summary.loc["test", "loans"] == 4 * len(kept)
    assert summary.loc["test", "defaults"] == 4 * kept["is_default"].sum()
    assert summary.loc["test", "default_rate"] == round(kept["is_default"].mean(), 4)


def test_the_modelling_table_says_how_many_loans_it_stands_for(loans):
    metrics = describe_modelling_table(loans, loans, DATASET)
    assert metrics["modelling_table.kept_loans"]["value"] == len(loans)
    assert metrics["modelling_table.represented_loans"]["value"] == len(loans)
    sampled = loans.assign(sample_weight=np.where(loans["is_default"] == 1, 1.0, 4.0))
    metrics = describe_modelling_table(sampled, loans.iloc[::2].assign(sample_weight=2.0), DATASET)
    repaid = int((loans["is_default"] == 0).sum())
    assert metrics["modelling_table.represented_loans"]["value"] == len(loans) + 3 * repaid
    assert metrics["modelling_table.weight_repaid"]["value"] == 4.0
    assert metrics["modelling_table.weight_default"]["value"] == 1.0
    assert metrics["test_table.kept_loans"]["value"] == len(loans.iloc[::2])
    assert metrics["test_table.represented_loans"]["value"] == 2 * len(loans.iloc[::2])
    assert metrics["test_table.weight_repaid"]["value"] == 2.0
