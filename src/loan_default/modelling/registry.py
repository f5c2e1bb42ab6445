"""Models and imbalance strategies by name: the grid in parameters_training.yml refers to these.

Adding a model or a strategy = one entry here, its name in loan_default/config/names.py (which
the configuration checks without importing this module), plus its YAML block.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier

from loan_default.config.names import MODEL_NAMES, MONOTONE_MODELS, STRATEGY_NAMES, check_registry
from loan_default.preprocessing.names import safe_part
from loan_default.validation import ConfigurationError


def _logistic_regression(params: dict, seed: int, n_jobs: int) -> BaseEstimator:
    # Scaled inside the model so the coefficients do not depend on the preprocessor's scales.
    model = LogisticRegression(**{"random_state": seed, **params})
    return Pipeline([("scale", StandardScaler()), ("model", model)])


def _random_forest(params: dict, seed: int, n_jobs: int) -> BaseEstimator:
    return RandomForestClassifier(**{"random_state": seed, "n_jobs": n_jobs, **params})


def _xgboost(params: dict, seed: int, n_jobs: int) -> BaseEstimator:
    return XGBClassifier(**{"random_state": seed, "n_jobs": n_jobs, **params})


def _xgboost_monotone(estimator: BaseEstimator, directions: list[int]) -> BaseEstimator:
    return estimator.set_params(monotone_constraints=tuple(directions))


def _forest_monotone(estimator: BaseEstimator, directions: list[int]) -> BaseEstimator:
    return estimator.set_params(monotonic_cst=list(directions))


def _balanced(parameter: str) -> Callable[[BaseEstimator, np.ndarray], BaseEstimator]:
    def reweight(estimator: BaseEstimator, y: np.ndarray) -> BaseEstimator:
        return estimator.set_params(**{parameter: "balanced"})

    return reweight


def _scale_pos_weight(estimator: BaseEstimator, y: np.ndarray) -> BaseEstimator:
    # Computed on the rows the model is fitted on (the training fold), never on validation rows.
    positives = max(int(np.sum(y == 1)), 1)
    return estimator.set_params(scale_pos_weight=(len(y) - positives) / positives)


@dataclass(frozen=True)
class ModelEntry:
    """How to build a model, weight its classes and (if it can) constrain it to be monotone."""

    build: Callable[[dict, int, int], BaseEstimator]
    reweight: Callable[[BaseEstimator, np.ndarray], BaseEstimator]
    # Gets one direction per input column, in order: +1 rising, -1 falling, 0 free.
    monotone: Callable[[BaseEstimator, list[int]], BaseEstimator] | None = None


@dataclass(frozen=True)
class StrategyEntry:
    """An imbalance strategy: an optional resampler, class weighting, a default threshold rule."""

    sampler: Callable[[dict, int], Any] | None = None
    reweight: bool = False
    threshold: str | float = "objective"


MODELS: dict[str, ModelEntry] = {
    "logistic_regression": ModelEntry(_logistic_regression, _balanced("model__class_weight")),
    "random_forest": ModelEntry(_random_forest, _balanced("class_weight"), _forest_monotone),
    "xgboost": ModelEntry(_xgboost, _scale_pos_weight, _xgboost_monotone),
}

STRATEGIES: dict[str, StrategyEntry] = {
    "none": StrategyEntry(),
    "class_weight": StrategyEntry(reweight=True),
    # The preprocessor's output is all numeric (encoded categories), so plain SMOTE applies;
    # SMOTENC would only be needed if raw categorical columns reached the sampler.
    "smote": StrategyEntry(sampler=lambda params, seed: SMOTE(random_state=seed, **params)),
    "undersample": StrategyEntry(
        sampler=lambda params, seed: RandomUnderSampler(random_state=seed, **params)
    ),
    # No resampling, no weights: the threshold objective alone handles the imbalance.
    "threshold_tuning": StrategyEntry(),
}
# The configuration layer checks names against these lists without importing this module.
check_registry("model", MODEL_NAMES, MODELS)
check_registry("monotone model", MONOTONE_MODELS, [n for n, e in MODELS.items() if e.monotone])
check_registry("imbalance strategy", STRATEGY_NAMES, STRATEGIES)


@dataclass(frozen=True)
class Configuration:
    """One cell of the grid: a model with its hyperparameters under one imbalance strategy."""

    model: str
    strategy: str
    model_entry: ModelEntry = field(repr=False)
    model_params: dict = field(repr=False)
    strategy_entry: StrategyEntry = field(repr=False)
    strategy_params: dict = field(repr=False)
    threshold: str | float = "objective"
    # Input column -> +1 / -1 for a monotone model (dataset.monotonic_trends), else empty.
    directions: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """Label used in every table and plot: model/strategy."""
        return f"{self.model}/{self.strategy}"

    @property
    def fit_key(self) -> str:
        """Configurations with equal keys fit identical models (e.g. none and threshold_tuning)."""
        entry = self.strategy_entry
        sampler = None if entry.sampler is None else (self.strategy, self.strategy_params)
        spec = [self.model, self.model_params, sampler, entry.reweight, self.directions]
        return json.dumps(spec, sort_keys=True, default=str)

    def make_sampler(self, seed: int) -> Any:
        """A fresh resampler, or None when the strategy does not resample."""
        sampler = self.strategy_entry.sampler
        return None if sampler is None else sampler(dict(self.strategy_params), seed)

    def make_model(
        self, y_fit: np.ndarray, seed: int, n_jobs: int, columns: Sequence[str] = ()
    ) -> BaseEstimator:
        """A fresh model, class-weighted from `y_fit` (the rows it will be fitted on) if asked,
        and monotone in the configured directions on the input `columns` that have one."""
        estimator = self.model_entry.build(dict(self.model_params), seed, n_jobs)
        if self.strategy_entry.reweight:
            estimator = self.model_entry.reweight(estimator, y_fit)
        if self.directions:
            # An encoded column keeps its raw name when it is numeric, ordinal or target
            # encoded; one-hot columns and missing indicators have other names and stay free.
            directions = [self.directions.get(column, 0) for column in columns]
            estimator = self.model_entry.monotone(estimator, directions)
        return estimator


def _lookup(registry: dict, name: str, key: str, kind: str):
    if name not in registry:
        raise ConfigurationError(
            f"{key}: unknown {kind} '{name}' (known {kind}s: {', '.join(sorted(registry))})."
        )
    return registry[name]


TREND_DIRECTIONS = {"ascending": 1, "descending": -1}


def monotone_directions(monotonic_trends: dict[str, str]) -> dict[str, int]:
    """+1 / -1 per column from dataset.monotonic_trends (curved trends impose nothing)."""
    return {
        safe_part(column): TREND_DIRECTIONS[trend]
        for column, trend in monotonic_trends.items()
        if trend in TREND_DIRECTIONS
    }


def build_grid(
    training: dict[str, Any], monotonic_trends: dict[str, str] | None = None
) -> list[Configuration]:
    """Every model x strategy of `training.models` and `training.strategies` (names validated by
    the parameters' schema; looked up here). Models with `monotone: true` follow
    `monotonic_trends` (dataset.monotonic_trends)."""
    grid, directions = [], monotone_directions(monotonic_trends or {})
    for model, model_spec in training["models"].items():
        model_entry = _lookup(MODELS, model_spec["model"], f"training.models.{model}", "model")
        for strategy, strategy_spec in training["strategies"].items():
            key = f"training.strategies.{strategy}"
            strategy_entry = _lookup(STRATEGIES, strategy_spec["strategy"], key, "strategy")
            threshold = strategy_spec["threshold"]
            grid.append(
                Configuration(
                    model=model,
                    strategy=strategy,
                    model_entry=model_entry,
                    model_params=dict(model_spec["params"]),
                    strategy_entry=strategy_entry,
                    strategy_params=dict(strategy_spec["params"]),
                    threshold=strategy_entry.threshold if threshold is None else threshold,
                    directions=directions if model_spec.get("monotone") else {},
                )
            )
    return grid
