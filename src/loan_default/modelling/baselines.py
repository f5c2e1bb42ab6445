"""Heuristic baselines every model must beat: approve everyone, rules, single-column scores,
and a WoE logistic scorecard. Scores follow the models' convention: higher = riskier."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from loan_default.validation import ConfigurationError

APPROVE_EVERYONE = "approve_everyone"
ANY_RULE = "any_rule"
SCORECARD = "woe_scorecard"


def _ordered_values(loans: pd.DataFrame, column: str, dataset: dict[str, Any]) -> pd.Series:
    """The column as numbers: ordered categories become their position in categorical_orders."""
    if column not in loans.columns:
        raise ConfigurationError(f"baseline column '{column}' is not a column of the loans table.")
    order = dataset["categorical_orders"].get(column)
    if order is None:
        return pd.to_numeric(loans[column], errors="coerce").astype(float)
    positions = {category: position for position, category in enumerate(order)}
    return loans[column].map(positions).astype(float)


def _threshold_value(value: Any, column: str, dataset: dict[str, Any]) -> float:
    order = dataset["categorical_orders"].get(column)
    return float(order.index(value)) if order is not None else float(value)


def rule_rejects(loans: pd.DataFrame, rule: dict[str, Any], dataset: dict[str, Any]) -> np.ndarray:
    """True where the rule rejects: column in `in`, above `above` or below `below`."""
    column = rule["column"]
    reject = np.zeros(len(loans), dtype=bool)
    if rule["in"] is not None:
        reject |= loans[column].isin(rule["in"]).to_numpy()
    values = _ordered_values(loans, column, dataset)
    if rule["above"] is not None:
        reject |= (values > _threshold_value(rule["above"], column, dataset)).to_numpy()
    if rule["below"] is not None:
        reject |= (values < _threshold_value(rule["below"], column, dataset)).to_numpy()
    return reject


def fixed_scores(
    fit_loans: pd.DataFrame,
    y_fit: np.ndarray,
    score_loans: pd.DataFrame,
    dataset: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Scores that need no model: the prior, each rule (0/1), their union, single columns."""
    prior = float(np.mean(y_fit))
    scores = {APPROVE_EVERYONE: np.full(len(score_loans), prior)}
    rules = dataset["baseline_rules"]
    rejects = {name: rule_rejects(score_loans, rule, dataset) for name, rule in rules.items()}
    scores |= {name: reject.astype(float) for name, reject in rejects.items()}
    if len(rejects) > 1:
        scores[ANY_RULE] = np.any(list(rejects.values()), axis=0).astype(float)
    for name, column in dataset["score_baselines"].items():
        # Missing values get the training median, i.e. an average risk.
        fill = _ordered_values(fit_loans, column, dataset).median()
        scores[name] = _ordered_values(score_loans, column, dataset).fillna(fill).to_numpy()
    return scores


def baseline_specs(dataset: dict[str, Any], baselines: dict[str, Any]) -> dict[str, dict]:
    """Operating-point spec per baseline: how its threshold is set, whether it is a probability."""

    def spec(name: str, threshold: Any, probabilistic: bool) -> tuple[str, dict]:
        return f"baseline/{name}", {
            "kind": "baseline", "model": "baseline", "strategy": name,
            "threshold": threshold, "probabilistic": probabilistic,
        }  # fmt: skip

    # Approve everyone: the training default rate for every loan, never reaching threshold 1.
    specs = [spec(APPROVE_EVERYONE, 1.0, True)]
    rules = dataset["baseline_rules"]
    specs += [spec(name, 0.5, False) for name in rules]  # a 0/1 score: reject where it is 1
    if len(rules) > 1:
        specs.append(spec(ANY_RULE, 0.5, False))
    specs += [spec(name, "objective", False) for name in dataset["score_baselines"]]
    if baselines["scorecard"]["enabled"]:
        specs.append(spec(SCORECARD, "objective", True))
    return dict(specs)


def make_scorecard(binning_process: BaseEstimator, scorecard: dict[str, Any]) -> Pipeline:
    """Unfitted WoE logistic scorecard: binning (WoE) then logistic regression."""
    model = LogisticRegression(**scorecard["model_params"])
    return Pipeline([("woe", clone(binning_process)), ("model", model)])


def to_points(default_probability: np.ndarray, points: dict[str, Any]) -> np.ndarray:
    """Scorecard points: base_points at base_odds (good:bad), +pdo points per doubling of odds."""
    probability = np.clip(np.asarray(default_probability, dtype=float), 1e-9, 1 - 1e-9)
    factor = points["pdo"] / np.log(2)
    offset = points["base_points"] - factor * np.log(points["base_odds"])
    return offset + factor * np.log((1 - probability) / probability)
