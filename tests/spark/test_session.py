"""The Spark session: the project's Arrow settings, and a clear error without Java."""

from __future__ import annotations

import pytest

from loan_default.spark.session import SparkUnavailableError, java_executable, start_session


def test_the_session_moves_pandas_frames_through_arrow_only(spark):
    conf = spark.conf
    assert conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert conf.get("spark.sql.execution.arrow.pyspark.fallback.enabled") == "false"


def test_without_java_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java-here"))
    assert java_executable() is None
    with pytest.raises(SparkUnavailableError, match="openjdk-17") as error:
        start_session({"spark.master": "local[1]"}, "no-java")
    assert "JAVA_HOME" in str(error.value)
