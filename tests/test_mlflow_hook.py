"""kedro-mlflow's hook as the project registers it: each parameter once per run, under a name
MLflow accepts, and nothing logged before each node."""

from __future__ import annotations

import json
from types import SimpleNamespace

import mlflow
import pytest
from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks_entry_points
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook

from loan_default import settings
from loan_default.hooks import MlflowTrackingHook
from loan_default.mlflow_hook import ProjectMlflowHook, run_parameters


def test_the_plugins_own_hook_is_replaced_by_the_projects():
    manager = _create_hook_manager()
    _register_hooks_entry_points(manager, settings.DISABLE_HOOKS_FOR_PLUGINS)
    plugins = {type(plugin).__module__ for plugin in manager.get_plugins()}
    assert not {m for m in plugins if m.startswith("kedro_mlflow")}, "it would log every node"
    assert sum(isinstance(hook, MlflowTrackingHook) for hook in settings.HOOKS) == 1


def test_nested_blocks_are_flattened_and_pattern_keys_kept_whole():
    leakage = {"total_pymnt*": "payments", "hardship_*": "hardship plan"}
    params = run_parameters(
        {"dataset": {"leakage_columns": leakage, "target": {"column": "loan_status"}}, "seed": 42}
    )
    assert params["dataset.target.column"] == "loan_status"
    assert params["seed"] == "42"
    # `total_pymnt*` is no valid MLflow name: the mapping is one parameter, its keys in the value.
    assert json.loads(params["dataset.leakage_columns"]) == leakage
    assert not any("*" in name for name in params)


def test_a_typed_block_is_logged_as_the_mapping_it_was_written_as():
    class Block:
        def model_dump(self, by_alias: bool) -> dict:
            return {"in": [1, 2]} if by_alias else {"in_": [1, 2]}

    assert run_parameters({"bands": Block()}) == {"bands.in": "[1, 2]"}


def test_without_flattening_a_block_is_one_value():
    assert run_parameters({"cv": {"n_splits": 5}}, flatten=False) == {"cv": '{"n_splits": 5}'}


@pytest.fixture
def hook(store: str):  # the module's SQLite store (tests/conftest.py)
    mlflow.set_tracking_uri(store)
    # An experiment of this store: another module run earlier in this worker may have left its
    # own experiment active in MLflow's process-wide state.
    mlflow.set_experiment("project-mlflow-hook")
    hook = ProjectMlflowHook()
    hook.mlflow_config = SimpleNamespace(
        tracking=SimpleNamespace(run=SimpleNamespace(nested=False))
    )
    hook.long_params_strategy = "tag"
    yield hook
    while mlflow.active_run():
        mlflow.end_run()


def test_parameters_are_logged_once_in_batches_and_long_values_as_tags(hook):
    params = {f"grid.p{index:03d}": str(index) for index in range(250)}
    params["long"] = "x" * 7000
    with mlflow.start_run() as run:
        hook.log_parameters(params)
    logged = mlflow.get_run(run.info.run_id).data
    assert len(logged.params) == 250 and logged.params["grid.p249"] == "249"
    assert logged.tags["long"] == "x" * 7000 and "long" not in logged.params


def test_nodes_log_no_parameters(hook):
    with mlflow.start_run() as run:
        hook.run_id, hook._is_mlflow_enabled = run.info.run_id, True
        hook.before_node_run(
            Node(len, "params:training", "n"), None, {"params:training": {}}, False
        )
    assert mlflow.get_run(run.info.run_id).data.params == {}


def test_a_run_logs_the_parameters_its_pipeline_reads(hook, monkeypatch):
    catalog = DataCatalog(
        {
            "params:split": MemoryDataset({"cutoff": "2011-01-01", "bands": {"low": 0.1}}),
            "params:unused": MemoryDataset({"x": 1}),
            "loans": MemoryDataset([1]),
        }
    )
    pipeline = Pipeline([Node(lambda loans, split: loans, ["loans", "params:split"], "out")])
    hook.flatten, hook.recursive, hook.sep = True, True, "."
    hook._is_mlflow_enabled = True
    # kedro-mlflow's own part (reading mlflow.yml, opening and tagging the run) is not ours.
    monkeypatch.setattr(MlflowHook, "before_pipeline_run", lambda *args: None)
    with mlflow.start_run() as run:
        hook.before_pipeline_run({}, pipeline, catalog)
    params = mlflow.get_run(run.info.run_id).data.params
    assert params == {"split.cutoff": "2011-01-01", "split.bands.low": "0.1"}
