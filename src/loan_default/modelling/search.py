"""Bounded hyperparameter search with optuna, on prepared folds of the training loans only."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import optuna

from .cross_validation import GridPlan, PreparedFold, cross_validate_grid
from .metrics import GREATER_IS_BETTER, RANKING_METRICS, ranking_metrics
from .registry import build_grid, search_space

logger = logging.getLogger(__name__)


def suggest(trial: optuna.Trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One point of the search space (`registry.search_space`: configured or the entry's)."""
    params = {}
    for name, spec in space.items():
        if spec["choices"] is not None:
            params[name] = trial.suggest_categorical(name, spec["choices"])
        elif spec["integer"]:
            params[name] = trial.suggest_int(
                name, int(spec["low"]), int(spec["high"]), log=spec["log"]
            )
        else:
            params[name] = trial.suggest_float(name, spec["low"], spec["high"], log=spec["log"])
    return params


def fold_scores(
    folds: list[PreparedFold],
    y: np.ndarray,
    training: dict[str, Any],
    label: str,
    strategy: str,
    params: dict[str, Any],
    monotonic_trends: dict[str, str],
    metric: str,
) -> list[float]:
    """`metric` on each validation fold for model `label` with `params` over its configured ones."""
    spec = training["models"][label]
    grid_params = {
        "models": {label: {**spec, "params": {**spec["params"], **params}}},
        "strategies": {strategy: training["strategies"][strategy]},
    }
    grid = build_grid(grid_params, monotonic_trends)
    predictions = cross_validate_grid(folds, y, GridPlan.of(grid, training))
    return [
        float(ranking_metrics(y[part["row"].to_numpy()], part["score"].to_numpy(), True)[metric])
        for _, part in predictions.groupby(["repeat", "fold"], sort=True)
    ]


def search_model(
    folds: list[PreparedFold],
    y: np.ndarray,
    training: dict[str, Any],
    tuning: dict[str, Any],
    label: str,
    metric: str,
    monotonic_trends: dict[str, str],
) -> list[dict[str, Any]]:
    """Every trial of one model's search: its parameters, fold values, mean and duration."""
    if metric not in RANKING_METRICS:
        raise ValueError(
            f"tuning.metric: '{metric}' must rank loans ({', '.join(RANKING_METRICS)})"
        )
    space = search_space(training, tuning, label)
    direction = "maximize" if GREATER_IS_BETTER[metric] else "minimize"
    sampler = optuna.samplers.TPESampler(seed=tuning["random_state"])
    study = optuna.create_study(direction=direction, sampler=sampler)
    trials: list[dict[str, Any]] = []
    # Trial 0 is the configuration as it stands, so the search can only report an improvement.
    configured = training["models"][label]["params"]
    current = {name: configured[name] for name in space if name in configured}

    def objective(trial: optuna.Trial) -> float:
        started = time.perf_counter()
        params = suggest(trial, space)
        if trial.number == 0 and current:  # exactly the configured model, nothing sampled
            params = dict(current)
        values = fold_scores(
            folds, y, training, label, tuning["strategy"], params, monotonic_trends, metric
        )
        mean = float(np.mean(values))
        trials.append(
            {"model": label, "trial": trial.number, "params": params, "fold_values": values,
             "mean": mean, "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
             "seconds": round(time.perf_counter() - started, 2)}
        )  # fmt: skip
        logger.info(
            "Tuning %s trial %d: %s %.4f (%.1f s) %s",
            label, trial.number, metric, mean, trials[-1]["seconds"], params,
        )  # fmt: skip
        return mean

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if current:
        study.enqueue_trial(current, skip_if_exists=True)
    n_trials = int(tuning["n_trials"]) if space else 1  # nothing to search: one baseline trial
    study.optimize(objective, n_trials=n_trials, timeout=float(tuning["timeout_seconds"]))
    return trials
