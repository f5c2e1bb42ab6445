"""Project settings: configuration loader and hooks."""

from omegaconf.resolvers import oc

from loan_default.hooks import CloseMlflowRunHook, RunMetadataHook

HOOKS = (RunMetadataHook(), CloseMlflowRunHook())

# `oc.env` lets conf/base/mlflow.yml default to the embedded SQLite store while a team
# overrides it with MLFLOW_TRACKING_URI.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"oc.env": oc.env},
}
