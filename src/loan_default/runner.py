"""The runner `make run` uses: Kedro's ThreadRunner with a few workers, so that independent
stages overlap (the baselines beside the training, the fairness refits beside the ablation).

Safe here because every node is a pure function of its inputs (seeds come from parameters,
figures are matplotlib `Figure` objects without pyplot's global state) and kedro-mlflow re-enters
the pipeline's MLflow run in each worker thread before a node runs (`ProjectMlflowHook`), so
each dataset logs to the same run. The results do not depend on the order nodes finish in: a run
with this runner logs the same metrics as a run with Kedro's SequentialRunner.

    kedro run --pipelines loan --runner loan_default.runner.StageRunner
"""

from __future__ import annotations

import os

from kedro.runner import ThreadRunner

# Two cores are the common case (CI, laptops' containers); the grid's fits already run
# `training.n_jobs` at a time inside their node, so more node workers mostly add contention.
DEFAULT_WORKERS = 2


class StageRunner(ThreadRunner):
    """ThreadRunner with `LOAN_RUNNER_WORKERS` (default 2) node workers."""

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        workers = max_workers or int(os.environ.get("LOAN_RUNNER_WORKERS", DEFAULT_WORKERS))
        super().__init__(max_workers=workers, is_async=is_async)
