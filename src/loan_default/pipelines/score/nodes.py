"""Scoring nodes: validate new applications row by row, score them, explain and watch drift."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from loan_default.applications import ROW, check_applications, summarise_problems
from loan_default.parameters import Band, Score
from loan_default.pipelines.lazy import champion as _champion
from loan_default.pipelines.lazy import serving, tracking
from loan_default.stability import ReferenceDistribution, band
from loan_default.validation import describe_examples

logger = logging.getLogger(__name__)

# Below this many applications, a 10-bin PSI is dominated by sampling noise.
SMALL_BATCH = 500


def validate_applications(
    raw_applications: pd.DataFrame, champion: serving.ChampionHandle
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
    champion: serving.ChampionHandle,
    score: Score,
) -> pd.DataFrame:
    """Probability of default, decision at the champion's threshold, adverse-action reasons,
    warnings and the model that scored."""
    model = champion.model.champion
    logger.info("Scoring %d applications with %s", len(applications), champion.describe())
    if applications.empty:  # every application had an error: an empty table, not a crash
        return _no_scores(applications, champion, int(score.reasons.count))
    features = _champion.preprocessor_of(model).transform(applications)  # once: scores and reasons
    assessed = champion.model.assess(applications, _champion.default_probability(model, features))
    identifiers = [c for c in champion.model.dataset["identifier_columns"] if c in applications]
    scored = applications[[ROW, *identifiers]].reset_index(drop=True)
    scored["probability_of_default"] = assessed["probability_of_default"].to_numpy().round(6)
    scored["rating_grade"] = assessed["rating_grade"].to_numpy()
    scored["decision"] = assessed["decision"].to_numpy()
    scored["threshold"] = round(model.threshold, 6)
    scored["review_reason"] = assessed["review_reason"].to_numpy()
    rejected = scored["decision"].to_numpy() == "reject"
    referred = int((scored["decision"] == "refer").sum())
    if referred:
        logger.warning(
            "%d application(s) referred to manual review: values far outside the training range "
            "(column review_reason)",
            referred,
        )
    reasons = score.reasons
    explained = np.ones(len(scored), dtype=bool) if reasons.for_approved else rejected
    started = time.perf_counter()
    table = champion.model.explain(applications, features, explained, reasons.count)
    logger.info(
        "Reasons for %d applications in %.1f s", int(explained.sum()), time.perf_counter() - started
    )
    scored = pd.concat([scored, table], axis=1)
    scored["warnings"] = summarise_problems(scored[ROW], application_errors, "warning").to_numpy()
    scored["model_name"] = champion.name
    scored["model_version"] = champion.version
    scored["model_run_id"] = champion.run_id
    return scored


def _no_scores(
    applications: pd.DataFrame, champion: serving.ChampionHandle, count: int
) -> pd.DataFrame:
    """The scored table's columns without rows."""
    identifiers = [c for c in champion.model.dataset["identifier_columns"] if c in applications]
    head = ["probability_of_default", "rating_grade", "decision", "threshold", "review_reason"]
    reasons = [
        f"reason_{i}{suffix}" for i in range(1, count + 1) for suffix in ("", "_contribution")
    ]
    reasons.append("reason_coverage")
    tail = ["warnings", "model_name", "model_version", "model_run_id"]
    return pd.DataFrame(columns=[ROW, *identifiers, *head, *reasons, *tail])


def measure_score_drift(
    applications: pd.DataFrame,
    scored_applications: pd.DataFrame,
    champion: serving.ChampionHandle,
    score: Score,
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """PSI of the score and of the most predictive features, training period vs this batch.

    The training side comes from the champion's profile, saved when it was trained.
    """
    bands = score.drift.bands
    profile = champion.model.profile
    if applications.empty:  # every application had an error: nothing to compare
        logger.warning("No application could be scored: no drift to measure")
        return pd.DataFrame(columns=["name", "psi", "band", "batch_size"]), {}
    scores = scored_applications["probability_of_default"].to_numpy(dtype=float)
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
    stable_label = bands[0].label
    shifted = table.loc[table["band"] != stable_label, "name"]
    if len(shifted):
        logger.warning("Drift beyond '%s' for %s", stable_label, describe_examples(shifted))
    metrics = {
        tracking.metric_name(f"drift_psi_{row['name']}"): {"value": row["psi"], "step": 0}
        for row in rows
    }
    return table, metrics


def _psi_row(
    name: str, reference: ReferenceDistribution, actual: Any, bands: list[Band]
) -> dict[str, Any]:
    psi = reference.psi(actual)
    return {"name": name, "psi": round(psi, 5), "band": band(psi, bands)}
