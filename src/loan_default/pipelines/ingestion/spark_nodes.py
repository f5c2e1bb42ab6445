"""Ingestion nodes of the Spark engine (`--env spark`): the same steps and datasets as `nodes.py`,
on Spark DataFrames. Row rules run per partition with the pandas rules of `core/`; whole-table
checks are Spark aggregates judged by the same rules (`loan_default.spark.ingestion`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from loan_default.parameters import Dataset
from loan_default.pipelines.lazy import pyspark_sql, spark_ingestion


def parse_raw_loans_on_spark(
    raw_loans: pyspark_sql.DataFrame, dataset: Dataset
) -> tuple[pyspark_sql.DataFrame, dict[str, str]]:
    """`nodes.parse_raw_loans` on Spark: whole-table checks, parsing per partition, rows numbered."""
    return spark_ingestion.parse_raw_loans(raw_loans, dataset)


def handle_duplicates_on_spark(
    parsed_loans: pyspark_sql.DataFrame, dataset: Dataset
) -> tuple[pyspark_sql.DataFrame, dict[str, Any]]:
    """`nodes.handle_duplicates` on Spark: the first copy (lowest raw row) kept."""
    return spark_ingestion.handle_duplicates(parsed_loans, dataset)


def derive_target_on_spark(
    parsed_loans: pyspark_sql.DataFrame, dataset: Dataset
) -> pyspark_sql.DataFrame:
    """`nodes.derive_target` on Spark: labels per partition, both classes checked overall."""
    return spark_ingestion.derive_target(parsed_loans, dataset)


def add_derived_features_on_spark(
    labelled_loans: pyspark_sql.DataFrame, dataset: Dataset
) -> pyspark_sql.DataFrame:
    """`nodes.add_derived_features` on Spark: the configured derivations per partition."""
    return spark_ingestion.add_derived_features(labelled_loans, dataset)


def select_application_columns_on_spark(
    loans: pyspark_sql.DataFrame, dataset: Dataset
) -> tuple[pyspark_sql.DataFrame, pd.DataFrame]:
    """`nodes.select_application_columns` on Spark: the same rules on Spark-measured profiles."""
    return spark_ingestion.select_application_columns(loans, dataset)


def describe_raw_data_on_spark(raw_loans: pyspark_sql.DataFrame) -> dict[str, Any]:
    """`run_record.describe_raw_data` of a Spark table: its columns and types; rows not counted
    (ingestion counts them, a record does not scan the file again)."""
    return {"rows": None, "columns": {str(name): str(kind) for name, kind in raw_loans.dtypes}}
