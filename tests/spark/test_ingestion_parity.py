"""Ingestion and the split on Spark give what the pandas nodes give, on real LendingClub rows."""

from __future__ import annotations

import pandas as pd
import pytest

from loan_default.pipelines.data_quality.nodes import analyse_missing_values
from loan_default.pipelines.data_quality.spark_nodes import analyse_missing_values_on_spark
from loan_default.pipelines.ingestion import nodes
from loan_default.pipelines.ingestion import spark_nodes as on_spark
from loan_default.pipelines.split.nodes import split_loans
from loan_default.pipelines.split.spark_nodes import sample_modelling_table, split_loans_on_spark
from loan_default.schema import RAW_ROW
from loan_default.spark.ingestion import with_row_numbers
from loan_default.validation import DataValidationError
from tests.conftest import RAW_LOANS
from tests.params import block

SPLIT = {
    "method": "auto",
    "test_size": 0.3,
    "random_state": 42,
    "row_budget": 10**6,
    "test_row_budget": 10**6,
}


@pytest.fixture(scope="module")
def raw_sample() -> pd.DataFrame:
    """Every 15th bundled loan (both years of the split, every status), as pandas reads it."""
    raw = pd.read_csv(RAW_LOANS, low_memory=False)
    return raw.iloc[::15].reset_index(drop=True)


def _ingest(raw, dataset: dict):
    parsed, types = nodes.parse_raw_loans(raw, dataset)
    unique, duplicates = nodes.handle_duplicates(parsed, dataset)
    labelled = nodes.derive_target(unique, dataset)
    enriched = nodes.add_derived_features(labelled, dataset)
    loans, dropped = nodes.select_application_columns(enriched, dataset)
    return loans, dropped, types, duplicates


def _ingest_on_spark(raw, dataset: dict):
    """The Spark ingestion pipeline's nodes, in its order."""
    parsed, types = on_spark.parse_raw_loans_on_spark(raw, dataset)
    unique, duplicates = on_spark.handle_duplicates_on_spark(parsed, dataset)
    labelled = on_spark.derive_target_on_spark(unique, dataset)
    enriched = on_spark.add_derived_features_on_spark(labelled, dataset)
    loans, dropped = on_spark.select_application_columns_on_spark(enriched, dataset)
    return loans, dropped, types, duplicates


def _as_pandas(frame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        frame = frame.toPandas()
    return frame.sort_values(RAW_ROW).reset_index(drop=True)


def _assert_same_rows(spark_rows: pd.DataFrame, pandas_rows: pd.DataFrame) -> None:
    assert list(spark_rows.columns) == list(pandas_rows.columns)
    for column in pandas_rows.columns:
        expected, actual = pandas_rows[column], spark_rows[column]
        if pd.api.types.is_numeric_dtype(expected):
            pd.testing.assert_series_equal(
                actual.astype("float64"), expected.astype("float64"), check_names=False
            )
        elif pd.api.types.is_datetime64_any_dtype(expected):
            assert (pd.to_datetime(actual).dt.tz_localize(None) == expected).all(), column
        else:
            pd.testing.assert_series_equal(
                actual.astype("object").where(actual.notna(), None),
                expected.astype("object").where(expected.notna(), None),
                check_names=False,
            )


def test_spark_ingestion_gives_the_pandas_rows_target_and_dropped_columns(
    spark, raw_sample, dataset_params
):
    expected_loans, expected_dropped, expected_types, expected_dupes = _ingest(
        raw_sample, dataset_params
    )
    # In file order, as a CSV is read; Arrow batches of 500 rows make the per-partition rules
    # run on pieces (tests/spark/conftest.py).
    frame = spark.createDataFrame(raw_sample)
    loans, dropped, types, duplicates = _ingest_on_spark(frame, dataset_params)
    assert types == expected_types
    assert duplicates == expected_dupes
    pd.testing.assert_frame_equal(dropped, expected_dropped)
    _assert_same_rows(_as_pandas(loans), _as_pandas(expected_loans))

    population, test_population = split_loans_on_spark(loans, dataset_params, SPLIT)
    train, test = sample_modelling_table(population, test_population, dataset_params, SPLIT)
    expected_train, expected_test, expected_population = split_loans(
        expected_loans, dataset_params, SPLIT
    )
    assert train[RAW_ROW].tolist() == expected_train[RAW_ROW].tolist()
    assert test[RAW_ROW].tolist() == expected_test[RAW_ROW].tolist()
    assert "sample_weight" in train and (train["sample_weight"] == 1.0).all()
    # `training_population` means every training loan on both engines.
    assert sorted(_as_pandas(population)[RAW_ROW]) == expected_population[RAW_ROW].tolist()
    _assert_same_missing_value_report(
        analyse_missing_values_on_spark(population, dataset_params, block("data_quality")),
        analyse_missing_values(expected_population, dataset_params, block("data_quality")),
        expected_train,
    )


def _assert_same_missing_value_report(
    report: pd.DataFrame, expected: pd.DataFrame, train: pd.DataFrame
) -> None:
    """Equal counts, tests, actions and fills; a median may be either middle value (Spark's is
    approximate, pandas interpolates)."""
    assert report["column"].tolist() == expected["column"].tolist()
    medians = (expected["fill_strategy"] == "median").to_numpy()
    assert medians.sum() > 10
    pd.testing.assert_frame_equal(
        report.drop(columns="fill_value"), expected.drop(columns="fill_value")
    )
    assert report["fill_value"][~medians].tolist() == expected["fill_value"][~medians].tolist()
    for column, value in zip(report["column"][medians], report["fill_value"][medians], strict=True):
        plan = expected.set_index("column").loc[column]
        present = train[column][train[column].notna()]
        if plan["sentinel_codes"]:
            continue  # the present values exclude the codes; the ordinary median does not
        low, high = (
            present.quantile(0.5, interpolation="lower"),
            present.quantile(0.5, interpolation="higher"),
        )
        assert low <= value <= high, column


def test_duplicates_are_found_and_the_first_copy_kept_as_in_pandas(
    spark, raw_sample, dataset_params
):
    raw = pd.concat([raw_sample.head(300), raw_sample.head(300).iloc[[5, 17]]], ignore_index=True)
    parsed, _ = on_spark.parse_raw_loans_on_spark(spark.createDataFrame(raw), dataset_params)
    strict = dataset_params | {"duplicates": {"action": "error", "max_exact_share": 0.005}}
    with pytest.raises(DataValidationError, match=r"2 exact duplicate row.*0\.662% of the 302"):
        on_spark.handle_duplicates_on_spark(parsed, strict)
    # 2 copies in 302 rows are within the default 1%: dropped, as `drop` drops them.
    expected, expected_summary = nodes.handle_duplicates(
        nodes.parse_raw_loans(raw, dataset_params)[0], dataset_params
    )
    for rule in ({"action": "error", "max_exact_share": 0.01}, {"action": "drop"}):
        dataset = dataset_params | {"duplicates": rule}
        unique, summary = on_spark.handle_duplicates_on_spark(parsed, dataset)
        assert summary == {**expected_summary, "action": rule["action"]}
        assert summary["dropped_rows"] == 2 and summary["rows"] == 302
        assert sorted(_as_pandas(unique)[RAW_ROW]) == sorted(expected[RAW_ROW])


def test_raw_rows_are_numbered_consecutively_across_partitions(spark):
    frame = spark.range(1000).repartition(4).withColumnRenamed("id", "value")
    numbered = with_row_numbers(frame, RAW_ROW).toPandas()
    assert sorted(numbered[RAW_ROW]) == list(range(1000))
    assert numbered["value"].nunique() == 1000
