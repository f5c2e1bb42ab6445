"""kedro-mlflow's hook with the run's parameters logged once, when the run opens.

kedro-mlflow 2.0.3 logs the `params:` inputs of every node before it runs: the `loan` pipeline's
51 parameterised nodes made 10,803 `log_param` calls per run (about 9% of the run's CPU on a
SQLite store) and, since `dataset.leakage_columns` is keyed by column patterns such as
`total_pymnt*`, printed eight "not a valid name for a mlflow parameter" warnings per node.

`ProjectMlflowHook` keeps everything else of kedro-mlflow (configuration, run start and end, tags,
metric datasets, failed runs) and replaces the node-level logging with one batch per run: every
parameter block the pipeline reads, flattened as `mlflow.yml` says (`training.cv.n_splits`). A
mapping whose keys MLflow cannot take as names (`total_pymnt*`) is logged as one parameter,
`dataset.leakage_columns`, whose value lists the keys, so nothing is renamed or lost. Values
longer than MLflow's limit follow `long_params_strategy` (`tag` in conf/base/mlflow.yml).

Imported only when a Kedro session starts (through `loan_default.hooks.MlflowTrackingHook`), so
that importing the settings loads no MLflow.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook
from mlflow.entities import Param
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH, MAX_PARAMS_TAGS_PER_BATCH

logger = logging.getLogger(__name__)

# MLflow's rule for parameter names (mlflow.utils.validation, POSIX).
_VALID_NAME = re.compile(r"^[/\w.\- :]*$")


def run_parameters(
    blocks: dict[str, Any], flatten: bool = True, recursive: bool = True, sep: str = "."
) -> dict[str, str]:
    """Parameter name -> text value for MLflow: nested mappings flattened into dotted names; a
    mapping with a key MLflow refuses as a name is kept whole, as one JSON value."""
    flat: dict[str, str] = {}

    def add(name: str, value: Any, depth: int) -> None:
        value = _plain(value)
        nested = isinstance(value, dict) and value and flatten and (recursive or depth == 0)
        if nested and all(_VALID_NAME.match(f"{name}{sep}{key}") for key in value):
            for key, item in value.items():
                add(f"{name}{sep}{key}", item, depth + 1)
            return
        flat[name] = value if isinstance(value, str) else _text(value)

    for name, value in blocks.items():
        add(name, value, 0)
    return flat


def _plain(value: Any) -> Any:
    """A validated block (pydantic model) as the mapping it was written as."""
    dump = getattr(value, "model_dump", None)
    return dump(by_alias=True) if callable(dump) else value


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _batches(items: list[Any], size: int = MAX_PARAMS_TAGS_PER_BATCH) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ProjectMlflowHook(MlflowHook):
    """kedro-mlflow's MlflowHook, logging each parameter the pipeline reads once per run."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """Open the run as kedro-mlflow does, then log the pipeline's parameters in batches."""
        # The hook outlives a session (settings.HOOKS): forget the previous session's run, or a
        # pipeline with tracking disabled (`monitor`) would re-open it before each node.
        self.run_id = None
        super().before_pipeline_run(run_params, pipeline, catalog)
        if not self._is_mlflow_enabled or mlflow.active_run() is None:
            return
        names = sorted(name for name in pipeline.inputs() if _is_parameter(name))
        blocks = {_parameter_key(name): catalog.load(name) for name in names}
        self.log_parameters(run_parameters(blocks, self.flatten, self.recursive, self.sep))

    def log_parameters(self, params: dict[str, str]) -> None:
        """Log `params` on the active run in batches; over-long values by `long_params_strategy`."""
        long = {name: value for name, value in params.items() if len(value) > MAX_PARAM_VAL_LENGTH}
        if long and self.long_params_strategy == "fail":
            raise ValueError(
                f"Parameters {sorted(long)} are longer than MLflow's {MAX_PARAM_VAL_LENGTH} "
                "characters; set tracking.params.long_params_strategy to 'tag' or 'truncate' "
                "in conf/base/mlflow.yml."
            )
        entries = {name: value for name, value in params.items() if name not in long}
        if self.long_params_strategy == "truncate":
            entries |= {name: value[:MAX_PARAM_VAL_LENGTH] for name, value in long.items()}
        elif long:
            mlflow.set_tags(long)
        run_id = mlflow.active_run().info.run_id
        client = mlflow.MlflowClient()
        for batch in _batches([Param(name, value) for name, value in entries.items()]):
            client.log_batch(run_id, params=batch)
        logger.info(
            "MLflow: %d parameters logged%s",
            len(entries),
            f", {len(long)} longer than {MAX_PARAM_VAL_LENGTH} characters as tags"
            if long and self.long_params_strategy == "tag"
            else "",
        )

    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool
    ) -> None:
        """Only re-enter the pipeline's run in this thread (kedro-mlflow's thread-safety step);
        the parameters were logged when the run opened."""
        if self.run_id is None:
            return
        active = mlflow.active_run()
        if active is None or active.info.run_id != self.run_id:
            mlflow.start_run(run_id=self.run_id, nested=self.mlflow_config.tracking.run.nested)


def _is_parameter(name: str) -> bool:
    return name.startswith("params:") or name == "parameters"


def _parameter_key(name: str) -> str:
    return name.removeprefix("params:")
