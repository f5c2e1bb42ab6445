"""Scoring nodes: validate new applications row by row, score them, explain and watch drift."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default.pipelines.ingestion.nodes import add_derived_features
from loan_default.pipelines.ingestion.parsers import PARSERS, unparsable
from loan_default.schema import application_columns, feature_columns
from loan_default.stability import band, population_stability_index, psi_from_labels
from loan_default.validation import DataValidationError, describe_examples

logger = logging.getLogger(__name__)

ROW = "application_row"
ERROR_COLUMNS = [ROW, "severity", "column", "value", "problem"]


def validate_applications(
    raw_applications: pd.DataFrame, train_loans: pd.DataFrame, dataset: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type each application; rows with unparsable values go to the errors table, not the scorer."""
    required = application_columns(dataset)
    if raw_applications.empty:
        raise DataValidationError("applications: the file has no rows (only a header or nothing).")
    missing = sorted(set(required) - set(raw_applications.columns))
    if missing:
        raise DataValidationError(
            f"applications: {len(missing)} required column(s) missing: {missing}; no application "
            "can be scored without them (see dataset.column_types)."
        )
    applications = raw_applications.copy()
    applications.insert(0, ROW, np.arange(1, len(applications) + 1))
    errors = []
    for column in required:
        kind = (dataset.get("column_types") or {}).get(column, "date")
        raw = raw_applications[column]
        parsed = PARSERS[kind](raw, date_formats=dataset.get("date_formats", ["%Y-%m-%d"]))
        failed = unparsable(raw, parsed)
        errors += [
            (row, "error", column, str(value), f"not a valid {kind} value")
            for row, value in zip(applications.loc[failed, ROW], raw[failed], strict=True)
        ]
        applications[column] = parsed
    errors += _unseen_categories(applications, train_loans, dataset)
    error_table = pd.DataFrame(errors, columns=ERROR_COLUMNS)
    bad_rows = set(error_table.loc[error_table["severity"] == "error", ROW])
    valid = applications[~applications[ROW].isin(bad_rows)]
    logger.info("%d applications valid, %d rejected with errors", len(valid), len(bad_rows))
    return add_derived_features(valid, dataset).reset_index(drop=True), error_table


def _unseen_categories(
    applications: pd.DataFrame, train_loans: pd.DataFrame, dataset: dict[str, Any]
) -> list[tuple]:
    """Warnings for categories never seen in training (the encoders handle them)."""
    warnings = []
    for column, kind in (dataset.get("column_types") or {}).items():
        if kind != "category" or column not in train_loans or column not in applications:
            continue
        known = set(train_loans[column].dropna())
        unseen = applications[column].notna() & ~applications[column].isin(known)
        warnings += [
            (
                row,
                "warning",
                column,
                str(value),
                "category not seen in training; encoded as unknown",
            )
            for row, value in zip(
                applications.loc[unseen, ROW], applications.loc[unseen, column], strict=True
            )
        ]
    return warnings


def build_scoring_reference(train_loans: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """A typical training loan: median of each numeric feature, most frequent category otherwise."""
    rows = []
    for column in feature_columns(train_loans, dataset):
        values = train_loans[column].dropna()
        numeric = pd.api.types.is_numeric_dtype(values)
        typical = values.median() if numeric else values.mode().iloc[0]
        rows.append({"feature": column, "typical_value": typical, "numeric": numeric})
    return pd.DataFrame(rows)


def score_applications(
    applications: pd.DataFrame, champion: Any, reference: pd.DataFrame, score: dict[str, Any]
) -> pd.DataFrame:
    """Probability of default, decision at the champion's threshold and the top reasons."""
    model = unwrap_champion(champion)
    probability = model.predict_proba(applications)[:, 1]
    scored = pd.DataFrame({ROW: applications[ROW].to_numpy()})
    scored["probability_of_default"] = probability.round(6)
    scored["decision"] = np.where(probability >= model.threshold, "reject", "approve")
    scored["threshold"] = round(model.threshold, 6)
    reasons = explain(model, applications, reference, probability, int(score["reasons"]["top_n"]))
    return pd.concat([scored, reasons], axis=1)


def unwrap_champion(champion: Any) -> Any:
    """The fitted champion, whether loaded from the catalog or from the MLflow registry."""
    if hasattr(champion, "unwrap_python_model"):
        return champion.unwrap_python_model().champion
    return champion


def explain(
    model: Any,
    applications: pd.DataFrame,
    reference: pd.DataFrame,
    probability: np.ndarray,
    top_n: int,
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
            _describe_reason(name, applications[name].iloc[row], value)
            for row, (name, value) in enumerate(zip(names, values, strict=True))
        ]
        reasons[f"reason_{rank + 1}"] = shown
        reasons[f"reason_{rank + 1}_contribution"] = np.where(values > 0, values.round(4), 0.0)
    return pd.DataFrame(reasons)


def _describe_reason(feature: str, value: Any, contribution: float) -> str:
    if contribution <= 0:
        return ""
    if pd.isna(value):
        shown = "missing"
    elif isinstance(value, int | float) and abs(value) >= 1000:
        shown = f"{value:,.0f}"
    elif isinstance(value, int | float):
        shown = f"{value:.4g}"
    else:
        shown = str(value)
    return f"{feature} = {shown}"


def measure_score_drift(
    train_loans: pd.DataFrame,
    applications: pd.DataFrame,
    champion: Any,
    iv_ranking: pd.DataFrame,
    score: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """PSI of the score and of the most predictive features, training period vs this batch."""
    drift = score["drift"]
    model = unwrap_champion(champion)
    rows = [
        _psi_row(
            "score",
            model.predict_proba(train_loans)[:, 1],
            model.predict_proba(applications)[:, 1],
            drift,
        )
    ]
    top = [f for f in iv_ranking["feature"] if f in applications][: int(drift["top_features"])]
    for feature in top:
        rows.append(_psi_row(feature, train_loans[feature], applications[feature], drift))
    table = pd.DataFrame(rows)
    stable_label = drift["bands"][0]["label"]
    shifted = table.loc[table["band"] != stable_label, "name"]
    if len(shifted):
        logger.warning("Drift beyond '%s' for %s", stable_label, describe_examples(shifted))
    metrics = {f"drift_psi_{row['name']}": {"value": row["psi"], "step": 0} for row in rows}
    return table, metrics


def _psi_row(name: str, expected: Any, actual: Any, drift: dict[str, Any]) -> dict[str, Any]:
    expected, actual = pd.Series(expected), pd.Series(actual)
    if pd.api.types.is_numeric_dtype(expected):
        psi = population_stability_index(expected, actual.astype("float64"), drift["n_bins"])
    else:
        psi = psi_from_labels(expected, actual)
    return {"name": name, "psi": round(psi, 5), "band": band(psi, drift["bands"])}
