"""The missing-value statistics of every training loan on Spark, judged by the pandas rules.

One aggregation counts each column's missing kinds (native, empty text, sentinel codes) and the
defaults among the missing rows; a second computes the fill statistics the plan reports. The
decisions (test, action, fill strategy, reason) come from `preprocessing.missing`, so a rule
exists once. Medians are `percentile_approx` (rank error below 1 / MEDIAN_ACCURACY): an exact
median would hold every distinct value of every column in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from loan_default.preprocessing.columns import is_categorical
from loan_default.preprocessing.missing import (
    PLAN_COLUMNS,
    MissingColumn,
    fill_rule,
    judge_missingness,
    resolve_missing_rules,
)
from loan_default.schema import RAW_ROW

MEDIAN_ACCURACY = 100_000
_INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
_FRACTIONAL = (T.FloatType, T.DoubleType, T.DecimalType)
_KINDS = ("native_missing", "empty_strings", "sentinel_codes")


def plan_missing_values(
    frame: DataFrame,
    columns: Sequence[str],
    target: str,
    sentinel_codes: Mapping[str, Sequence[Any]] | None = None,
    informative_missing: Mapping[str, Mapping[str, Any]] | None = None,
    rules: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """`preprocessing.plan_missing_values` of `frame[columns]` against `frame[target]`."""
    rules, sentinel_codes, informative_missing = resolve_missing_rules(
        columns, sentinel_codes, informative_missing, rules
    )
    prototype = frame.select(*columns).limit(0).toPandas()  # the dtypes pandas would see
    types = {field.name: field.dataType for field in frame.schema.fields}
    masks = {
        column: _masks(column, types[column], sentinel_codes.get(column)) for column in columns
    }
    counts = _counts(frame, masks, target)
    rows, statistics = [], {}
    for column in columns:
        dtype = str(prototype[column].dtype)
        if isinstance(types[column], _INTEGRAL) and counts[column]["native_missing"]:
            dtype = "float64"  # as toPandas converts a whole-number column with nulls
        categorical = is_categorical(prototype[column])
        row = judge_missingness(
            counts[column],
            MissingColumn(column, dtype, categorical),
            informative_missing.get(column),
            rules,
        )
        statistic, row["fill_value"] = fill_rule(row["fill_strategy"], categorical, column, rules)
        if statistic is not None:
            statistics[column] = statistic
        rows.append(row)
    fills = _fill_statistics(frame, masks, statistics)
    for row in rows:
        if row["column"] in fills:
            row["fill_value"] = fills[row["column"]]
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _masks(column: str, data_type: T.DataType, codes: Sequence[Any] | None) -> dict[str, Column]:
    """`preprocessing.columns.missing_masks` as Spark conditions (disjoint, never null: a null
    value is native, and `~native & ...` is false for it)."""
    value = F.col(column)
    native = value.isNull()
    if isinstance(data_type, T.FloatType | T.DoubleType):
        native = native | F.isnan(value) | value.isin(float("inf"), float("-inf"))
    text = isinstance(data_type, T.StringType)
    empty = ~native & value.rlike(r"^\s*$") if text else F.lit(False)
    if text:
        codes = [str(code) for code in codes or ()]
    else:
        codes = [c for c in codes or () if isinstance(c, int | float) and not isinstance(c, bool)]
    sentinel = ~native & ~empty & value.isin(codes) if codes else F.lit(False)
    kinds = {"native_missing": native, "empty_strings": empty, "sentinel_codes": sentinel}
    return kinds | {"any": native | empty | sentinel}


def _counts(
    frame: DataFrame, masks: Mapping[str, Mapping[str, Column]], target: str
) -> dict[str, dict[str, int]]:
    """Every column's counts (`preprocessing.missing.MissingCounts`) in one pass."""
    default = F.col(target) == 1

    def total(condition: Column) -> Column:
        return F.sum(F.when(condition, 1).otherwise(0))

    expressions = [F.count(F.lit(1)).alias("rows"), total(default).alias("defaults")]
    for index, kinds in enumerate(masks.values()):
        expressions += [total(kinds[kind]).alias(f"{index}_{kind}") for kind in _KINDS]
        expressions.append(total(kinds["any"] & default).alias(f"{index}_defaults_missing"))
    result = frame.agg(*expressions).first().asDict()
    counts = {}
    for index, column in enumerate(masks):
        kinds = {kind: int(result[f"{index}_{kind}"] or 0) for kind in _KINDS}
        defaults_missing = int(result[f"{index}_defaults_missing"] or 0)
        counts[column] = kinds | {
            "rows": int(result["rows"]),
            "missing_count": sum(kinds.values()),
            "defaults_missing": defaults_missing,
            "defaults_present": int(result["defaults"] or 0) - defaults_missing,
        }
    return counts


def _fill_statistics(
    frame: DataFrame, masks: Mapping[str, Mapping[str, Column]], statistics: Mapping[str, str]
) -> dict[str, Any]:
    """Each column's fill statistic over its present values (`preprocessing.fill_statistic`)."""
    present = {column: F.when(~masks[column]["any"], F.col(column)) for column in statistics}
    numeric = {
        "median": lambda value: F.percentile_approx(value, 0.5, MEDIAN_ACCURACY),
        "mean": F.avg,
        "max": F.max,
        "min": F.min,
    }
    aggregations = [
        numeric[statistic](present[column].cast("double")).alias(column)
        for column, statistic in statistics.items()
        if statistic != "most_frequent"
    ]
    fills = {}
    if aggregations:
        fills = {k: float(v) for k, v in frame.agg(*aggregations).first().asDict().items()}
    categorical = [
        column for column, statistic in statistics.items() if statistic == "most_frequent"
    ]
    if categorical:
        fills |= _most_frequent(frame, {column: present[column] for column in categorical})
    return fills


def _most_frequent(frame: DataFrame, present: Mapping[str, Column]) -> dict[str, str]:
    """The most frequent present value of each text column; ties go to the value seen first
    (lowest raw row), as pandas counts in row order."""
    first_seen = F.col(RAW_ROW) if RAW_ROW in frame.columns else F.lit(0)
    pairs = F.explode(
        F.array(*[
            F.struct(F.lit(column).alias("name"), value.cast("string").alias("value"))
            for column, value in present.items()
        ])
    )  # fmt: skip
    counted = (
        frame.select(pairs.alias("pair"), first_seen.alias("seen"))
        .where(F.col("pair.value").isNotNull())
        .groupBy("pair.name", "pair.value")
        .agg(F.count(F.lit(1)).alias("count"), F.min("seen").alias("seen"))
    )
    order = Window.partitionBy("name").orderBy(F.desc("count"), "seen", "value")
    top = counted.withColumn("rank", F.row_number().over(order)).where(F.col("rank") == 1)
    return {row["name"]: row["value"] for row in top.collect()}
