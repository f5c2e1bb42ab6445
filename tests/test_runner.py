"""The runners: WorkerRunner (the default of `kedro run`: one node here and one in a worker
process) and the opt-in threaded StageRunner; the longest chain first, and the same results as
Kedro's SequentialRunner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
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

from loan_default import runner as runner_module
from loan_default.config.names import EXCLUSIVE
from loan_default.runner import StageRunner, WorkerRunner, chain_lengths
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


def _run_loan(root: Path, tiny_loans: pd.DataFrame, monkeypatch, runner) -> tuple[Path, str]:
    """The tiny configuration's `loan` with `runner` in its own project and store."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    project = make_kedro_project(root / "project", tiny_loans, TINY_CONF)
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        session.run(pipeline_names=["loan"], runner=runner)
    return project, uri


def _reports(project: Path) -> dict[str, pd.DataFrame]:
    folder = project / "data" / "08_reporting"
    return {path.name: pd.read_csv(path) for path in sorted(folder.glob("*.csv"))}


def _assert_logs_what_the_sequential_run_logs(
    project: Path, uri: str, sequential: tuple[Path, str]
) -> None:
    """Every MLflow metric and report table equals the shared SequentialRunner run's, to 1e-9."""
    ours, reference = _metrics(uri), _metrics(sequential[1])
    assert len(ours) > 50 and ours.keys() == reference.keys()
    assert ours == pytest.approx(reference, rel=1e-9, abs=1e-12, nan_ok=True)
    tables, theirs = _reports(project), _reports(sequential[0])
    # The shared project may also hold tables other pipelines (monitor) wrote after its loan.
    assert tables and set(tables) <= set(theirs)
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, theirs[name], rtol=1e-9, obj=name)


def test_stage_runner_logs_what_the_sequential_runner_logs(
    tiny_project, tiny_loans, tmp_path, monkeypatch
):
    """Every MLflow metric and report table of the tiny `loan` with StageRunner equals the
    shared SequentialRunner run's (to 1e-9: OpenBLAS splits a sum between its threads only when
    no other call runs, so concurrent fits change the last digits, as in two sequential runs)."""
    project, uri = _run_loan(tmp_path, tiny_loans, monkeypatch, StageRunner())
    _assert_logs_what_the_sequential_run_logs(project, uri, tiny_project)


# ---------------------------------------------------------------- WorkerRunner ----------------


def _where(x):
    """The process and thread a node ran in, and its BLAS threads."""
    from threadpoolctl import threadpool_info  # noqa: PLC0415

    blas = max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
    return {
        "pid": os.getpid(),
        "main_thread": threading.current_thread() is threading.main_thread(),
        "blas": blas,
    }


def _slow_where(x):
    time.sleep(0.5)
    return _where(x) | {"span": (time.monotonic() - 0.5, time.monotonic())}


def _stores(x):
    return {
        "pid": os.getpid(),
        "tracking": mlflow.get_tracking_uri(),
        "registry": mlflow.get_registry_uri(),
    }


def _fail_in_worker(x):
    raise ValueError(f"bad input {x}")


@pytest.fixture
def worker_from_the_start(monkeypatch):
    """The runner waits for its worker to be ready before the first node (a real run gives it
    nodes once it is), so that these small pipelines use both processes."""
    ready = runner_module._Worker.ready

    def waiting(self) -> bool:
        deadline = time.monotonic() + 120
        while not ready(self) and time.monotonic() < deadline:
            time.sleep(0.05)
        return ready(self)

    monkeypatch.setattr(runner_module._Worker, "ready", waiting)


def test_nodes_do_not_wait_for_the_worker_to_start():
    pipeline = Pipeline([Node(_where, "a", f"out_{i}", name=f"where_{i}") for i in range(3)])
    outputs = WorkerRunner().run(pipeline, DataCatalog({"a": MemoryDataset(1)}))
    assert {outputs[f"out_{i}"].load()["pid"] for i in range(3)} == {os.getpid()}


def test_worker_runner_runs_two_nodes_at_a_time_in_two_processes(worker_from_the_start):
    """Independent nodes run here and in the worker, each with one BLAS thread."""
    pipeline = Pipeline([Node(_slow_where, "a", f"out_{i}", name=f"where_{i}") for i in range(4)])
    outputs = WorkerRunner().run(pipeline, DataCatalog({"a": MemoryDataset(1)}))
    places = [outputs[f"out_{i}"].load() for i in range(4)]
    pids = {place["pid"] for place in places}
    assert os.getpid() in pids and len(pids) == 2
    assert all(place["blas"] == 1 for place in places)


def test_an_exclusive_node_runs_alone_in_the_main_thread_with_its_blas_threads(
    worker_from_the_start,
):
    from threadpoolctl import threadpool_info  # noqa: PLC0415

    threads = max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
    pipeline = Pipeline(
        [Node(_slow_where, "a", f"out_{i}", name=f"where_{i}") for i in range(3)]
        + [Node(_slow_where, "a", "alone", name="alone", tags={EXCLUSIVE})]
    )
    outputs = WorkerRunner().run(pipeline, DataCatalog({"a": MemoryDataset(1)}))
    alone = outputs["alone"].load()
    assert alone["pid"] == os.getpid() and alone["main_thread"] and alone["blas"] == threads
    for i in range(3):
        start, end = outputs[f"out_{i}"].load()["span"]
        assert end <= alone["span"][0] + 0.05 or start >= alone["span"][1] - 0.05


def test_the_worker_ends_cleanly_when_the_run_does(worker_from_the_start, monkeypatch):
    """The worker leaves at once (no interpreter teardown) but still with exit code 0, so the
    runner never has to terminate it."""
    ended = []
    close = runner_module._Worker.close

    def closing(self):
        close(self)
        ended.append(self._process.exitcode)

    monkeypatch.setattr(runner_module._Worker, "close", closing)
    pipeline = Pipeline([Node(_slow_where, "a", f"out_{i}", name=f"where_{i}") for i in range(2)])
    outputs = WorkerRunner().run(pipeline, DataCatalog({"a": MemoryDataset(1)}))
    assert len({outputs[f"out_{i}"].load()["pid"] for i in range(2)}) == 2
    assert ended == [0]


def test_the_worker_uses_the_runs_mlflow_stores(worker_from_the_start, tmp_path, monkeypatch):
    """A node that registers a model or tags a version in the worker writes to the store the
    run uses (kedro-mlflow sets it from mlflow.yml; MLflow exports it to child processes), not
    to MLflow's default."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{tmp_path / 'configured.db'}"
    mlflow.set_tracking_uri(uri)
    try:
        pipeline = Pipeline(
            [Node(_slow_where, "a", "here", name="a_here")]
            + [Node(_stores, "a", "stores", name="b_stores")]
        )
        outputs = WorkerRunner().run(pipeline, DataCatalog({"a": MemoryDataset(1)}))
    finally:
        mlflow.set_tracking_uri(None)
    stores = outputs["stores"].load()
    assert stores["pid"] != os.getpid()
    assert stores["tracking"] == uri and stores["registry"] == uri


def test_a_node_failing_in_the_worker_stops_the_run_with_its_error(worker_from_the_start):
    pipeline = Pipeline(
        [
            Node(_slow_where, "a", "b", name="a_slow_here"),  # here (first by name)
            Node(_fail_in_worker, "a", "c", name="b_fails"),  # in the worker
        ]
    )
    with pytest.raises(ValueError, match="bad input 1") as raised:
        WorkerRunner().run(pipeline, DataCatalog({"a": MemoryDataset(1)}))
    assert any("worker process" in note for note in getattr(raised.value, "__notes__", []))


def test_without_a_worker_every_node_runs_here(monkeypatch):
    monkeypatch.setenv("LOAN_RUNNER_WORKER", "0")
    pipeline = Pipeline([Node(_where, "a", f"out_{i}", name=f"where_{i}") for i in range(3)])
    outputs = WorkerRunner().run(pipeline, DataCatalog({"a": MemoryDataset(1)}))
    assert {outputs[f"out_{i}"].load()["pid"] for i in range(3)} == {os.getpid()}


def test_a_table_several_nodes_load_is_read_once_and_each_gets_its_own_copy(tmp_path, monkeypatch):
    from kedro_datasets.pandas import ParquetDataset  # noqa: PLC0415

    reads = []

    class CountedParquet(ParquetDataset):
        def load(self):
            reads.append(1)
            return super().load()

    table = CountedParquet(filepath=str(tmp_path / "t.parquet"))
    table.save(pd.DataFrame({"x": [1, 2, 3]}))

    def add_one(frame):
        frame["x"] += 1  # changes its input in place: no other node may see it
        return frame["x"].tolist()

    pipeline = Pipeline([Node(add_one, "t", f"out_{i}", name=f"add_{i}") for i in range(3)])
    monkeypatch.setenv("LOAN_RUNNER_WORKER", "0")  # one process: the cache is this process's
    outputs = WorkerRunner().run(pipeline, DataCatalog({"t": table}))
    assert [outputs[f"out_{i}"].load() for i in range(3)] == [[2, 3, 4]] * 3
    assert len(reads) == 1


def test_worker_runner_logs_what_the_sequential_runner_logs(
    tiny_project, tiny_loans, tmp_path, monkeypatch
):
    """The default runner of `kedro run`: every MLflow metric and report table of the tiny
    `loan` equals the shared SequentialRunner run's (to 1e-9, the sequential runner's own
    spread)."""
    project, uri = _run_loan(tmp_path, tiny_loans, monkeypatch, WorkerRunner())
    _assert_logs_what_the_sequential_run_logs(project, uri, tiny_project)

    # Again, as `kedro run` (its default runner), now against the registered champion: the
    # incumbent's handle goes to whichever process runs the promotion.
    logging_config = tmp_path / "logging.yml"
    logging_config.write_text(
        "version: 1\ndisable_existing_loggers: false\n"
        "formatters: {plain: {format: '%(name)s %(message)s'}}\n"
        "handlers: {out: {class: logging.StreamHandler, formatter: plain, "
        "stream: ext://sys.stdout}}\nroot: {handlers: [out], level: INFO}\n"
    )
    environment = {**os.environ, "KEDRO_LOGGING_CONFIG": str(logging_config)}
    completed = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipeline", "loan"],
        cwd=project, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "loan_default.runner Completed node" in completed.stdout
    assert "kedro.runner.sequential_runner" not in completed.stdout
    decision = json.loads(
        (project / "data" / "08_reporting" / "promotion_decision.json").read_text()
    )
    assert decision["champion"] != "none"


def _pid_and_lock(x):
    return os.getpid(), threading.Lock()  # a lock does not pickle


def test_a_node_whose_inputs_or_outputs_do_not_pickle_runs_here(worker_from_the_start):
    """Unpicklable inputs (a lock) and outputs: the node runs in this process instead."""
    pipeline = Pipeline(
        [
            Node(_slow_where, "a", "b", name="a_slow_here"),
            Node(_pid_and_lock, "a", "lock_out", name="b_lock_out"),
            Node(_slow_where, "a", "c", name="c_slow_here"),
            Node(_where, "lock", "lock_in", name="d_lock_in"),
        ]
    )
    catalog = DataCatalog(
        {
            "a": MemoryDataset(1),
            "lock": MemoryDataset(threading.Lock(), copy_mode="assign"),
            "lock_out": MemoryDataset(copy_mode="assign"),
        }
    )
    outputs = WorkerRunner().run(pipeline, catalog)
    assert outputs["lock_out"].load()[0] == os.getpid()
    assert outputs["lock_in"].load()["pid"] == os.getpid()
