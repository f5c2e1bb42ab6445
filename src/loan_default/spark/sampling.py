"""Pandas tables from a Spark DataFrame: everything up to a row budget, above it a sample by
class with sample weights.

Training loans keep every default and a fraction of repaid loans (`class_fractions`): standard
practice in credit modelling when defaults are the scarce class. Test loans keep the same
fraction of each class (`proportional_fractions`), a simple random sample that keeps the default
rate, so rates, AUCs and per-loan costs need no weights; only totals do. Weighting each kept
loan by 1 / its class's fraction keeps rates, costs and approval rates unbiased. The sample's
size, fractions and weights are returned for MLflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
from pyspark.sql import functions as F

from loan_default.schema import SAMPLE_WEIGHT as WEIGHT_COLUMN

logger = logging.getLogger(__name__)


def class_fractions(counts: dict[int, int], budget: int) -> dict[int, float]:
    """Sampling fraction per class (1 = default, 0 = repaid): all rows within the budget;
    above it every default and enough repaid loans to fill it (half the budget each when the
    defaults alone exceed half)."""
    total = sum(counts.values())
    if total <= budget:
        return {label: 1.0 for label in counts}
    defaults, repaid = counts.get(1, 0), counts.get(0, 0)
    kept_defaults = min(defaults, budget // 2)
    fractions = {1: kept_defaults / defaults if defaults else 1.0}
    fractions[0] = min(1.0, (budget - kept_defaults) / repaid) if repaid else 1.0
    return fractions


def proportional_fractions(counts: dict[int, int], budget: int) -> dict[int, float]:
    """The same fraction of every class: all rows within the budget, above it budget / rows."""
    total = sum(counts.values())
    fraction = 1.0 if total <= budget else budget / total
    return {label: fraction for label in counts}


def collect_sampled_rows(
    frame: Any,
    target: str,
    budget: int,
    seed: int,
    fractions_rule: Callable[[dict[int, int], int], dict[int, float]] = class_fractions,
    label: str = "rows",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows as pandas, sampled by class (`fractions_rule`) above `budget`, with
    `sample_weight`; and what was done (rows, kept, fractions, weights), logged when sampled."""
    counts = {
        int(row[target]): int(row["count"]) for row in frame.groupBy(target).count().collect()
    }
    fractions = fractions_rule(counts, budget)
    sampled = (
        frame
        if all(f == 1.0 for f in fractions.values())
        else frame.sampleBy(target, fractions, seed)
    )
    weight = F.when(F.col(target) == 1, 1.0 / fractions.get(1, 1.0)).otherwise(
        1.0 / fractions.get(0, 1.0)
    )
    rows = sampled.withColumn(WEIGHT_COLUMN, weight).toPandas()
    summary = {
        "rows": sum(counts.values()),
        "budget": budget,
        "kept": len(rows),
        "defaults": counts.get(1, 0),
        "fraction_default": fractions.get(1, 1.0),
        "fraction_repaid": fractions.get(0, 1.0),
        "weight_default": 1.0 / fractions.get(1, 1.0),
        "weight_repaid": 1.0 / fractions.get(0, 1.0),
    }
    if summary["kept"] < summary["rows"]:
        logger.info("%s sampled above their row budget: %s", label.capitalize(), summary)
    return rows, summary
