"""Split nodes of the Spark engine (`--env spark`): the split on the whole Spark table, then the
hand-off to pandas (the modelling table, sampled to the row budgets) as a node of its own."""

from __future__ import annotations

import pandas as pd

from loan_default.parameters import Dataset, Split
from loan_default.pipelines.lazy import pyspark_sql, spark_ingestion


def split_loans_on_spark(
    loans: pyspark_sql.DataFrame, dataset: Dataset, split: Split
) -> tuple[pyspark_sql.DataFrame, pyspark_sql.DataFrame]:
    """Every training loan and every test loan (`nodes.split_loans`' rule), as Spark tables."""
    return spark_ingestion.split_populations(loans, dataset, split)


def sample_modelling_table(
    training_population: pyspark_sql.DataFrame,
    test_population: pyspark_sql.DataFrame,
    dataset: Dataset,
    split: Split,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test loans as pandas, each sampled (weighted) only above its row budget."""
    return spark_ingestion.sample_modelling_table(
        training_population, test_population, dataset, split
    )
