"""Runners that overlap independent stages (the baselines beside the training, the fairness
refits beside the ablation).

`WorkerRunner`, the default of `kedro run` (loan_default.cli), runs one node at a time in this
process and one in a worker process, so two nodes that hold the GIL (pandas, optbinning, the
text hashing) still run on two cores; see its docstring and docs/speed.md.

`StageRunner`, opt-in, is Kedro's ThreadRunner with a few workers. On a shared, busy 2-core
machine it was no faster than Kedro's SequentialRunner: most nodes outside the grid's fits hold
the GIL, so two of them in threads wait on each other.

Both are safe here because every node is a pure function of its inputs (seeds come from
parameters, figures are matplotlib `Figure` objects without pyplot's global state) and
kedro-mlflow re-enters the pipeline's MLflow run in each worker thread before a node runs
(`ProjectMlflowHook`), so each dataset logs to the same run.

Of the nodes ready to run, the one with the longest chain of nodes after it goes first (the
training chain: preprocessing, the grid's cross-validation, calibration, the champion, ...),
and no more than `max_workers` run at once: Kedro's ThreadRunner queues every ready node in no
particular order, and a report node could hold a worker while the cross-validation waited.

StageRunner's results are those of a sequential run, not to the last bit: OpenBLAS splits a
call between its threads only when no other call is running, so the order of some
floating-point sums (logistic regression and network probabilities) depends on what else runs
at that moment; that is already so in a sequential run, where the grid's fits run two at a time
(two sequential runs differ the same way, by at most 1e-10 relative). WorkerRunner gives every
node but the preprocessor's fit one BLAS thread, which makes its runs bit-identical (one BLAS
thread for the whole run moves the fairness proxy check, proxy_strength.csv, by about 2e-3).

    kedro run --pipelines loan --runner loan_default.runner.StageRunner
    kedro run --pipelines loan --runner SequentialRunner   # one node at a time, no worker
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
import typing
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Any

from kedro.runner import ThreadRunner
from kedro.runner.task import Task

from loan_default.config.names import EXCLUSIVE

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager

# Two cores are the common case (CI, laptops' containers); the grid's fits already run
# `training.n_jobs` at a time inside their node, so more node workers mostly add contention.
DEFAULT_WORKERS = 2


def chain_lengths(pipeline: Pipeline) -> dict[Node, int]:
    """Per node, the number of nodes on the longest path from it to the end of the pipeline."""
    children: dict[Node, set[Node]] = {node: set() for node in pipeline.nodes}
    for node, parents in pipeline.node_dependencies.items():
        for parent in parents:
            children[parent].add(node)

    @functools.cache
    def length(node: Node) -> int:
        return 1 + max((length(child) for child in children[node]), default=0)

    return {node: length(node) for node in pipeline.nodes}


@dataclass
class _Run:
    """One run's state, as Kedro's scheduling loop keeps it: the pipeline, the catalog, the
    hooks, how many nodes still load each dataset, and the nodes done."""

    pipeline: Pipeline
    catalog: CatalogProtocol
    hook_manager: PluginManager | None
    run_id: str | None
    done: set[Node] = field(default_factory=set)

    def __post_init__(self) -> None:
        nodes = self.pipeline.nodes
        self.load_counts = Counter(chain.from_iterable(node.inputs for node in nodes))
        self._dependencies = self.pipeline.node_dependencies
        self._priority = chain_lengths(self.pipeline)

    def ready(self, todo: set[Node]) -> list[Node]:
        """The nodes of `todo` whose inputs are all there, the longest chain after them first."""
        return sorted(
            (node for node in todo if self._dependencies[node] <= self.done),
            key=lambda node: (-self._priority[node], node.name),
        )


class StageRunner(ThreadRunner):
    """ThreadRunner with `LOAN_RUNNER_WORKERS` (default 2) node workers, the longest remaining
    chain first."""

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        workers = max_workers or int(os.environ.get("LOAN_RUNNER_WORKERS", DEFAULT_WORKERS))
        super().__init__(max_workers=workers, is_async=is_async)

    def _run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        """Kedro's scheduling loop (AbstractRunner._run), the ready node with the longest chain
        after it first."""
        self._validate_catalog(catalog)
        self._validate_nodes(pipeline.nodes)
        self._set_manager_datasets(catalog)
        self._schedule(_Run(pipeline, catalog, hook_manager, run_id))

    def _schedule(self, run: _Run) -> None:
        """Submit the ready node with the longest chain after it whenever a thread is free."""
        todo, running = set(run.pipeline.nodes), set()
        workers = self._get_required_workers_count(run.pipeline)
        with self._get_executor(workers) as executor:
            while todo or running:
                ready = run.ready(todo)
                for node in ready[: workers - len(running)]:
                    todo.discard(node)
                    task = Task(
                        node=node, catalog=run.catalog, hook_manager=run.hook_manager,
                        is_async=self._is_async, run_id=run.run_id,
                    )  # fmt: skip
                    running.add(executor.submit(task))
                if not running:
                    self._raise_runtime_error(todo, run.done, set(ready), None)
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    self._complete(future, run)

    def _complete(self, future: Future, run: _Run) -> None:
        """Record a finished node (or raise its error, with Kedro's resume hint) and release the
        datasets no other node still needs."""
        try:
            node = future.result()
        except Exception:
            self._suggest_resume_scenario(run.pipeline, run.done, run.catalog)
            raise
        run.done.add(node)
        self._logger.info("Completed node: %s", node.name)
        self._logger.info("Completed %d out of %d tasks", len(run.done), len(run.pipeline.nodes))
        self._release_datasets(node, run.catalog, run.load_counts, run.pipeline)


logger = logging.getLogger(__name__)

# A node tagged EXCLUSIVE runs alone, in this process, with the BLAS and OpenMP threads the
# process started with: its results carry multithreaded BLAS's own rounding (the text models
# fitted on all training loans, whose scores the fairness proxy check reads through a linear
# discriminant that magnifies the last digits), and its BLAS threads need both cores to be fast.
# The worker process's thread settings (set before it imports numpy).
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class _ThreadPools:
    """This process's BLAS and OpenMP thread pools: one thread each, or the counts they had.

    OpenBLAS takes a new count from the main thread only (it ignores one set from another
    thread); OpenMP's count is per thread."""

    def __init__(self) -> None:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - a run-time need

        self._pools = [(pool, pool.num_threads) for pool in ThreadpoolController().lib_controllers]

    def single(self) -> None:
        """One thread per pool: a single-threaded sum is the same whatever else runs."""
        for pool, _ in self._pools:
            pool.set_num_threads(1)

    def restore(self) -> None:
        """The thread counts the pools had."""
        for pool, threads in self._pools:
            pool.set_num_threads(threads)


def _serve(connection: Any, package: str | None, logging_config: dict | None) -> None:
    """The worker process: run each node sent, send back its outputs or its error."""
    # Ctrl-C reaches the whole process group: the main process stops the run and this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from kedro.framework.project import configure_logging, configure_project  # noqa: PLC0415

    if package:
        configure_project(package)
    if logging_config:
        configure_logging(logging_config)
    while True:
        try:
            message = connection.recv()
        except EOFError:  # the main process is gone
            message = None
        if message is None:
            _exit_now()
        kind, payload = message
        if kind == "warm":  # import what the nodes' annotations name (the model libraries)
            for node in payload:
                try:
                    typing.get_type_hints(node.func)
                except Exception:  # noqa: BLE001, S112 - warming only; the node says it later
                    continue
            connection.send(("ready", None))
            continue
        node, inputs = payload
        try:
            reply: tuple = ("done", node.run(inputs))
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the runner
            reply = ("failed", error, traceback.format_exc())
        try:
            connection.send(reply)
        except Exception as error:  # noqa: BLE001 - outputs or an error that do not pickle
            unsent = "outputs" if reply[0] == "done" else "error"
            connection.send((f"unpicklable {unsent}", repr(error), traceback.format_exc()))


def _exit_now() -> None:
    """End the worker without the interpreter's teardown of the model libraries (about 0.8 s at
    the end of every run): it holds no files or state, and its log lines are flushed first."""
    logging.shutdown()
    os._exit(0)


class _NotShippable(Exception):
    """A node's function, inputs or outputs do not pickle: it runs in this process instead."""


class _Worker:
    """A spawned Python process (one BLAS and OpenMP thread) that runs one node at a time."""

    def __init__(self, nodes: list[Node]) -> None:
        from kedro.framework.project import LOGGING, PACKAGE_NAME  # noqa: PLC0415

        context = multiprocessing.get_context("spawn")  # fork would copy locks held by threads
        self._connection, child = context.Pipe()
        saved = {name: os.environ.get(name) for name in _ONE_THREAD}
        os.environ.update(_ONE_THREAD)  # read by the worker's numpy, BLAS and OpenMP at import
        try:
            self._process = context.Process(
                target=_serve, args=(child, PACKAGE_NAME, dict(LOGGING.data)),
                name="loan-default-worker", daemon=True,
            )  # fmt: skip
            self._process.start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        child.close()
        self._lock = threading.Lock()
        self._ready = False
        self._connection.send(("warm", nodes))

    def ready(self) -> bool:
        """Whether the worker has imported the libraries and takes nodes (asked only until it
        does, from the scheduling thread, before any node was sent)."""
        if not self._ready and self._connection.poll():
            self._ready = self._connection.recv()[0] == "ready"
        return self._ready

    def run(self, node: Node, inputs: dict[str, Any]) -> dict[str, Any]:
        """`node.run(inputs)` in the worker process."""
        with self._lock:
            try:  # pickled whole before anything is written: a failure leaves the pipe clean
                self._connection.send(("node", (node, inputs)))
            except (pickle.PicklingError, TypeError, AttributeError) as error:
                raise _NotShippable(f"its function or inputs do not pickle ({error})") from error
            try:
                reply = self._connection.recv()
            except (EOFError, OSError) as error:
                raise RuntimeError(
                    f"The worker process stopped (exit code {self._process.exitcode}) while "
                    f"running node {node.name}; run again with `--runner SequentialRunner` to "
                    "run every node in this process."
                ) from error
        if reply[0] == "failed":
            error, text = reply[1], reply[2]
            error.add_note(f"Raised in the worker process:\n{text}")
            raise error
        if reply[0] == "unpicklable outputs":
            raise _NotShippable(f"its outputs do not pickle ({reply[1]})")
        if reply[0] == "unpicklable error":
            raise RuntimeError(f"Node {node.name} failed in the worker process:\n{reply[2]}")
        return reply[1]

    def close(self) -> None:
        """Stop the process (after the node it is running, if any)."""
        try:
            self._connection.send(None)
        except OSError:
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._connection.close()


class _WorkerTask(Task):
    """Kedro's Task (inputs loaded, hooks called and outputs saved in this process) whose node
    function runs in the worker process."""

    def __init__(self, worker: _Worker, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._worker = worker

    def _call_node_run(  # noqa: PLR0913 - Kedro's signature
        self,
        node: Node,
        catalog: CatalogProtocol,
        inputs: dict[str, Any],
        is_async: bool,
        hook_manager: PluginManager,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        try:
            try:
                outputs = self._worker.run(node, inputs)
            except _NotShippable as reason:
                logger.info("Node %s runs in this process: %s", node.name, reason)
                outputs = node.run(inputs)
        except Exception as error:
            hook_manager.hook.on_node_error(
                error=error, node=node, catalog=catalog, inputs=inputs,
                is_async=is_async, run_id=run_id,
            )  # fmt: skip
            raise
        hook_manager.hook.after_node_run(
            node=node, catalog=catalog, inputs=inputs, outputs=outputs,
            is_async=is_async, run_id=run_id,
        )  # fmt: skip
        return outputs


def _cacheable(catalog: CatalogProtocol, name: str) -> bool:
    """A pandas table in a file (Parquet or CSV, not versioned): every load reads the same."""
    from kedro_datasets.pandas import CSVDataset, ParquetDataset  # noqa: PLC0415

    try:
        dataset = catalog.get(name)
    except Exception:  # noqa: BLE001 - parameters and other names it does not resolve
        return False
    return isinstance(dataset, CSVDataset | ParquetDataset) and dataset._version is None


class _CachedLoads:
    """The run's catalog, with each pandas table that several nodes load read from its file
    once: the nodes get copies of the frame the first load returned (the last one gets the frame
    itself), so each sees what a load of its own would have given, and none sees another's
    changes. Everything else goes to the catalog."""

    def __init__(self, catalog: CatalogProtocol, load_counts: Counter) -> None:
        self._catalog = catalog
        self._left = {
            name: count
            for name, count in load_counts.items()
            if count > 1 and _cacheable(catalog, name)
        }
        self._locks = {name: threading.Lock() for name in self._left}
        self._frames: dict[str, Any] = {}

    def load(self, ds_name: str, version: str | None = None) -> Any:
        """The dataset's data: a copy of the cached frame while other loads are to come."""
        if ds_name not in self._left or version is not None:
            return self._catalog.load(ds_name, version)
        with self._locks[ds_name]:
            if ds_name not in self._frames:
                self._frames[ds_name] = self._catalog.load(ds_name)
            self._left[ds_name] -= 1
            if self._left[ds_name] > 0:
                return self._frames[ds_name].copy()
            return self._frames.pop(ds_name)

    def save(self, ds_name: str, data: Any) -> None:
        """Save through the catalog (a later load reads what was saved)."""
        if ds_name in self._locks:
            with self._locks[ds_name]:
                self._frames.pop(ds_name, None)
        self._catalog.save(ds_name, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)


def _in_process(task: Task, pools: _ThreadPools | None) -> Node:
    """Run a task in this thread of this process, one OpenMP thread per pool (OpenMP's count is
    per thread; OpenBLAS's was set once, from the main thread)."""
    if pools is not None:
        pools.single()
    return task.execute()


def _alone(task: Task, pools: _ThreadPools | None) -> Future:
    """Run a task in the main thread with the thread pools as they were, as a sequential run
    does (nothing else runs meanwhile); its result or error as a finished future."""
    future: Future = Future()
    if pools:
        pools.restore()
    try:
        future.set_result(task.execute())
    except Exception as error:  # noqa: BLE001 - raised by the caller, as other nodes' are
        future.set_exception(error)
    finally:
        if pools:
            pools.single()
    return future


def _spark_session_active() -> bool:
    """A Spark session runs in this process (the `spark` environment's SparkHook started it)."""
    if "pyspark.sql" not in sys.modules:
        return False
    return sys.modules["pyspark.sql"].SparkSession.getActiveSession() is not None


class WorkerRunner(StageRunner):
    """Two nodes at a time: one in this process, one in a worker process; the ready node with
    the longest chain after it first (StageRunner's order). The default of `kedro run`.

    Nodes are pure functions of their inputs, so where one runs does not change what it
    computes. The worker receives a node's loaded inputs and sends back its outputs; loading,
    saving (MLflow included) and every hook stay in this process. Two things keep the results
    those of a sequential run:

    - BLAS and OpenMP run one thread per node, in the worker (set before it imports numpy)
      and in this process, except for nodes tagged `exclusive`: a single-threaded sum is
      the same whatever runs beside it, where OpenBLAS splits a sum between its threads only
      when no other call is running (so the grid's two concurrent fits already varied in the
      last digits, about 1e-10, between two sequential runs);
    - a node tagged `exclusive` (the features stage's preprocessor: its text models' sums are
      read, magnified, by the fairness proxy check) runs alone, in this process, with the
      threads a sequential run gives it.

    Two runs of it are bit-identical, and equal a sequential run's metrics to about 1e-15.

    Also: a pandas table several nodes load is read from its file once (`_CachedLoads`); a
    node whose function, inputs or outputs do not pickle runs in this process instead.
    Without a second process to use, it runs one node at a time in this process, threads
    untouched: in the `spark` environment (the Spark session and joblib's Spark backend live
    in this process) and with `LOAN_RUNNER_WORKER=0`. Each run starts its worker (a spawned
    Python process, about 1 GB at its peak on the bundled data), which imports the model
    libraries while ingestion runs here, and takes nodes once it has.
    """

    def __init__(self, is_async: bool = False) -> None:
        super().__init__(max_workers=2, is_async=is_async)

    def _schedule(self, run: _Run) -> None:
        """Two lanes, this process and the worker (started for this run), when there is one."""
        nodes = run.pipeline.nodes
        use_worker = (
            len(nodes) > 1
            and os.environ.get("LOAN_RUNNER_WORKER", "1") != "0"
            and not _spark_session_active()
        )
        worker = _Worker(nodes) if use_worker else None
        pools = _ThreadPools() if worker else None
        if pools:
            pools.single()
        try:
            self._run_lanes(run, worker, pools)
        finally:
            if pools:
                pools.restore()
            if worker:
                worker.close()

    def _run_lanes(self, run: _Run, worker: _Worker | None, pools: _ThreadPools | None) -> None:
        """Start each ready node in a free lane (`_assign`) until every node is done."""
        tables = _CachedLoads(run.catalog, run.load_counts)
        todo = set(run.pipeline.nodes)
        running: dict[Future, tuple[str, Node]] = {}
        lanes: tuple[str, ...] = ("here",)
        with self._get_executor(2 if worker else 1) as executor:
            while todo or running:
                if worker and len(lanes) == 1 and worker.ready():
                    lanes = ("here", "worker")
                ready = run.ready(todo)
                finished = []
                for lane, node in self._assign(ready, running, lanes):
                    todo.discard(node)
                    arguments = {
                        "node": node, "catalog": tables, "hook_manager": run.hook_manager,
                        "is_async": self._is_async, "run_id": run.run_id,
                    }  # fmt: skip
                    if lane == "alone":
                        finished.append(_alone(Task(**arguments), pools))
                        break
                    if lane == "worker":
                        future = executor.submit(_WorkerTask(worker, **arguments).execute)
                    else:
                        future = executor.submit(_in_process, Task(**arguments), pools)
                    running[future] = (lane, node)
                if not running and not finished:
                    self._raise_runtime_error(todo, run.done, set(ready), None)
                if not finished:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    running.pop(future, None)
                    self._complete(future, run)

    @staticmethod
    def _assign(
        ready: list[Node], running: dict[Future, tuple[str, Node]], lanes: tuple[str, ...]
    ) -> list[tuple[str, Node]]:
        """The ready nodes to start now and their lanes: an exclusive node `alone` once nothing
        else runs (nothing else starts while one waits); otherwise the first ready node here,
        the next in the worker."""
        waiting = [node for node in ready if EXCLUSIVE in node.tags]
        if waiting:
            return [] if running else [("alone", waiting[0])]
        free = [lane for lane in lanes if lane not in {lane for lane, _ in running.values()}]
        return list(zip(free, ready, strict=False))
