"""Scoring nodes: validate new applications row by row, score them, explain and watch drift."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default.applications import ROW, check_applications, summarise_problems
from loan_default.serving import ChampionHandle
from loan_default.stability import ReferenceDistribution, band
from loan_default.tracking import metric_name
from loan_default.validation import describe_examples

logger = logging.getLogger(__name__)

# Below this many applications, a 10-bin PSI is dominated by sampling noise.
SMALL_BATCH = 500


def validate_applications(
    raw_applications: pd.DataFrame, champion: ChampionHandle
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type each application as training did; rows with errors go to the errors table only."""
    valid, problems = check_applications(raw_applications, champion.model)
    rejected = problems.loc[problems["severity"] == "error", ROW].nunique()
    logger.info("%d applications valid, %d rejected with errors", len(valid), rejected)
    warned = problems.loc[problems["severity"] == "warning", "column"]
    if len(warned):
        logger.warning(
            "%d warning(s) on columns %s", len(warned), describe_examples(warned.unique())
        )
    return valid, problems


def score_applications(
    applications: pd.DataFrame,
    application_errors: pd.DataFrame,
    champion: ChampionHandle,
    score: dict[str, Any],
) -> pd.DataFrame:
    """Probability of default, decision at the champion's threshold, top reasons, warnings and
    the model that scored."""
    model = champion.model.champion
    logger.info("Scoring %d applications with %s", len(applications), champion.describe())
    probability = model.predict_proba(applications)[:, 1]
    identifiers = [c for c in champion.model.dataset["identifier_columns"] if c in applications]
    scored = applications[[ROW, *identifiers]].reset_index(drop=True)
    scored["probability_of_default"] = probability.round(6)
    scored["decision"] = np.where(probability >= model.threshold, "reject", "approve")
    scored["threshold"] = round(model.threshold, 6)
    reference = champion.model.profile.typical_values
    top_n = int(score["reasons"]["top_n"])
    kinds = champion.model.input_types
    percents = {c for c, kind in kinds.items() if kind == "percent"}
    texts = {c for c, kind in kinds.items() if kind == "text"}
    reasons = explain(model, applications, reference, probability, top_n, percents, texts)
    scored = pd.concat([scored, reasons], axis=1)
    scored["warnings"] = summarise_problems(scored[ROW], application_errors, "warning").to_numpy()
    scored["model_name"] = champion.name
    scored["model_version"] = champion.version
    scored["model_run_id"] = champion.run_id
    return scored


def explain(
    model: Any,
    applications: pd.DataFrame,
    reference: pd.DataFrame,
    probability: np.ndarray,
    top_n: int,
    percent_columns: set[str] | frozenset[str] = frozenset(),
    text_columns: set[str] | frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """Reasons: features whose replacement by the typical training value lowers the PD most.

    Model-agnostic and honest for any champion: each contribution is the change in the model's
    own probability when one feature is set to a typical training loan's value.
    """
    contributions = {}
    for feature, typical in zip(reference["feature"], reference["typical_value"], strict=True):
        if feature not in applications:
            continue
        counterfactual = applications.copy()
        counterfactual[feature] = typical
        contributions[feature] = probability - model.predict_proba(counterfactual)[:, 1]
    table = pd.DataFrame(contributions)
    order = np.argsort(-table.to_numpy(), axis=1)[:, :top_n]
    reasons = {}
    for rank in range(order.shape[1]):
        names = table.columns.to_numpy()[order[:, rank]]
        values = table.to_numpy()[np.arange(len(table)), order[:, rank]]
        shown = [
            _describe_reason(
                name,
                applications[name].iloc[row],
                value,
                name in percent_columns,
                name in text_columns,
            )  # fmt: skip
            for row, (name, value) in enumerate(zip(names, values, strict=True))
        ]
        reasons[f"reason_{rank + 1}"] = shown
        reasons[f"reason_{rank + 1}_contribution"] = np.where(values > 0, values.round(4), 0.0)
    return pd.DataFrame(reasons)


def _describe_reason(
    feature: str, value: Any, contribution: float, percent: bool, text: bool = False
) -> str:
    if contribution <= 0:
        return ""
    if text:  # free text: what raised the PD is its wording, not a value to quote back
        return (
            f"{feature}: its wording"
            if isinstance(value, str) and value.strip()
            else f"{feature}: none given"
        )
    if pd.isna(value):
        shown = "missing"
    elif percent:  # shown as the applicant wrote it ("17.5%"), not as parsed (0.175)
        shown = f"{100 * value:.4g}%"
    elif isinstance(value, int | float) and abs(value) >= 1000:
        shown = f"{value:,.0f}"
    elif isinstance(value, int | float):
        shown = f"{value:.4g}"
    else:
        shown = str(value)
    return f"{feature} = {shown}"


def measure_score_drift(
    applications: pd.DataFrame, champion: ChampionHandle, score: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """PSI of the score and of the most predictive features, training period vs this batch.

    The training side comes from the champion's profile, saved when it was trained.
    """
    bands = score["drift"]["bands"]
    profile = champion.model.profile
    scores = champion.model.champion.predict_proba(applications)[:, 1]
    rows = [_psi_row("score", profile.score_reference, scores, bands)]
    rows += [
        _psi_row(feature, reference, applications[feature], bands)
        for feature, reference in profile.feature_references.items()
        if feature in applications
    ]
    table = pd.DataFrame(rows)
    table["batch_size"] = len(applications)
    if len(applications) < SMALL_BATCH:
        logger.warning(
            "PSI on a batch of %d applications is noisy (bins hold a handful each): read the "
            "drift table as a rough signal only",
            len(applications),
        )
    stable_label = bands[0]["label"]
    shifted = table.loc[table["band"] != stable_label, "name"]
    if len(shifted):
        logger.warning("Drift beyond '%s' for %s", stable_label, describe_examples(shifted))
    metrics = {
        metric_name(f"drift_psi_{row['name']}"): {"value": row["psi"], "step": 0} for row in rows
    }
    return table, metrics


def _psi_row(
    name: str, reference: ReferenceDistribution, actual: Any, bands: list[dict[str, Any]]
) -> dict[str, Any]:
    psi = reference.psi(actual)
    return {"name": name, "psi": round(psi, 5), "band": band(psi, bands)}
