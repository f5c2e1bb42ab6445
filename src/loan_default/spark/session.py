"""The Spark session of the `spark` environment, from conf/<env>/spark.yml.

Local by default (`spark.master: local[*]`); `spark.master` in spark.yml or the SPARK_REMOTE
variable (Spark Connect) points it at a cluster. pyspark needs a Java runtime: without one it
fails with "Java gateway process exited", so the runtime is looked for first and named.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

# Arrow moves pandas frames to and from Spark. Without it pandas 3 text columns turn missing
# values into the text 'nan', so the slow path must never be taken silently.
REQUIRED_CONF = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}
# Settings of a local driver that a Spark Connect session (SPARK_REMOTE) does not take.
LOCAL_ONLY = {"spark.master", "spark.driver.host", "spark.driver.bindAddress"}
JAVA_HINT = (
    "Spark needs a Java runtime (17 or 21) and none was found: install one (Debian/Ubuntu: "
    "`apt-get install -y openjdk-17-jre-headless`, macOS: `brew install openjdk@17`) or set "
    "JAVA_HOME, then run again. Only the `spark` environment needs it."
)


class SparkUnavailableError(RuntimeError):
    """Spark cannot start here (no Java runtime, or pyspark not installed)."""


def java_executable() -> str | None:
    """The java Spark will start: $JAVA_HOME/bin/java when JAVA_HOME is set, else java on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def start_session(conf: dict[str, Any], app_name: str) -> Any:
    """A SparkSession with `conf` (spark.yml) and the Arrow settings the project relies on."""
    remote = os.environ.get("SPARK_REMOTE")
    if not remote and java_executable() is None:
        raise SparkUnavailableError(JAVA_HINT)
    # Workers must run the interpreter that has this project's packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    bind = conf.get("spark.driver.bindAddress")
    if bind and not remote:
        # The UI has no address setting: it listens on SPARK_LOCAL_IP, else on every address.
        os.environ.setdefault("SPARK_LOCAL_IP", str(bind))
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    builder = SparkSession.builder.appName(app_name)
    builder = builder.remote(remote) if remote else builder
    for key, value in {**conf, **REQUIRED_CONF}.items():
        if not (remote and key in LOCAL_ONLY):
            builder = builder.config(key, str(value))
    try:
        session = builder.getOrCreate()
    except RuntimeError as error:
        if "JAVA_GATEWAY_EXITED" in str(error):
            raise SparkUnavailableError(f"{JAVA_HINT} ({error})") from error
        raise
    if not remote:
        session.sparkContext.setLogLevel("WARN")
        logger.info(
            "Spark %s on %s; UI at %s",
            session.version,
            session.sparkContext.master,
            session.sparkContext.uiWebUrl or "(disabled)",
        )
    return session
