"""The `spark` environment's parts. This module imports no Spark: nodes ask `is_spark_frame`
and load the Spark implementation only when their input is a Spark DataFrame."""

from __future__ import annotations

from typing import Any


def is_spark_frame(frame: Any) -> bool:
    """Whether `frame` is a Spark DataFrame (classic or Spark Connect), without importing Spark
    in environments that do not use it."""
    return type(frame).__module__.startswith("pyspark.sql")
