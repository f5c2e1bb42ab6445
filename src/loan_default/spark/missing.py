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
from pyspark.sql import DataFrame, Window
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

from .frames import aggregate, sql_name, sql_text

MEDIAN_ACCURACY = 100_000
_INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
_KINDS = ("native_missing", "empty_strings", "sentinel_codes")
BLANK = sql_text(r"^\s*$")


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


def _masks(column: str, data_type: T.DataType, codes: Sequence[Any] | None) -> dict[str, str]:
    """`preprocessing.columns.missing_masks` as SQL conditions (disjoint, never null: a null
    value is native, and `NOT native AND ...` is false for it)."""
    value = sql_name(column)
    native = f"({value} IS NULL)"
    if isinstance(data_type, T.FloatType | T.DoubleType):
        infinite = "CAST('Infinity' AS DOUBLE), CAST('-Infinity' AS DOUBLE)"
        native = f"({native} OR isnan({value}) OR {value} IN ({infinite}))"
    text = isinstance(data_type, T.StringType)
    empty = f"(NOT {native} AND {value} RLIKE {BLANK})" if text else "false"
    if text:
        literals = [sql_text(str(code)) for code in codes or ()]
    else:
        literals = [
            _number(c)
            for c in codes or ()
            if isinstance(c, int | float) and not isinstance(c, bool)
        ]
    sentinel = (
        f"(NOT {native} AND NOT {empty} AND {value} IN ({', '.join(literals)}))"
        if literals
        else "false"
    )
    kinds = {"native_missing": native, "empty_strings": empty, "sentinel_codes": sentinel}
    return kinds | {"any": f"({native} OR {empty} OR {sentinel})"}


def _number(code: int | float) -> str:
    return str(code) if isinstance(code, int) else f"CAST({sql_text(repr(code))} AS DOUBLE)"


def _counts(
    frame: DataFrame, masks: Mapping[str, Mapping[str, str]], target: str
) -> dict[str, dict[str, int]]:
    """Every column's counts (`preprocessing.missing.MissingCounts`) in one pass."""
    default = f"{sql_name(target)} = 1"

    def total(condition: str) -> str:
        return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    expressions = {"rows": "count(1)", "defaults": total(default)}
    for index, kinds in enumerate(masks.values()):
        expressions |= {f"{index}_{kind}": total(kinds[kind]) for kind in _KINDS}
        expressions[f"{index}_defaults_missing"] = total(f"{kinds['any']} AND {default}")
    result = aggregate(frame, expressions)
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
    frame: DataFrame, masks: Mapping[str, Mapping[str, str]], statistics: Mapping[str, str]
) -> dict[str, Any]:
    """Each column's fill statistic over its present values (`preprocessing.fill_statistic`)."""
    present = {
        column: f"CASE WHEN NOT {masks[column]['any']} THEN {sql_name(column)} END"
        for column in statistics
    }
    numeric = {
        "median": f"percentile_approx({{}}, 0.5, {MEDIAN_ACCURACY})",
        "mean": "avg({})",
        "max": "max({})",
        "min": "min({})",
    }
    aggregations = {
        column: numeric[statistic].format(f"CAST({present[column]} AS DOUBLE)")
        for column, statistic in statistics.items()
        if statistic != "most_frequent"
    }
    fills = {}
    if aggregations:
        fills = {k: float(v) for k, v in aggregate(frame, aggregations).items()}
    categorical = [
        column for column, statistic in statistics.items() if statistic == "most_frequent"
    ]
    if categorical:
        fills |= _most_frequent(frame, {column: present[column] for column in categorical})
    return fills


def _most_frequent(frame: DataFrame, present: Mapping[str, str]) -> dict[str, str]:
    """The most frequent present value of each text column; ties go to the value seen first
    (lowest raw row), as pandas counts in row order."""
    first_seen = sql_name(RAW_ROW) if RAW_ROW in frame.columns else "0"
    pairs = ", ".join(
        f"named_struct('name', {sql_text(column)}, 'value', CAST({value} AS STRING))"
        for column, value in present.items()
    )
    counted = (
        frame.selectExpr(f"explode(array({pairs})) AS pair", f"{first_seen} AS seen")
        .where(F.col("pair.value").isNotNull())
        .groupBy("pair.name", "pair.value")
        .agg(F.count(F.lit(1)).alias("count"), F.min("seen").alias("seen"))
    )
    order = Window.partitionBy("name").orderBy(F.desc("count"), "seen", "value")
    top = counted.withColumn("rank", F.row_number().over(order)).where(F.col("rank") == 1)
    return {row["name"]: row["value"] for row in top.collect()}
