"""Scoring nodes of the Spark engine (`--env spark`): the registered model scores a Spark table
of applications (`mlflow.pyfunc.spark_udf`); the row checks, reasons and typing are the pandas
path's own, per partition (`loan_default.spark.scoring`)."""

from __future__ import annotations

import pandas as pd

from loan_default.applications import ROW
from loan_default.parameters import Score
from loan_default.pipelines.lazy import pyspark_sql, serving, spark_scoring

from .nodes import measure_score_drift


def number_applications_on_spark(
    applications: pyspark_sql.DataFrame, champion: serving.ChampionHandle
) -> pyspark_sql.DataFrame:
    """The raw applications numbered 1, 2, ... in file order, after the batch-wide checks (no
    rows, a required column missing) in the pandas path's words."""
    spark_scoring.check_batch(applications, champion)
    return spark_scoring.number_applications(applications)


def find_application_errors_on_spark(
    numbered_applications: pyspark_sql.DataFrame, champion: serving.ChampionHandle
) -> pyspark_sql.DataFrame:
    """`application_errors`: every problem of every row, as `nodes.validate_applications`."""
    return spark_scoring.find_problems(numbered_applications, champion)


def validate_applications_on_spark(
    numbered_applications: pyspark_sql.DataFrame, champion: serving.ChampionHandle
) -> pyspark_sql.DataFrame:
    """`valid_applications`: the rows without errors, typed as training did (a Spark table)."""
    return spark_scoring.valid_rows(numbered_applications, champion)


def score_applications_on_spark(
    numbered_applications: pyspark_sql.DataFrame,
    champion: serving.ChampionHandle,
    score: Score,
) -> pyspark_sql.DataFrame:
    """`nodes.score_applications` on Spark: the registered model scores every row (rows with
    errors left out), reasons up to `score.spark.reasons_up_to_rows` applications."""
    return spark_scoring.score_applications(numbered_applications, champion, score)


def measure_score_drift_on_spark(
    valid_applications: pyspark_sql.DataFrame,
    scored_applications: pd.DataFrame,
    champion: serving.ChampionHandle,
    score: Score,
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """`nodes.measure_score_drift` on the profile's features of the Spark table, brought to
    pandas; the scores arrive as pandas from the saved table (`scored_applications@pandas`)."""
    features = [
        c for c in champion.model.profile.feature_references if c in valid_applications.columns
    ]
    applications = valid_applications.select(ROW, *features).toPandas()
    return measure_score_drift(applications, scored_applications, champion, score)
