"""Data-quality node of the Spark engine (`--env spark`): the missing-value plan of every
training loan from Spark aggregates, judged by the pandas rules (`loan_default.spark.missing`)."""

from __future__ import annotations

import logging

import pandas as pd

from loan_default.parameters import DataQuality, Dataset
from loan_default.pipelines.lazy import pyspark_sql, spark_missing
from loan_default.schema import structured_feature_columns, target_column
from loan_default.validation import DataValidationError

logger = logging.getLogger(__name__)


def analyse_missing_values_on_spark(
    training_population: pyspark_sql.DataFrame,
    dataset: Dataset,
    data_quality: DataQuality,
) -> pd.DataFrame:
    """`nodes.analyse_missing_values` of a Spark table: the same report, medians approximate."""
    target = target_column(dataset)
    if target not in training_population.columns:
        raise DataValidationError(f"training loans: target column '{target}' is missing.")
    rules = data_quality.model_dump(exclude={"indicator_suffix"})
    columns = structured_feature_columns(training_population, dataset)
    report = spark_missing.plan_missing_values(
        training_population, columns, target,
        dataset.sentinel_codes, dataset.informative_missing, rules,
    )  # fmt: skip
    logger.info("Missing-value actions: %s", report["action"].value_counts().to_dict())
    return report
