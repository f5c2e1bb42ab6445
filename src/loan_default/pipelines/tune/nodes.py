"""Tune nodes: search each model's hyperparameters on the time-ordered folds, and write the
result as a block to paste into conf/base/parameters_training.yml."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import yaml

from loan_default.config.names import GREATER_IS_BETTER
from loan_default.parameters import Dataset, Training, Tuning, check_tuning
from loan_default.pipelines.lazy import cross_validation, registry, search, tracking
from loan_default.schema import target_values

logger = logging.getLogger(__name__)


def _metric(training: Training, tuning: Tuning) -> str:
    return tuning.metric or training.selection.primary_metric


def search_hyperparameters(
    prepared_folds: list[cross_validation.PreparedFold],
    cv_folds: pd.DataFrame,
    train_loans: pd.DataFrame,
    dataset: Dataset,
    training: Training,
    tuning: Tuning,
) -> pd.DataFrame:
    """Every trial of every tuned model (one row each): parameters, fold values, mean."""
    check_tuning(training, tuning)
    scheme = cv_folds["scheme"].iloc[0]
    if scheme != "time":
        logger.warning(
            "Tuning on %s folds: the loans have no date column, so no time-ordered validation",
            scheme,
        )
    started, y, rows = time.perf_counter(), target_values(train_loans, dataset), []
    labels = tuning.models or [
        label for label in training.models if registry.search_space(training, tuning, label)
    ]
    for label in labels:
        trials = search.search_model(
            prepared_folds, y, training, tuning, label, _metric(training, tuning),
            dataset.monotonic_trends,
        )  # fmt: skip
        for trial in trials:
            row = {key: trial[key] for key in ("model", "trial", "mean", "std", "seconds")}
            row |= {f"param_{name}": value for name, value in trial["params"].items()}
            row |= {f"fold_{i + 1}": v for i, v in enumerate(trial["fold_values"])}
            rows.append(row | {"scheme": scheme})
    elapsed = time.perf_counter() - started
    logger.info("Tuning took %.0f s for %d trials", elapsed, len(rows))
    return pd.DataFrame(rows)


def _best(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    ascending = not GREATER_IS_BETTER[metric]
    ordered = trials.sort_values(["model", "mean"], ascending=[True, ascending], kind="stable")
    return ordered.groupby("model", sort=False).head(1).set_index("model")


def summarise_tuning(
    tuning_trials: pd.DataFrame, training: Training, tuning: Tuning
) -> tuple[str, list[dict[str, Any]], dict[str, dict[str, float]]]:
    """The best parameters as a YAML block with how they were found, one MLflow child run per
    trial, and `tuning.*` metrics for the run."""
    metric = _metric(training, tuning)
    best = _best(tuning_trials, metric)
    models = {}
    for label, row in best.iterrows():
        params = {
            column.removeprefix("param_"): _plain(row[column])
            for column in best.columns
            if column.startswith("param_") and pd.notna(row[column])
        }
        models[label] = {"params": params}
    folds = int(tuning_trials.filter(like="fold_").notna().sum(axis=1).max())
    header = (
        f"# Found by `kedro run --pipeline tune` on {datetime.now(UTC):%Y-%m-%d}: optuna TPE, "
        f"{len(tuning_trials)} trials, best mean {metric} over {folds} {tuning_trials['scheme'].iloc[0]}"
        f" validation folds of the training loans (the test loans are never read).\n"
        + "".join(
            f"#   {label}: {metric} {row['mean']:.4f} (trial {int(row['trial'])}; the configured "
            f"parameters scored {_configured(tuning_trials, label):.4f})\n"
            for label, row in best.iterrows()
        )
    )
    block = yaml.safe_dump({"training": {"models": models}}, sort_keys=True)
    runs = [
        {
            "name": f"tune/{row['model']}/{int(row['trial'])}",
            "tags": {"kind": "tuning_trial", "model": row["model"], "strategy": tuning.strategy},
            "metrics": {f"validation_{metric}_mean": row["mean"], f"validation_{metric}_std": row["std"],
                        "seconds": row["seconds"]},
            "params": {c.removeprefix("param_"): row[c] for c in tuning_trials.columns
                       if c.startswith("param_") and pd.notna(row[c])},
        }
        for _, row in tuning_trials.iterrows()
    ]  # fmt: skip
    metrics = {}
    for label, row in best.iterrows():
        metrics[f"tuning.{label}.best_{metric}"] = float(row["mean"])
        metrics[f"tuning.{label}.configured_{metric}"] = _configured(tuning_trials, label)
        metrics[f"tuning.{label}.trials"] = float((tuning_trials["model"] == label).sum())
    metrics["tuning.seconds"] = float(tuning_trials["seconds"].sum())
    tracked = {
        tracking.metric_name(name): {"value": value, "step": 0} for name, value in metrics.items()
    }
    return header + block, runs, tracked


def _configured(trials: pd.DataFrame, label: str) -> float:
    """Score of trial 0: the parameters configured before the search."""
    return float(trials.loc[(trials["model"] == label) & (trials["trial"] == 0), "mean"].iloc[0])


def _plain(value: Any) -> Any:
    """numpy scalars as plain numbers, integers as int, floats to 4 significant digits."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return float(f"{value:.4g}") if isinstance(value, float) else value
