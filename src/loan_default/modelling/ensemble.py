"""Ensemble candidates: the mean default probability of a few grid configurations.

An ensemble competes like any configuration: its out-of-fold scores are the mean of its members'
out-of-fold scores on the same folds, its threshold is chosen on them, and it can win only on
validation. Probabilities are averaged, not ranks: a rank depends on the batch being scored, and
the champion must give one applicant the same probability alone or in a batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from .cross_validation import GridPlan, fit_configurations
from .registry import build_grid

MODEL = "ensemble"


def ensemble_members(training: dict[str, Any]) -> dict[str, list[str]]:
    """Configuration name (`ensemble/<label>`) -> member configuration names."""
    return {
        f"{MODEL}/{label}": list(spec["members"]) for label, spec in training["ensembles"].items()
    }


def ensemble_operating_specs(training: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Operating-point specs of the ensembles: threshold by the objective, like the models."""
    return {
        name: {
            "kind": "model",
            "model": MODEL,
            "strategy": name.split("/", 1)[1],
            "threshold": "objective",
            "probabilistic": True,
        }
        for name in ensemble_members(training)
    }


def add_ensemble_predictions(
    predictions: pd.DataFrame, members: dict[str, list[str]]
) -> pd.DataFrame:
    """Long predictions plus each ensemble's rows: the mean of its members' scores per row."""
    if predictions.empty or not members:
        return predictions
    keys = [column for column in predictions.columns if column not in {"configuration", "score"}]
    parts = [predictions]
    for name, names in members.items():
        chosen = predictions[predictions["configuration"].isin(names)]
        mean = chosen.groupby(keys, sort=False, as_index=False)["score"].mean()
        parts.append(mean.assign(configuration=name)[predictions.columns])
    return pd.concat(parts, ignore_index=True)


class AveragedClassifier(ClassifierMixin, BaseEstimator):
    """Mean `predict_proba` of its estimators (fitted by `fit`, or given already fitted)."""

    def __init__(self, estimators: list[BaseEstimator] | None = None):
        self.estimators = estimators

    @classmethod
    def of_fitted(cls, estimators: list[BaseEstimator]) -> AveragedClassifier:
        """An ensemble of estimators fitted elsewhere (the grid's final fits)."""
        ensemble = cls(estimators)
        ensemble.estimators_ = list(estimators)
        ensemble.classes_ = np.asarray(estimators[0].classes_)
        return ensemble

    def fit(self, X: Any, y: Any) -> AveragedClassifier:
        """Fit a clone of every estimator on the same rows."""
        self.estimators_ = [clone(estimator).fit(X, y) for estimator in self.estimators or []]
        self.classes_ = np.asarray(self.estimators_[0].classes_)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean class probabilities of the estimators."""
        check_is_fitted(self, "estimators_")
        return np.mean([estimator.predict_proba(X) for estimator in self.estimators_], axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def fit_with_ensembles(
    X: pd.DataFrame,
    y: np.ndarray,
    training: dict[str, Any],
    monotonic_trends: dict[str, str],
    only: list[str] | None = None,
    weights: np.ndarray | None = None,
) -> dict[str, tuple[Any, BaseEstimator]]:
    """Grid configurations fitted on all rows of X, and each ensemble averaging its members'
    fits: name -> (sampler, fitted model). `only`: just these configurations or ensembles."""
    members = ensemble_members(training)
    needed = None
    if only is not None:
        needed = {m for name in only for m in members.get(name, [name])}
    grid = [c for c in build_grid(training, monotonic_trends) if needed is None or c.name in needed]
    models = fit_configurations(X, y, GridPlan.of(grid, training), weights)
    for name, names in members.items():
        if all(member in models for member in names):
            models[name] = (None, AveragedClassifier.of_fitted([models[m][1] for m in names]))
    return models
