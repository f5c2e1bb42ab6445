"""Kedro's OmegaConfigLoader plus two resolvers that keep every environment's state apart."""

from __future__ import annotations

import os
from typing import Any

from kedro.config import MissingConfigException, OmegaConfigLoader
from omegaconf import OmegaConf

from loan_default.parameters import validate_parameters
from loan_default.validation import ConfigurationError

# Environments whose outputs live directly under data/ (the default run and base itself).
SHARED_ROOT_ENVS = {"base", "local"}


def env_data_root(env: str) -> str:
    """Where an environment's outputs live: data/ for the default run, data/<env>/ otherwise."""
    return "data" if env in SHARED_ROOT_ENVS else f"data/{env}"


def env_suffixed(name: str, env: str) -> str:
    """`name` for the default run, `name-<env>` otherwise (MLflow experiment, registered model)."""
    return name if env in SHARED_ROOT_ENVS else f"{name}-{env}"


def _one_experiment_name(mlflow_conf: dict[str, Any]) -> dict[str, Any]:
    """The MLflow configuration, refused when MLFLOW_EXPERIMENT_NAME names another experiment:
    the experiment's one home is `mlflow_experiment` in the environment's globals.yml."""
    configured = (mlflow_conf.get("tracking") or {}).get("experiment", {}).get("name")
    variable = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if variable and configured and variable != configured:
        raise ConfigurationError(
            f"MLFLOW_EXPERIMENT_NAME={variable!r} names another MLflow experiment than this "
            f"environment's {configured!r}. The experiment has one home, `mlflow_experiment` in "
            "conf/<env>/globals.yml: set it there (or use another --env) and unset the variable."
        )
    return mlflow_conf


class ProjectConfigLoader(OmegaConfigLoader):
    """Resolves `${env_data_root:}` and `${env_suffixed:name}` for the environment being run.

    An environment written by a user (conf/<env>/) therefore gets its own data folder, MLflow
    experiment and registered model without a line of catalog or tracking configuration.
    """

    def __init__(self, conf_source: str, env: str | None = None, **kwargs: Any) -> None:
        self.run_env = env or kwargs.get("default_run_env") or "local"
        self._register_env_resolvers()  # before the parent resolves globals.yml
        super().__init__(conf_source, env=env, **kwargs)

    def _register_env_resolvers(self) -> None:
        OmegaConf.register_new_resolver(
            "env_data_root", lambda: env_data_root(self.run_env), replace=True
        )
        OmegaConf.register_new_resolver(
            "env_suffixed", lambda name: env_suffixed(name, self.run_env), replace=True
        )

    def __getitem__(self, key: str) -> dict[str, Any]:
        """As Kedro's, with this loader's resolvers; parameters are validated against their
        schema (loan_default.parameters, defaults filled in), `--params` merged key by key.

        Kedro 1.7 merges runtime parameters into the environment's own files before replacing
        base's top-level blocks with them, so `--env taiwan --params registry.force=true` would
        replace the whole `registry` block by `{force: true}`.
        """
        # Resolvers are process-global: with two loaders alive (tests, notebooks) the last one
        # created would otherwise resolve `${globals:...}` and the env resolvers for both.
        self._register_env_resolvers()
        self._register_globals_resolver()
        if key == "mlflow":
            return _one_experiment_name(super().__getitem__(key))
        if key != "parameters" or key in self:
            return super().__getitem__(key)
        if not self.runtime_params:
            return self._validated(super().__getitem__(key))
        runtime = self.runtime_params
        # Keep `${runtime_params:...}` interpolations working while the merge is held back.
        self._runtime_params_oc = OmegaConf.create(runtime)
        self.runtime_params = {}
        try:
            parameters = super().__getitem__(key)
        finally:
            self.runtime_params = runtime
        merged = OmegaConf.to_container(OmegaConf.merge(parameters, runtime), resolve=True)
        return self._validated(merged)

    def _validated(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Schema-validated parameters; error messages name the raw file the run reads."""
        dataset = parameters.get("dataset")
        source = self._raw_loans_path()
        if isinstance(dataset, dict) and source:
            dataset.setdefault("source_file", source)
        return validate_parameters(parameters)

    def _raw_loans_path(self) -> str | None:
        """The file the `raw_loans` catalog entry reads, `--params` included (the spark
        environment's raw_loans_path), else the environment's raw_loans_file."""
        try:
            entry = self["catalog"].get("raw_loans") or {}
        except (KeyError, MissingConfigException):
            entry = {}
        return entry.get("filepath") or self._globals.get("raw_loans_file")
