"""An opt-in runner: Kedro's ThreadRunner with a few workers, so that independent stages can
overlap (the baselines beside the training, the fairness refits beside the ablation).

Not the default (`make run` uses Kedro's SequentialRunner): on a shared, busy 2-core machine it
was no faster (docs/speed.md). A likely cause, not yet measured on a quiet machine: most nodes
outside the grid's fits hold the GIL (pandas, optbinning, the text hashing), so two of them in
threads wait on each other. Measure it on your machine before using it.

Safe here because every node is a pure function of its inputs (seeds come from parameters,
figures are matplotlib `Figure` objects without pyplot's global state) and kedro-mlflow re-enters
the pipeline's MLflow run in each worker thread before a node runs (`ProjectMlflowHook`), so
each dataset logs to the same run.

Of the nodes ready to run, the one with the longest chain of nodes after it goes first (the
training chain: preprocessing, the grid's cross-validation, calibration, the champion, ...),
and no more than `max_workers` run at once: Kedro's ThreadRunner queues every ready node in no
particular order, and a report node could hold a worker while the cross-validation waited.

The results are those of a sequential run. Not to the last bit: OpenBLAS splits a call
between its threads only when no other call is running, so the order of some floating-point sums
(logistic regression and network probabilities) depends on what else runs at that moment; that
is already so in a sequential run, where the grid's fits run two at a time (two sequential runs
differ the same way, by at most 1e-10 relative). Limiting BLAS to one thread would make runs
bit-identical, but it moves the fairness proxy check (proxy_strength.csv) by about 1e-4
against a sequential run, so BLAS keeps its threads.

    kedro run --pipelines loan --runner loan_default.runner.StageRunner
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, wait
from itertools import chain
from typing import TYPE_CHECKING

from kedro.runner import ThreadRunner
from kedro.runner.task import Task

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
        """Kedro's scheduling loop (AbstractRunner._run), submitting the ready node with the
        longest chain after it whenever a worker is free."""
        nodes = pipeline.nodes
        self._validate_catalog(catalog)
        self._validate_nodes(nodes)
        self._set_manager_datasets(catalog)
        load_counts = Counter(chain.from_iterable(n.inputs for n in nodes))
        dependencies = pipeline.node_dependencies
        priority = chain_lengths(pipeline)
        todo, done_nodes = set(nodes), set()
        running: set[Future] = set()
        workers = self._get_required_workers_count(pipeline)
        with self._get_executor(workers) as executor:
            while todo or running:
                ready = sorted(
                    (n for n in todo if dependencies[n] <= done_nodes),
                    key=lambda n: (-priority[n], n.name),
                )
                for node in ready[: workers - len(running)]:
                    todo.discard(node)
                    task = Task(
                        node=node, catalog=catalog, hook_manager=hook_manager,
                        is_async=self._is_async, run_id=run_id,
                    )  # fmt: skip
                    running.add(executor.submit(task))
                if not running:
                    self._raise_runtime_error(todo, done_nodes, set(ready), None)
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    try:
                        node = future.result()
                    except Exception:
                        self._suggest_resume_scenario(pipeline, done_nodes, catalog)
                        raise
                    done_nodes.add(node)
                    self._logger.info("Completed node: %s", node.name)
                    self._logger.info("Completed %d out of %d tasks", len(done_nodes), len(nodes))
                    self._release_datasets(node, catalog, load_counts, pipeline)
