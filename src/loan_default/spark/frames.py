"""Run the project's pandas logic on Spark: per partition, with the output schema taken from a
sample, so each business rule exists once (in pandas) and Spark only distributes it; and wide
aggregations as SQL text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_type
from pyspark.sql.types import StringType, StructField, StructType

SCHEMA_SAMPLE_ROWS = 2000


def spark_schema(frame: pd.DataFrame, fallback: Any = None) -> Any:
    """The Spark schema of a pandas frame, through Arrow. A column with no value in `frame`
    (Arrow's null type) takes its type from `fallback` (a Spark schema) or becomes text."""
    arrow = pa.Schema.from_pandas(frame, preserve_index=False)
    known = {field.name: field.dataType for field in (fallback.fields if fallback else [])}
    fields = []
    for field in arrow:
        if pa.types.is_null(field.type):
            data_type = known.get(field.name, StringType())
        else:
            data_type = from_arrow_type(field.type)
        fields.append(StructField(field.name, data_type, nullable=True))
    return StructType(fields)


def map_partitions(
    frame: Any,
    function: Callable[[pd.DataFrame], pd.DataFrame],
    sample_rows: int = SCHEMA_SAMPLE_ROWS,
) -> Any:
    """`function` applied to every partition of a Spark DataFrame (`mapInPandas`); its output
    schema is that of `function` on the first `sample_rows` rows, read on the driver."""
    sample = function(frame.limit(sample_rows).toPandas())
    schema = spark_schema(sample, fallback=frame.schema)

    def apply(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield function(batch)[schema.fieldNames()]

    return frame.mapInPandas(apply, schema)


def sql_name(name: str) -> str:
    """A column name as a SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def sql_text(value: str) -> str:
    """A text value as a SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def aggregate(frame: Any, expressions: dict[str, str]) -> dict[str, Any]:
    """One pass of SQL aggregates over `frame`, by name. Wide tables need hundreds of them:
    built as SQL text they cost one call to the JVM, not several per column."""
    selected = [f"{sql} AS {sql_name(name)}" for name, sql in expressions.items()]
    return frame.selectExpr(*selected).first().asDict()
