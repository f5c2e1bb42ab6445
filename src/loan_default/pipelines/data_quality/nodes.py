"""Data-quality nodes: what is missing in the training loans, does it matter, what to do."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from loan_default.parameters import DataQuality, Dataset
from loan_default.pipelines.lazy import matplotlib_figure, matplotlib_patches, preprocessing
from loan_default.schema import structured_feature_columns, target_column
from loan_default.validation import DataValidationError

logger = logging.getLogger(__name__)

ACTION_COLOURS = {"drop": "#9e9e9e", "indicator_and_fill": "#d62728"}
IMPUTE_COLOUR = "#1f77b4"


def analyse_missing_values(
    training_population: pd.DataFrame, dataset: Dataset, data_quality: DataQuality
) -> pd.DataFrame:
    """One row per feature: missing and disguised-missing counts, test vs default, action, reason."""
    target, columns, rules = missing_value_inputs(training_population, dataset, data_quality)
    configured = dataset.sentinel_codes, dataset.informative_missing, rules
    report = preprocessing.plan_missing_values(
        training_population[columns], training_population[target], *configured
    )
    logger.info("Missing-value actions: %s", report["action"].value_counts().to_dict())
    return report


def missing_value_inputs(
    training_population: Any, dataset: Dataset, data_quality: DataQuality
) -> tuple[str, list[str], dict[str, Any]]:
    """The target column (checked present), the structured feature columns and the missing-value
    rules of the training loans: a pandas or a Spark table, on either engine the same."""
    target = target_column(dataset)
    if target not in training_population.columns:
        raise DataValidationError(f"training loans: target column '{target}' is missing.")
    rules = data_quality.model_dump(exclude={"indicator_suffix"})
    return target, structured_feature_columns(training_population, dataset), rules


def plot_missing_values(
    missing_value_report: pd.DataFrame, data_quality: DataQuality
) -> matplotlib_figure.Figure:
    """Horizontal bars of the missing rate per column, coloured by action."""
    report = missing_value_report.sort_values("missing_rate")
    figure = matplotlib_figure.Figure(
        figsize=(9, max(4.0, 0.28 * len(report) + 1.5)), layout="constrained"
    )
    axes = figure.subplots()
    colours = [ACTION_COLOURS.get(action, IMPUTE_COLOUR) for action in report["action"]]
    labels = [
        f"{column} *" if configured else column
        for column, configured in zip(
            report["column"], report["configured_informative"], strict=True
        )
    ]
    axes.barh(labels, report["missing_rate"], color=colours)
    axes.axvline(data_quality.drop_above_rate, color="black", linestyle="--", lw=1)
    axes.set_xlim(0, 1)
    axes.set_xlabel("missing rate in training loans (incl. empty strings and sentinel codes)")
    axes.set_title("Missing values per column (* = informative by configuration)")
    axes.legend(
        handles=[
            matplotlib_patches.Patch(
                color=ACTION_COLOURS["indicator_and_fill"], label="informative: indicator + fill"
            ),
            matplotlib_patches.Patch(color=IMPUTE_COLOUR, label="imputed / nothing missing"),
            matplotlib_patches.Patch(color=ACTION_COLOURS["drop"], label="dropped"),
        ],
        loc="lower right",
    )
    return figure
