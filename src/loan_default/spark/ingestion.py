"""Ingestion and the out-of-time split on Spark DataFrames, with the pandas rules.

Row-by-row rules (parsing, labels, derived features) run per partition (`map_partitions`) with
the ingestion nodes' own pandas functions; what needs the whole table (which parser a text
column gets, empty columns, duplicates, both classes present, the column profiles behind the
dropped-columns report, the split's cut-off) is measured with Spark aggregations and judged
by the same pandas rules.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from loan_default.config_checks import check_dataset_config
from loan_default.core import ingestion as rules
from loan_default.core.profiles import ColumnProfile
from loan_default.core.split import resolve_split_method
from loan_default.raw_file import report_empty_columns
from loan_default.schema import RAW_ROW, required_raw_columns, target_column
from loan_default.validation import (
    ConfigurationError,
    DataValidationError,
    describe_examples,
    require_both_classes,
)

from .frames import aggregate, map_partitions, sql_name, sql_text
from .sampling import collect_sampled_rows, proportional_fractions

logger = logging.getLogger(__name__)

# Rows read on the driver to choose parsers for unlisted text columns.
TYPE_SAMPLE_ROWS = 20_000
# pandas.read_csv's default missing-value markers: Spark's CSV reader knows only "", so text
# columns are cleaned to read as the pandas path reads the same file.
PANDAS_MISSING_MARKERS = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
_NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType)
_DATES = (T.DateType, T.TimestampType, T.TimestampNTZType)


def with_row_numbers(frame: DataFrame, column: str) -> DataFrame:
    """`column` = 0, 1, 2, ... in the frame's order (partition by partition), without moving
    every row to one partition as a window over the whole table would."""
    tagged = frame.withColumn("_partition", F.spark_partition_id()).withColumn(
        "_position", F.monotonically_increasing_id()
    )
    counts = tagged.groupBy("_partition").count().orderBy("_partition").collect()
    offsets, total = {}, 0
    for row in counts:
        offsets[row["_partition"]], total = total, total + row["count"]
    offset = F.create_map(*[F.lit(x) for pair in offsets.items() for x in pair])
    # monotonically_increasing_id puts the partition in the upper 31 bits.
    in_partition = F.col("_position") - F.shiftleft(F.col("_partition").cast("long"), 33)
    numbered = tagged.withColumn(column, (offset[F.col("_partition")] + in_partition).cast("long"))
    return numbered.select(column, *frame.columns)


def collect_raw_rows(raw: DataFrame, rows: Any = None, limit: int | None = None) -> pd.DataFrame:
    """Raw rows as pandas: those ingestion numbered `rows` (in that order), or the first
    `limit`. Numbering the same files again gives the same numbers (same order of parts)."""
    raw = as_pandas_reads(raw)
    if rows is None:
        return (raw.limit(limit) if limit else raw).toPandas()
    wanted = raw.sparkSession.createDataFrame(
        pd.DataFrame({RAW_ROW: pd.Series(rows, dtype="int64"), "_order": range(len(rows))})
    )
    found = with_row_numbers(raw, RAW_ROW).join(F.broadcast(wanted), RAW_ROW).toPandas()
    return found.sort_values("_order").drop(columns=[RAW_ROW, "_order"]).reset_index(drop=True)


def as_pandas_reads(raw: DataFrame) -> DataFrame:
    """Text values that pandas reads as missing (e.g. "n/a") become null."""
    text = {field.name for field in raw.schema.fields if isinstance(field.dataType, T.StringType)}
    markers = ", ".join(sql_text(marker) for marker in PANDAS_MISSING_MARKERS)
    return raw.selectExpr(
        *[
            f"CASE WHEN {sql_name(c)} IN ({markers}) THEN NULL ELSE {sql_name(c)} END AS {sql_name(c)}"
            if c in text
            else sql_name(c)
            for c in raw.columns
        ]
    )


def _probe(raw: DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """The header with every distinct target label: what the configuration checks read."""
    target = dataset["target"]["column"]
    labels = raw.select(target).distinct().toPandas()
    return labels.reindex(columns=raw.columns)


def parse_raw_loans(raw: DataFrame, dataset: dict[str, Any]) -> tuple[DataFrame, dict[str, str]]:
    """`nodes.parse_raw_loans` on Spark: checks on the whole table, parsing per partition."""
    source = dataset["source_file"]
    target = dataset["target"]["column"]
    if target not in raw.columns:
        raise DataValidationError(
            f"{source}: target column '{target}' is missing "
            f"(columns present: {describe_examples(raw.columns)})."
        )
    raw = as_pandas_reads(raw).localCheckpoint()
    present = aggregate(
        raw, {RAW_ROW: "count(1)"} | {c: f"count({sql_name(c)})" for c in raw.columns}
    )
    n_rows = present[RAW_ROW]
    if n_rows == 0:
        raise DataValidationError(f"{source}: the file has no rows (only a header or nothing).")
    types = rules.resolve_column_types(raw.limit(TYPE_SAMPLE_ROWS).toPandas(), dataset)
    check_dataset_config(_probe(raw, dataset), dataset, source)
    report_empty_columns([c for c in raw.columns if present[c] == 0], n_rows, dataset, source)
    parse = partial(
        rules.parse_columns,
        dataset=dataset, required=required_raw_columns(dataset), source=source, types=types,
    )  # fmt: skip
    # Materialised once: every later step and check reads the parsed rows, not the file.
    return map_partitions(with_row_numbers(raw, RAW_ROW), parse).localCheckpoint(), types


def handle_duplicates(parsed: DataFrame, dataset: dict[str, Any]) -> tuple[DataFrame, dict]:
    """`nodes.handle_duplicates` on Spark: exact copies and repeated identifiers judged by
    `rules.judge_duplicates`, the first copy (lowest raw row) kept when they are dropped."""
    source, action = dataset["source_file"], dataset["duplicates"]["action"]
    content = [c for c in parsed.columns if c != RAW_ROW]
    first = Window.partitionBy(*content).orderBy(RAW_ROW)
    marked = parsed.withColumn("_exact", F.row_number().over(first) > 1)
    repeated_flags = []
    for column in dataset["identifier_columns"]:
        if column in parsed.columns:
            earliest = Window.partitionBy(column).orderBy(RAW_ROW)
            flag = f"_repeats_{column}"
            marked = marked.withColumn(
                flag,
                F.col(column).isNotNull() & (F.row_number().over(earliest) > 1) & ~F.col("_exact"),
            )
            repeated_flags.append((column, flag))
    counts = marked.select(
        F.count(F.lit(1)).alias("_rows"),
        F.sum(F.col("_exact").cast("int")).alias("_exact"),
        *[F.sum(F.col(flag).cast("int")).alias(flag) for _, flag in repeated_flags],
    ).first()
    summary = rules.duplicate_summary(
        action,
        int(counts["_rows"]),
        int(counts["_exact"] or 0),
        {c: int(counts[f] or 0) for c, f in repeated_flags},
    )
    dropped = F.col("_exact")
    for _, flag in repeated_flags:
        dropped = dropped | F.col(flag)
    n_dropped = summary["exact_duplicate_rows"] + sum(summary["repeated_identifier_rows"].values())
    if n_dropped == 0:
        return parsed, summary
    exact = summary["exact_duplicate_rows"]
    details = [f"{exact:,} exact duplicate row(s)"] if exact else []
    for column, flag in repeated_flags:
        if summary["repeated_identifier_rows"][column]:
            examples = [row[column] for row in marked.where(flag).select(column).limit(5).collect()]
            details.append(
                f"{summary['repeated_identifier_rows'][column]:,} more row(s) repeating a "
                f"'{column}' value {describe_examples(examples)}"
            )
    message = rules.judge_duplicates(source, details, summary, dataset["duplicates"])
    summary["dropped_rows"] = n_dropped
    logger.warning("%s Dropped %d row(s), kept the first copy.", message, n_dropped)
    return marked.where(~dropped).select(*parsed.columns).localCheckpoint(), summary


def derive_target(parsed: DataFrame, dataset: dict[str, Any]) -> DataFrame:
    """`nodes.derive_target` on Spark: labels per partition, both classes checked overall."""
    labelled = map_partitions(parsed, partial(rules.label_loans, dataset=dataset)).localCheckpoint()
    target = dataset["target"]
    classes = {row[0] for row in labelled.select(target["output_column"]).distinct().collect()}
    require_both_classes(
        pd.Series(sorted(classes)), f"{dataset['source_file']}: target '{target['column']}'"
    )
    return labelled


def add_derived_features(labelled: DataFrame, dataset: dict[str, Any]) -> DataFrame:
    """`rules.derive_features` per partition."""
    derived = map_partitions(labelled, partial(rules.derive_features, dataset=dataset))
    return derived.localCheckpoint()


def select_application_columns(
    loans: DataFrame, dataset: dict[str, Any]
) -> tuple[DataFrame, pd.DataFrame]:
    """`nodes.select_application_columns`: the same rules on profiles measured by Spark."""
    profiles = column_profiles(loans)
    reasons = rules.drop_reasons(list(loans.columns), profiles.__getitem__, dataset)
    kept = [c for c in loans.columns if c not in reasons]
    return loans.select(*kept), rules.dropped_table(reasons)


def column_profiles(frame: DataFrame) -> dict[str, ColumnProfile]:
    """Every column's profile: counts, minimum and maximum (one value when they are equal) in
    one pass; distinct values counted only for columns that might hold one per
    row (every row filled, not constant)."""
    kinds = {field.name: field.dataType for field in frame.schema.fields}
    numeric = {c for c, kind in kinds.items() if isinstance(kind, _NUMERIC)}
    aggregates = {"_rows": "count(1)"}
    for column in frame.columns:
        value = sql_name(column)
        aggregates |= {
            f"{column}__present": f"count({value})",
            f"{column}__min": f"min({value})",
            f"{column}__max": f"max({value})",
        }
        if column in numeric:
            aggregates[f"{column}__fractional"] = f"sum(CAST({value} % 1 != 0 AS INT))"
    stats = aggregate(frame, aggregates)
    rows = stats["_rows"]
    candidates = [
        c
        for c in frame.columns
        if stats[f"{c}__present"] == rows and stats[f"{c}__min"] != stats[f"{c}__max"]
    ]
    unique = _unique_per_row(frame, candidates, rows)
    return {
        column: _profile(column, stats, column in numeric, column in unique, kinds)
        for column in frame.columns
    }


def _unique_per_row(frame: DataFrame, columns: list[str], rows: int) -> set[str]:
    """The columns holding a different value in every row. Exact distinct counts of many
    columns at once multiply the rows shuffled by the columns counted, so a HyperLogLog
    estimate (one pass, no shuffle) first rules out the columns far from one value per row."""
    if not columns:
        return set()
    estimates = aggregate(frame, {c: f"approx_count_distinct({sql_name(c)})" for c in columns})
    # The estimate's relative error is about 5%: half the rows is far outside it.
    near = [c for c, count in estimates.items() if count >= rows / 2]
    if not near:
        return set()
    distinct = aggregate(frame, {c: f"count(DISTINCT {sql_name(c)})" for c in near})
    return {c for c, count in distinct.items() if count == rows}


def _profile(column: str, stats: dict, numeric: bool, unique: bool, kinds: dict) -> ColumnProfile:
    low, high = stats[f"{column}__min"], stats[f"{column}__max"]
    present = stats[f"{column}__present"]
    return ColumnProfile(
        present=present,
        constant=present > 0 and low == high,
        unique_per_row=unique,
        example=low,  # the value itself when the column is constant
        is_date=isinstance(kinds[column], _DATES),
        is_numeric=numeric,
        whole_numbers=numeric and not stats.get(f"{column}__fractional"),
        span=float(high - low + 1) if numeric and low is not None else None,
    )


def split_populations(
    loans: DataFrame, dataset: dict[str, Any], split: dict[str, Any]
) -> tuple[DataFrame, DataFrame]:
    """`split.nodes.split_loans` on Spark, before any sampling: every training loan and every
    test loan (out-of-time, or stratified random as configured)."""
    method = resolve_split_method(dataset, split)
    if method == "out_of_time":
        date = F.col(dataset["date_column"])
        undated = loans.where(date.isNull()).count()
        if undated:
            raise ConfigurationError(
                f"split: {undated:,} loans have no '{dataset['date_column']}' date, so they "
                "cannot be placed before or after the cut-off."
            )
        cutoff = _spark_cutoff(loans, dataset, split)
        is_test = date >= F.lit(cutoff)
    else:
        # Per-class uniform draws: a stratified random split, reproducible from the seed.
        draw = F.rand(split["random_state"])
        is_test = draw < F.lit(split["test_size"])
    return loans.where(~is_test), loans.where(is_test)


def sample_modelling_table(
    training_population: DataFrame,
    test_population: DataFrame,
    dataset: dict[str, Any],
    split: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hand-off to pandas: training loans up to `split.row_budget` (above it a stratified,
    weighted sample) and test loans up to `split.test_row_budget` (above it the same fraction
    of each class), in raw-row order."""
    method = resolve_split_method(dataset, split)
    target = target_column(dataset)
    train_rows, _ = collect_sampled_rows(
        training_population, target, split["row_budget"], split["random_state"],
        label="training loans",
    )  # fmt: skip
    test_rows, _ = collect_sampled_rows(
        test_population, target, split["test_row_budget"], split["random_state"],
        proportional_fractions, label="test loans",
    )  # fmt: skip
    ordered = [frame.sort_values(RAW_ROW, kind="stable") for frame in (train_rows, test_rows)]
    train, test = (frame.reset_index(drop=True) for frame in ordered)
    for name, part in (("training", train), ("test", test)):
        require_both_classes(part[target], f"split ({method}): {name} set")
    logger.info("Split %s: %d training loans, %d test loans", method, len(train), len(test))
    return train, test


def _spark_cutoff(loans: DataFrame, dataset: dict[str, Any], split: dict[str, Any]) -> Any:
    """As the pandas rule: the configured date, or the date at the (1 - test_size) rank."""
    if dataset["split_cutoff"] is not None:
        return pd.Timestamp(dataset["split_cutoff"]).to_pydatetime()
    rank = int(loans.count() * (1 - split["test_size"]))
    date = dataset["date_column"]
    return loans.select(date).orderBy(date).offset(rank).first()[date]
