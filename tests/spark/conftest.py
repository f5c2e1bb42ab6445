"""One small local Spark session for the Spark tests (local[1], a quick-starting JVM)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from loan_default.spark.backend import register_spark_backend
from loan_default.spark.session import start_session

# A client JVM that starts in seconds; the defaults are tuned for long jobs.
TEST_CONF = {
    "spark.master": "local[1]",
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "1",
    "spark.ui.enabled": "false",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "500",
    # Spark's own jars need no bytecode verification in a test JVM: ~1 s of class loading.
    "spark.driver.extraJavaOptions": " ".join(
        [
            "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData",
            "-XX:+UnlockDiagnosticVMOptions -XX:-BytecodeVerificationRemote",
        ]
    ),
    # Compiling code for wide plans costs more than running them on a few hundred rows.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


@pytest.fixture(scope="session")
def spark() -> Iterator:
    # Python workers import the test stand-ins a pickled model refers to (tests.modelling...).
    root = str(Path(__file__).resolve().parents[2])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    session = start_session(TEST_CONF, "loan-default-tests")
    register_spark_backend()  # as the SparkHook does once the session exists
    yield session
    session.stop()
