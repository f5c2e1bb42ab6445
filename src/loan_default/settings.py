"""Project settings: configuration loader and hooks."""

import os

from omegaconf.resolvers import oc

from loan_default.config_loader import ProjectConfigLoader
from loan_default.hooks import (
    InputFileHook,
    MlflowTrackingHook,
    RunGuardHook,
    RunMetadataHook,
    RunSummaryHook,
    SparkHook,
)

_GUARD = RunGuardHook()
# kedro-mlflow's hook comes from the project, logging the run's parameters once instead of before
# every node; registered last, it is called first among the plain hooks, as the plugin's was.
HOOKS = (
    _GUARD,
    RunMetadataHook(_GUARD),
    InputFileHook(),
    SparkHook(),
    RunSummaryHook(),
    MlflowTrackingHook(),
)
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)


def local_mlflow_artifacts(folder: str) -> str | None:
    """`folder` when runs are tracked in a local SQLite store; None (server default) otherwise."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "sqlite:")
    return folder if uri.startswith("sqlite:") else None


# `oc.env` lets conf/base/mlflow.yml default to the embedded SQLite store while a team
# overrides it with MLFLOW_TRACKING_URI.
CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"oc.env": oc.env, "local_mlflow_artifacts": local_mlflow_artifacts},
    # conf/spark/spark.yml: the Spark session's settings (SparkHook).
    "config_patterns": {"spark": ["spark*", "spark*/**"]},
}
