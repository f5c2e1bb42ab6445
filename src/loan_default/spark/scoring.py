"""Scoring a Spark DataFrame of applications with the registered champion (`--env spark`).

The probability of default, and each row's error and warning, come from the registered model
itself through `mlflow.pyfunc.spark_udf` (every executor loads it once from the registry). The
decision at the champion's threshold and the model's name, version and run are columns of the
same table; the problems table comes from the row checks the pandas path runs, per partition.
Reasons per application run the pandas explainer per partition; in a batch of more than
`score.spark.reasons_up_to_rows` applications they are left blank (set it higher to get them).
"""

from __future__ import annotations

import logging
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.types import DataType
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from loan_default.applications import PROBLEM_COLUMNS, ROW, check_applications
from loan_default.modelling.champion import default_probability, preprocessor_of
from loan_default.serving import ChampionHandle

from .frames import map_partitions
from .ingestion import with_row_numbers

logger = logging.getLogger(__name__)

# rating_grade arrives as double: the UDF casts each column with numpy, and a row with an error
# has no grade (None cannot become an int64; a NaN double arrives as null and casts to long).
UDF_RESULT = (
    "probability_of_default double, rating_grade double, decision string, review_reason string, "
    "error string, warning string"
)
TAIL = ["warnings", "model_name", "model_version", "model_run_id"]
COVERAGE = "reason_coverage"


def number_applications(applications: DataFrame) -> DataFrame:
    """Application rows numbered 1, 2, ... in the file's order, as the pandas path numbers them."""
    numbered = with_row_numbers(applications, ROW)
    return numbered.withColumn(ROW, F.col(ROW) + 1)


def _checked(part: pd.DataFrame, model: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`check_applications` on one partition, with the table-wide row numbers (a partition
    without problems has an empty problems table, whose row column is not integer-typed)."""
    rows = part[ROW].to_numpy()
    valid, problems = check_applications(part.drop(columns=ROW), model)
    valid[ROW] = rows[valid[ROW].to_numpy(dtype="int64") - 1]
    problems[ROW] = rows[problems[ROW].to_numpy(dtype="int64") - 1]
    return valid, problems


def find_problems(numbered: DataFrame, champion: ChampionHandle) -> DataFrame:
    """Every problem of every row (row, severity, column, value, problem), as pandas finds them."""
    model = champion.model

    def problems_of(part: pd.DataFrame) -> pd.DataFrame:
        problems = _checked(part, model)[1] if len(part) else pd.DataFrame()
        return (
            problems.reindex(columns=PROBLEM_COLUMNS)
            .astype({ROW: "int64"})
            .astype({c: "str" for c in PROBLEM_COLUMNS if c != ROW})
        )

    return map_partitions(numbered, problems_of)


def check_batch(raw: DataFrame, champion: ChampionHandle) -> None:
    """What stops a whole batch (no rows, a required column missing) raised on the driver, in
    the pandas path's words, before any task runs."""
    check_applications(raw.limit(100).toPandas(), champion.model)


def valid_rows(numbered: DataFrame, champion: ChampionHandle) -> DataFrame:
    """The rows without errors, typed and derived as the pandas path's `valid_applications`
    (row number, identifiers, the model's inputs, derived features), as a Spark table."""
    model = champion.model
    columns = list(_checked(numbered.limit(100).toPandas(), model)[0].columns)

    def typed(part: pd.DataFrame) -> pd.DataFrame:
        return _checked(part, model)[0] if len(part) else pd.DataFrame(columns=columns)

    return map_partitions(numbered, typed)


def score_with_udf(numbered: DataFrame, champion: ChampionHandle) -> DataFrame:
    """Probability, decision (approve, reject, refer), review reason, error and warning per row
    from the registered model (spark_udf), and which model scored."""
    spark = numbered.sparkSession
    inputs = [c for c in champion.model.input_types if c in numbered.columns]
    udf = mlflow.pyfunc.spark_udf(
        spark, champion.uri, result_type=UDF_RESULT, env_manager="local",
        params={"reasons": False},  # explained apart, with their contributions (reasons_table)
    )  # fmt: skip
    identifiers = [c for c in champion.model.dataset["identifier_columns"] if c in numbered.columns]
    threshold = float(champion.model.threshold)
    columns = _as_signature_types(numbered, champion.uri, inputs)
    result = numbered.withColumn("_scored", udf(F.struct(*columns)))
    probability = F.round(F.col("_scored.probability_of_default"), 6)
    return result.select(
        ROW,
        *identifiers,
        probability.alias("probability_of_default"),
        F.col("_scored.rating_grade").cast("long").alias("rating_grade"),
        F.col("_scored.decision").alias("decision"),
        F.lit(round(threshold, 6)).alias("threshold"),
        F.coalesce(F.col("_scored.review_reason"), F.lit("")).alias("review_reason"),
        F.nullif(F.col("_scored.error"), F.lit("")).alias("error"),
        F.coalesce(F.col("_scored.warning"), F.lit("")).alias("warnings"),
        F.lit(champion.name).alias("model_name"),
        F.lit(champion.version).alias("model_version"),
        F.lit(champion.run_id).alias("model_run_id"),
    )


def _as_signature_types(numbered: DataFrame, uri: str, inputs: list[str]) -> list[Any]:
    """The input columns as the model's signature types them: a whole-number column (Parquet's
    int64, a CSV's inferred int) becomes double where the signature says double, as MLflow's
    input check will not convert int64 to float64 itself."""
    signature = mlflow.models.get_model_info(uri).signature
    doubles = {spec.name for spec in signature.inputs.inputs if spec.type == DataType.double}
    kinds = {field.name: field.dataType for field in numbered.schema.fields}
    return [
        F.col(f"`{c}`").cast("double").alias(c)
        if c in doubles and isinstance(kinds[c], T.NumericType)
        else F.col(f"`{c}`")
        for c in inputs
    ]


def score_applications(
    numbered: DataFrame, champion: ChampionHandle, score: dict[str, Any]
) -> DataFrame:
    """The scored table of the pandas path: rows without errors, decision, reasons (up to
    `score.spark.reasons_up_to_rows` applications; blank above), warnings, model."""
    scored = score_with_udf(numbered, champion).where(F.col("error").isNull()).drop("error")
    count = int(score["reasons"]["count"])
    rows = numbered.count()  # the applications: counting scored rows would run the model twice
    names = [f"reason_{i + 1}" for i in range(count)]
    sizes = [f"reason_{i + 1}_contribution" for i in range(count)]
    if rows > score["spark"]["reasons_up_to_rows"]:
        logger.warning(
            "%d applications: reasons left blank above score.spark.reasons_up_to_rows (%d)",
            rows, score["spark"]["reasons_up_to_rows"],
        )  # fmt: skip
        blank = scored.select(
            *scored.columns, *[F.lit("").alias(n) for n in names],
            *[F.lit(0.0).alias(s) for s in [*sizes, COVERAGE]],
        )  # fmt: skip
        return _in_pandas_order(blank, names, sizes)
    reasons = reasons_table(numbered, champion, score).select(ROW, *names, *sizes, COVERAGE)
    joined = scored.join(reasons, ROW, "left").fillna("", subset=names)
    return _in_pandas_order(joined.fillna(0.0, subset=[*sizes, COVERAGE]), names, sizes)


def _in_pandas_order(scored: DataFrame, names: list[str], sizes: list[str]) -> DataFrame:
    """The pandas path's column order: row, identifiers, score and decision, reasons and their
    coverage, the rest."""
    reasons = [column for pair in zip(names, sizes, strict=True) for column in pair]
    reasons.append(COVERAGE)
    head = [c for c in scored.columns if c not in reasons and c not in TAIL]
    return scored.select(*head, *reasons, *TAIL)


def reasons_table(
    numbered: DataFrame, champion: ChampionHandle, score: dict[str, Any]
) -> DataFrame:
    """Reasons of the explained rows (rejected, or all with `for_approved`) by the pandas
    explainer, per partition."""
    model, count = champion.model, int(score["reasons"]["count"])
    for_approved = bool(score["reasons"]["for_approved"])

    def reasons_of(part: pd.DataFrame) -> pd.DataFrame:
        valid = _checked(part, model)[0].reset_index(drop=True)
        features = preprocessor_of(model.champion).transform(valid)
        probability = default_probability(model.champion, features)
        explained = np.ones(len(valid), dtype=bool)
        if not for_approved:
            explained = model.assess(valid, probability)["decision"].to_numpy() == "reject"
        table = model.explain(valid, features, explained, count)
        table.insert(0, ROW, valid[ROW].to_numpy())
        return table

    return map_partitions(numbered, reasons_of)
