"""Registration's hand-offs on the Spark engine (`--env spark`): the raw rows registration reads,
collected from the Spark table as pandas (`loan_default.spark.ingestion.collect_raw_rows`)."""

from __future__ import annotations

import pandas as pd

from loan_default.pipelines.lazy import pyspark_sql, spark_ingestion
from loan_default.schema import RAW_ROW

# Raw rows a Spark table lends to the input description (parsers of derived features' sources).
INPUT_SAMPLE_ROWS = 50_000


def collect_raw_loan_sample(raw_loans: pyspark_sql.DataFrame) -> pd.DataFrame:
    """The first `INPUT_SAMPLE_ROWS` raw loans as pandas reads them, for the input description."""
    return spark_ingestion.collect_raw_rows(raw_loans, limit=INPUT_SAMPLE_ROWS)


def collect_raw_test_loans(
    raw_loans: pyspark_sql.DataFrame, test_loans: pd.DataFrame
) -> pd.DataFrame:
    """`nodes.select_raw_test_loans` of a Spark table: the test loans' raw rows, in their order."""
    return spark_ingestion.collect_raw_rows(raw_loans, test_loans[RAW_ROW].to_numpy())
