"""Models and imbalance strategies by name: the grid in parameters_training.yml refers to these.

Adding a model = one `ModelEntry` here (its factory, class weighting, monotone constraints,
explainer and search space; its pip requirements follow from the estimator the factory builds),
its name in loan_default/config/names.py (which the configuration checks without importing this
module; a name on one side only stops the first run), plus its YAML block. docs/add-a-model.md
shows the whole change for the neural network.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from xgboost import DMatrix, XGBClassifier

from loan_default.config.names import MODEL_NAMES, MONOTONE_MODELS, STRATEGY_NAMES, check_registry
from loan_default.parameters import SearchRange
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


def _neural_network(params: dict, seed: int, n_jobs: int) -> BaseEstimator:
    # Gradient descent needs inputs on one scale: standardised inside the model, as for the
    # logistic regression. Layer sizes, early stopping and the rest come from the parameters.
    model = MLPClassifier(**{"random_state": seed, **params})
    return Pipeline([("scale", StandardScaler()), ("model", model)])


def _xgboost_monotone(estimator: BaseEstimator, directions: list[int]) -> BaseEstimator:
    return estimator.set_params(monotone_constraints=tuple(directions))


def _forest_monotone(estimator: BaseEstimator, directions: list[int]) -> BaseEstimator:
    return estimator.set_params(monotonic_cst=list(directions))


def _balanced(parameter: str) -> Callable[[BaseEstimator, np.ndarray], BaseEstimator]:
    def reweight(estimator: BaseEstimator, y: np.ndarray) -> BaseEstimator:
        return estimator.set_params(**{parameter: "balanced"})

    return reweight


class BalancedFit(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fits `estimator` with balanced class weights as sample weights (times any sampling
    weights): `class_weight="balanced"` for a model without that parameter."""

    def __init__(self, estimator: BaseEstimator):
        self.estimator = estimator

    def fit(self, X: Any, y: Any, sample_weight: np.ndarray | None = None) -> BalancedFit:
        """Fit a clone of `estimator`, each class weighing as much as the other."""
        weights = compute_sample_weight("balanced", y)
        if sample_weight is not None:
            weights = weights * np.asarray(sample_weight, dtype=float)
        self.estimator_ = clone(self.estimator).fit(X, y, sample_weight=weights)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The fitted estimator's class probabilities."""
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """The fitted estimator's classes."""
        return self.estimator_.predict(X)


def _balanced_fit(step: str) -> Callable[[BaseEstimator, np.ndarray], BaseEstimator]:
    def reweight(estimator: BaseEstimator, y: np.ndarray) -> BaseEstimator:
        return estimator.set_params(**{step: BalancedFit(estimator.get_params()[step])})

    return reweight


def _scale_pos_weight(estimator: BaseEstimator, y: np.ndarray) -> BaseEstimator:
    # Computed on the rows the model is fitted on (the training fold), never on validation rows.
    positives = max(int(np.sum(y == 1)), 1)
    return estimator.set_params(scale_pos_weight=(len(y) - positives) / positives)


def _sigmoid(log_odds: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-log_odds))


# An additive explanation of one fitted model: log-odds contributions (rows x encoded columns)
# and the probability per row, given the encoded rows and whether to be exact.
Contributions = Callable[[BaseEstimator, pd.DataFrame, bool], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Additive:
    """A model whose log-odds are a sum over its inputs: its reasons come from its own
    contributions (modelling.reasons) instead of occlusion."""

    explains: Callable[[BaseEstimator], bool]  # is this fitted estimator one of the entry's?
    contributions: Contributions


def _xgboost_contributions(
    estimator: BaseEstimator, X: pd.DataFrame, exact: bool
) -> tuple[np.ndarray, np.ndarray]:
    # Exact: TreeSHAP; otherwise the per-path attribution (Saabas), much faster.
    matrix = DMatrix(X.to_numpy(dtype="float32"), feature_names=list(X.columns))
    booster = estimator.get_booster()
    booster.set_param({"nthread": os.cpu_count() or 1})  # fitted single-threaded (the grid)
    contributions = booster.predict(matrix, pred_contribs=True, approx_contribs=not exact)
    return contributions[:, :-1], _sigmoid(contributions.sum(axis=1))


def _linear_contributions(
    estimator: BaseEstimator, X: pd.DataFrame, exact: bool
) -> tuple[np.ndarray, np.ndarray]:
    # Coefficient x scaled value, in log-odds: exact for a linear model.
    scaled = np.asarray(estimator[:-1].transform(X), dtype=float) if len(estimator) > 1 else X
    model = estimator[-1]
    contributions = np.asarray(scaled, dtype=float) * model.coef_[0]
    return contributions, _sigmoid(contributions.sum(axis=1) + model.intercept_[0])


def _is_scaled_logistic(estimator: BaseEstimator) -> bool:
    return isinstance(estimator, Pipeline) and isinstance(estimator[-1], LogisticRegression)


# A range of a search space, checked and shaped as the parameters' `tuning.search_spaces`.
def _range(low: float, high: float, log: bool = False, integer: bool = False) -> dict[str, Any]:
    return SearchRange(low=low, high=high, log=log, integer=integer).model_dump()


@dataclass(frozen=True)
class ModelEntry:
    """Everything about one model: how to build it, weight its classes, (if it can) constrain
    it to be monotone, explain its scores and search its hyperparameters."""

    build: Callable[[dict, int, int], BaseEstimator]
    reweight: Callable[[BaseEstimator, np.ndarray], BaseEstimator]
    # Gets one direction per input column, in order: +1 rising, -1 falling, 0 free.
    monotone: Callable[[BaseEstimator, list[int]], BaseEstimator] | None = None
    # None: reasons by occlusion (the PD with each input column set to a typical approved
    # applicant's value), which any model with predict_proba supports.
    explainer: Additive | None = None
    # `kedro run --pipeline tune` searches these ranges unless tuning.search_spaces is given;
    # empty: the model is not tuned.
    search_space: dict[str, dict[str, Any]] = field(default_factory=dict)

    def libraries(self) -> set[str]:
        """Top-level modules of the estimators the factory builds (their pip requirements)."""
        return estimator_libraries(self.build({}, 0, 1))


def estimator_libraries(estimator: BaseEstimator) -> set[str]:
    """Top-level modules of an estimator's class and of every estimator among its parameters."""
    found = {type(estimator).__module__.split(".")[0]}
    for value in estimator.get_params(deep=True).values():
        if isinstance(value, BaseEstimator):
            found.add(type(value).__module__.split(".")[0])
        elif isinstance(value, list):  # a Pipeline's steps
            for item in value:
                step = item[1] if isinstance(item, tuple) and len(item) == 2 else item
                if isinstance(step, BaseEstimator):
                    found |= estimator_libraries(step)
    return found


@dataclass(frozen=True)
class StrategyEntry:
    """An imbalance strategy: an optional resampler, class weighting, a default threshold rule."""

    sampler: Callable[[dict, int], Any] | None = None
    reweight: bool = False
    threshold: str | float = "objective"


MODELS: dict[str, ModelEntry] = {
    "logistic_regression": ModelEntry(
        _logistic_regression,
        _balanced("model__class_weight"),
        explainer=Additive(_is_scaled_logistic, _linear_contributions),
        search_space={"C": _range(1e-3, 10.0, log=True)},
    ),
    "random_forest": ModelEntry(_random_forest, _balanced("class_weight"), _forest_monotone),
    "xgboost": ModelEntry(
        _xgboost,
        _scale_pos_weight,
        _xgboost_monotone,
        explainer=Additive(lambda e: isinstance(e, XGBClassifier), _xgboost_contributions),
        search_space={
            "n_estimators": _range(100, 1000, log=True, integer=True),
            "learning_rate": _range(0.01, 0.2, log=True),
            "max_depth": _range(2, 6, integer=True),
            "min_child_weight": _range(1, 100, log=True),
            "subsample": _range(0.5, 1.0),
            "colsample_bytree": _range(0.3, 1.0),
            "reg_lambda": _range(0.1, 100.0, log=True),
        },
    ),
    "neural_network": ModelEntry(
        _neural_network,
        _balanced_fit("model"),  # MLPClassifier has no class_weight: weights at fit
        search_space={
            "alpha": _range(1e-5, 1.0, log=True),
            "learning_rate_init": _range(1e-4, 1e-2, log=True),
        },
    ),
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


def additive_explainer(estimator: BaseEstimator) -> Contributions | None:
    """The contributions function of the registry entry that built this fitted estimator, or
    None when its entry has no additive explainer (or no entry built it)."""
    for entry in MODELS.values():
        if entry.explainer is not None and entry.explainer.explains(estimator):
            return entry.explainer.contributions
    return None


@cache
def model_libraries() -> frozenset[str]:
    """Top-level modules of every registered model (loading this module imports them all)."""
    return frozenset().union(*(entry.libraries() for entry in MODELS.values()))


def search_space(training: dict[str, Any], tuning: dict[str, Any], label: str) -> dict:
    """The ranges searched for model `label`: `tuning.search_spaces.<label>` when the
    configuration gives search spaces, else its registry entry's."""
    if tuning["search_spaces"] is not None:
        return tuning["search_spaces"].get(label) or {}
    return MODELS[training["models"][label]["model"]].search_space


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
