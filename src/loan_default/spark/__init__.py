"""The `spark` environment's parts. This module imports no Spark: the hook checks the extra is
installed before a run; the Spark stages' nodes (`pipelines/<stage>/spark_nodes.py`) load the
modules of this package on their first call."""

from __future__ import annotations

import importlib.util
from typing import Any

import click

# The optional `spark` extra of pyproject.toml: what `--env spark` needs beyond `make install`.
SPARK_MODULES = ("pyspark", "joblibspark")
INSTALL_HINT = (
    "The `spark` environment needs the optional Spark packages (pyspark, joblibspark), which "
    "`make install` / `make run` leave out. Install them with `make install-spark` (or "
    '`.venv/bin/pip install -c requirements.lock -e ".[spark]"`), then run again.'
)


class SparkNotInstalledError(click.ClickException, RuntimeError):
    """The `spark` extra is not installed in this environment. A click error: `kedro run`
    prints it as one plain line ("Error: ...") and exits with status 1, without a traceback."""


def require_pyspark() -> None:
    """Stop with the command that installs the `spark` extra when it is missing. Looks the
    modules up without importing them (pyspark's import alone takes about a second)."""
    missing = [name for name in SPARK_MODULES if _find_spec(name) is None]
    if missing:
        raise SparkNotInstalledError(f"{INSTALL_HINT} Missing: {', '.join(missing)}.")


def _find_spec(name: str) -> Any:
    """importlib's spec of a top-level module; None when it is absent or blocked."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):  # sys.modules[name] = None, or a module without a spec
        return None


def is_spark_frame(frame: Any) -> bool:
    """Whether `frame` is a Spark DataFrame (classic or Spark Connect), without importing Spark
    in environments that do not use it."""
    return type(frame).__module__.startswith("pyspark.sql")
