"""The opt-in threaded runner (loan_default.runner.StageRunner): the longest chain first, and
the same results as Kedro's SequentialRunner."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from loan_default.runner import StageRunner, chain_lengths
from tests.conftest import TINY_CONF, make_kedro_project


def _identity(x):
    return x


def _pipeline() -> Pipeline:
    """a -> b -> c -> d (a long chain) and a -> short (one step)."""
    return Pipeline(
        [
            Node(_identity, "a", "b", name="to_b"),
            Node(_identity, "b", "c", name="to_c"),
            Node(_identity, "c", "d", name="to_d"),
            Node(_identity, "a", "short", name="to_short"),
        ]
    )


def test_chain_lengths_count_the_longest_path_to_the_end():
    lengths = {node.name: length for node, length in chain_lengths(_pipeline()).items()}
    assert lengths == {"to_b": 3, "to_c": 2, "to_d": 1, "to_short": 1}


def test_one_worker_runs_the_longest_chain_first():
    order: list[str] = []

    class Recorder:
        @hook_impl
        def before_node_run(self, node) -> None:
            order.append(node.name)

    hooks = _create_hook_manager()
    hooks.register(Recorder())
    catalog = DataCatalog({"a": MemoryDataset(1)})
    outputs = StageRunner(max_workers=1).run(_pipeline(), catalog, hooks)
    assert order == ["to_b", "to_c", "to_d", "to_short"]
    assert outputs["d"].load() == 1 and outputs["short"].load() == 1


def test_a_failing_node_stops_the_run():
    def fail(x):
        raise RuntimeError("boom")

    pipeline = Pipeline([Node(fail, "a", "b", name="fails"), Node(_identity, "b", "c")])
    with pytest.raises(RuntimeError, match="boom"):
        StageRunner().run(pipeline, DataCatalog({"a": MemoryDataset(1)}))


def _metrics(uri: str) -> dict[str, float]:
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("loan-default")
    runs = client.search_runs([experiment.experiment_id])
    return {
        f"{run.info.run_name}/{key}": value
        for run in runs
        if run.data.tags.get("kedro.pipeline", "loan") == "loan"
        for key, value in run.data.metrics.items()
    }


def _run_loan(root: Path, tiny_loans: pd.DataFrame, monkeypatch) -> tuple[Path, str]:
    """The tiny configuration's `loan` with StageRunner in its own project and store."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    project = make_kedro_project(root / "project", tiny_loans, TINY_CONF)
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        session.run(pipeline_names=["loan"], runner=StageRunner())
    return project, uri


def _reports(project: Path) -> dict[str, pd.DataFrame]:
    folder = project / "data" / "08_reporting"
    return {path.name: pd.read_csv(path) for path in sorted(folder.glob("*.csv"))}


def test_stage_runner_logs_what_the_sequential_runner_logs(
    tiny_project, tiny_loans, tmp_path, monkeypatch
):
    """Every MLflow metric and report table of the tiny `loan` with StageRunner equals the
    shared SequentialRunner run's (to 1e-9: OpenBLAS splits a sum between its threads only when
    no other call runs, so concurrent fits change the last digits, as in two sequential runs)."""
    sequential, sequential_uri = tiny_project
    project, uri = _run_loan(tmp_path, tiny_loans, monkeypatch)
    threaded, reference = _metrics(uri), _metrics(sequential_uri)
    assert len(threaded) > 50 and threaded.keys() == reference.keys()
    assert threaded == pytest.approx(reference, rel=1e-9, abs=1e-12, nan_ok=True)
    ours, theirs = _reports(project), _reports(sequential)
    # The shared project may also hold tables other pipelines (monitor) wrote after its loan.
    assert ours and set(ours) <= set(theirs)
    for name, table in ours.items():
        pd.testing.assert_frame_equal(table, theirs[name], rtol=1e-9, obj=name)
