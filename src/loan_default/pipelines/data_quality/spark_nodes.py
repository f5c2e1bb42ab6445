"""Data-quality node of the Spark engine (`--env spark`): the missing-value plan of every
training loan from Spark aggregates, judged by the pandas rules (`loan_default.spark.missing`)."""

from __future__ import annotations

import logging

import pandas as pd

from loan_default.parameters import DataQuality, Dataset
from loan_default.pipelines.lazy import pyspark_sql, spark_missing

from .nodes import missing_value_inputs

logger = logging.getLogger(__name__)


def analyse_missing_values_on_spark(
    training_population: pyspark_sql.DataFrame,
    dataset: Dataset,
    data_quality: DataQuality,
) -> pd.DataFrame:
    """`nodes.analyse_missing_values` of a Spark table: the same report, medians approximate."""
    target, columns, rules = missing_value_inputs(training_population, dataset, data_quality)
    report = spark_missing.plan_missing_values(
        training_population, columns, target,
        dataset.sentinel_codes, dataset.informative_missing, rules,
    )  # fmt: skip
    logger.info("Missing-value actions: %s", report["action"].value_counts().to_dict())
    return report
