"""Operating points and tidy metric tables from long prediction tables (configuration, row, score)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .cross_validation import out_of_fold_scores
from .metrics import Outcomes, score_metrics
from .thresholds import choose_threshold


def operating_points(
    predictions: pd.DataFrame,
    configurations: dict[str, dict[str, Any]],
    outcomes: Outcomes,
    objective: str,
) -> dict[str, dict[str, Any]]:
    """Threshold of every configuration, chosen on its out-of-fold training scores only
    (`outcomes`: the training loans', weighted when the table is sampled).

    `configurations` maps name -> {model, strategy, threshold ('objective' or a number),
    probabilistic}; the result adds the numeric threshold and the rule that chose it.
    """
    oof = out_of_fold_scores(predictions)
    points = {}
    for name, spec in configurations.items():
        rule = spec.get("threshold", "objective")
        if rule == "objective":
            scored = outcomes.at(oof.index.to_numpy())
            threshold = choose_threshold(
                scored.y, oof[name].to_numpy(), scored.amounts, scored.costs, objective,
                scored.weights,
            )  # fmt: skip
            rule = objective
        else:
            threshold, rule = float(rule), "fixed"
        points[name] = {**spec, "threshold": threshold, "threshold_rule": rule}
    return points


def configuration_metrics(
    predictions: pd.DataFrame,
    points: dict[str, dict[str, Any]],
    outcomes: Outcomes,
    per_fold: bool = False,
) -> pd.DataFrame:
    """Every metric at each configuration's operating threshold: one row per configuration x
    repeat x fold (`per_fold`), or per configuration on held-out loans (with its threshold)."""
    keys = ["configuration", "repeat", "fold"] if per_fold else ["configuration"]
    rows = []
    for group, part in predictions.groupby(keys, sort=False):
        name, point = group[0], points[group[0]]
        scored = outcomes.at(part["row"].to_numpy())
        metrics = score_metrics(
            scored.y, part["score"].to_numpy(), point["threshold"], scored.amounts, scored.costs,
            probabilistic=point["probabilistic"], weights=scored.weights,
        )  # fmt: skip
        extra = dict(zip(keys[1:], group[1:], strict=True))
        if not per_fold:
            extra["threshold"] = point["threshold"]
        rows.append(_identity(name, point) | extra | metrics)
    # An empty table keeps its key columns, so it saves and loads as a CSV like any other.
    return pd.DataFrame(rows, columns=None if rows else ["configuration", *keys[1:]])


def _identity(name: str, point: dict[str, Any]) -> dict[str, Any]:
    return {
        "configuration": name,
        "kind": point.get("kind", "model"),
        "model": point["model"],
        "strategy": point["strategy"],
    }


def configuration_scores(predictions: pd.DataFrame, configuration: str) -> np.ndarray:
    """One configuration's scores of a long predictions table, in row order."""
    rows = predictions[predictions["configuration"] == configuration]
    return rows.sort_values("row")["score"].to_numpy()
