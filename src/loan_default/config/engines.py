"""Which engine runs the data stages: pandas, or Spark in an environment with a `spark.yml`.

The pipeline registry builds the Spark versions of the data stages (ingestion, split, data
quality, the raw-row hand-offs of registration, score) when the engine is `spark`. Kedro's
`register_pipelines()` takes no environment, so the choice is made where the environment is
known: `hooks.SparkHook.after_context_created`, which reads the environment's spark.yml (the
same test that starts the Spark session) and calls `select_engine` before any other hook reads
the pipelines. Outside a run (`kedro registry list`, `kedro viz`, tests) the engine is pandas.
"""

from __future__ import annotations

ENGINES = ("pandas", "spark")
_selected = {"engine": "pandas"}


def selected_engine() -> str:
    """The engine the next `register_pipelines()` builds for."""
    return _selected["engine"]


def select_engine(engine: str) -> bool:
    """Build the data stages for `engine` from now on; True when that changes the engine."""
    if engine not in ENGINES:
        raise ValueError(f"engine '{engine}' is not one of {', '.join(ENGINES)}.")
    changed = _selected["engine"] != engine
    _selected["engine"] = engine
    return changed
