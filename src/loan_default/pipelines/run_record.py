"""What a run records about itself in MLflow, as node outputs: the input data's description, tags
for the split, duplicates and scoring model, the run's headline and the closing summary.

Pure functions (no MLflow import); the catalog's MLflow datasets write what they return
(`loan_default.datasets.MlflowInputDataset`, `MlflowRunTagsDataset`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from loan_default.pipelines.lazy import serving

# Figures of the champion the summary, the run description and the registered version show.
HEADLINE_METRICS = ("roc_auc", "pr_auc")


def describe_raw_data(raw_loans: pd.DataFrame) -> dict[str, Any]:
    """Rows, columns and types of the raw table (on Spark: `describe_raw_data_on_spark`)."""
    return {
        "rows": len(raw_loans),
        "columns": {str(name): str(kind) for name, kind in dict(raw_loans.dtypes).items()},
    }


def split_tags(split_summary: pd.DataFrame) -> dict[str, str]:
    """One tag per split and summary column, e.g. split.train.loans."""
    tags = {}
    for row in split_summary.to_dict(orient="records"):
        name = row.pop("split")
        tags |= {f"split.{name}.{key}": str(value) for key, value in row.items()}
    return tags


def duplicate_tags(duplicate_summary: dict[str, Any]) -> dict[str, str]:
    """What was found and done about duplicate rows."""
    return {
        "duplicates.action": str(duplicate_summary["action"]),
        "duplicates.exact_rows": str(duplicate_summary["exact_duplicate_rows"]),
        "duplicates.exact_share": str(duplicate_summary.get("exact_share", "")),
        "duplicates.dropped_rows": str(duplicate_summary["dropped_rows"]),
    }


def scoring_model_tags(scoring_champion: serving.ChampionHandle) -> dict[str, str]:
    """The registered model a scoring run used."""
    return {
        "scoring.model_uri": scoring_champion.uri,
        "scoring.model_version": scoring_champion.version,
        "scoring.model_run_id": scoring_champion.run_id,
    }


def summarise_run(
    champion_metrics: dict[str, Any], promotion_decision: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The run's outcome in a few lines (champion, validation and test figures, the promotion
    decision against the current champion), and the same lines as the MLflow run's
    description. Made before registration, which stays the last thing a run does."""
    figures = {
        f"{split}_{metric}": champion_metrics.get(f"{key}_{metric}{suffix}")
        for metric in HEADLINE_METRICS
        for split, key, suffix in (("validation", "cv", "_mean"), ("test", "test", ""))
    }
    incumbent, reason = promotion_decision["champion"], promotion_decision["reason"]
    if not promotion_decision["promote"]:
        promotion = f"the alias stays on {incumbent}: {reason}"
    elif incumbent == "none":
        promotion = f"the alias moves to this run's version: {reason}"
    else:
        promotion = f"the alias moves from {incumbent} to this run's version: {reason}"
    lines = [
        f"Champion: {champion_metrics['configuration']} "
        f"(threshold {_figure(champion_metrics.get('threshold'))})",
        "ROC AUC: validation {} / test {}; PR AUC: validation {} / test {}".format(
            *(_figure(value) for value in figures.values())
        ),
        f"Promotion: {promotion}",
    ]
    summary = {
        "champion": champion_metrics["configuration"],
        "threshold": champion_metrics.get("threshold"),
        **figures,
        "promote": bool(promotion_decision["promote"]),
        "incumbent": incumbent,
        "reason": reason,
        "lines": lines,
    }
    return summary, {"mlflow.note.content": "\n\n".join(lines)}


def _figure(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.4f}"
