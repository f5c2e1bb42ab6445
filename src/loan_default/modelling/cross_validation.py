"""Cross-validation of the whole grid: one preprocessing fit per fold, shared by every model."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.utils.validation import has_fit_parameter

from loan_default.validation import (
    ConfigurationError,
    DataValidationError,
    require_both_classes,
)

from .registry import Configuration

# joblib's names of training.backend's choices. joblib's "spark" backend is registered by the
# Spark engine (loan_default.spark.backend, from the SparkHook of the `spark` environment).
JOBLIB_BACKENDS = {"threads": "threading", "spark": "spark"}


def joblib_backend(name: str) -> str:
    """joblib's name of training.backend; the Spark backend only where the engine registered it."""
    backend = JOBLIB_BACKENDS[name]
    if backend not in parallel.BACKENDS:
        raise ConfigurationError(
            f"training.backend: {name} runs the grid's fits as Spark tasks, which needs the "
            "Spark engine: run with `--env spark` (its SparkHook registers joblib's Spark "
            "backend), or set training.backend: threads."
        )
    return backend


logger = logging.getLogger(__name__)

PREDICTION_COLUMNS = ["configuration", "repeat", "fold", "row", "score"]


FOLD_COLUMNS = ["scheme", "repeat", "fold", "row", "role"]


def resolve_scheme(cv: dict[str, Any], date_column: str | None) -> str:
    """`time` or `stratified`: `auto` means time-ordered folds whenever the loans have dates."""
    scheme = cv["scheme"]
    if scheme == "auto":
        return "time" if date_column else "stratified"
    if scheme == "time" and not date_column:
        raise ConfigurationError(
            "training.cv.scheme: 'time' needs dataset.date_column; set the date column or use "
            "scheme: stratified."
        )
    return scheme


def stratified_folds(y: np.ndarray, cv: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit rows, validation rows) of a seeded, repeated stratified k-fold."""
    splitter = RepeatedStratifiedKFold(
        n_splits=int(cv["n_splits"]), n_repeats=int(cv["n_repeats"]),
        random_state=cv["random_state"],
    )  # fmt: skip
    return list(splitter.split(np.zeros(len(y)), y))


def time_folds(dates: pd.Series, cv: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding windows by date: fold k fits on every loan up to a cut-off month and validates on
    the loans of the following months, up to the next cut-off. The first window holds
    `min_train_fraction` of the loans and the validation periods hold equal shares of the rest.
    A month is never split between fitting and validation."""
    if dates.isna().any():
        raise DataValidationError(
            f"time-ordered folds: {int(dates.isna().sum()):,} training loan(s) have no date."
        )
    n_splits, first = int(cv["time_splits"]), float(cv["min_train_fraction"])
    periods = pd.to_datetime(dates).dt.to_period("M")
    counts = periods.value_counts().sort_index()
    share = counts.cumsum() / counts.sum()
    targets = [first + (1 - first) * k / n_splits for k in range(n_splits)]
    cuts = [share.index[np.searchsorted(share.to_numpy(), target)] for target in targets]
    cuts.append(share.index[-1])
    if len(set(cuts)) < len(cuts):
        raise ConfigurationError(
            f"training.cv.time_splits: {n_splits} time-ordered folds need more distinct months "
            f"than the training loans have ({len(counts)}); lower time_splits."
        )
    values = periods.to_numpy()
    return [
        (np.flatnonzero(values <= start), np.flatnonzero((values > start) & (values <= end)))
        for start, end in zip(cuts[:-1], cuts[1:], strict=True)
    ]


def assign_folds(
    y: np.ndarray, dates: pd.Series | None, cv: dict[str, Any], scheme: str
) -> pd.DataFrame:
    """The folds of `scheme` as a long table: scheme, repeat, fold, row, role (fit / validate)."""
    if scheme == "time":
        splits, n_per_repeat = time_folds(dates, cv), int(cv["time_splits"])
    else:
        splits, n_per_repeat = stratified_folds(y, cv), int(cv["n_splits"])
    parts = []
    for index, (fit_rows, valid_rows) in enumerate(splits):
        for role, rows in (("fit", fit_rows), ("validate", valid_rows)):
            require_both_classes(pd.Series(y[rows]), f"{scheme} CV fold {index + 1} ({role} rows)")
            parts.append(
                pd.DataFrame(
                    {
                        "scheme": scheme,
                        "repeat": index // n_per_repeat,
                        "fold": index % n_per_repeat,
                        "row": rows,
                        "role": role,
                    }
                )  # fmt: skip
            )
    return pd.concat(parts, ignore_index=True)[FOLD_COLUMNS]


def iter_folds(folds: pd.DataFrame) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """(repeat, fold, fit rows, validation rows) of a fold table, in order."""
    for (repeat, fold), part in folds.groupby(["repeat", "fold"], sort=True):
        roles = part["role"].to_numpy()
        rows = part["row"].to_numpy()
        yield int(repeat), int(fold), rows[roles == "fit"], rows[roles == "validate"]


def fit_model(
    configuration: Configuration,
    X: pd.DataFrame,
    y: np.ndarray,
    seed: int,
    n_jobs: int,
    weights: np.ndarray | None = None,
) -> tuple[Any, BaseEstimator]:
    """Resample the given (training) rows if the strategy says so, then fit the model on them
    (with the sampling weights of a sampled table, when there are any)."""
    sampler = configuration.make_sampler(seed)
    if sampler is not None:
        # A resampler draws the classes again itself; sampling weights do not survive it.
        X, y = sampler.fit_resample(X, y)
        weights = None
    model = configuration.make_model(np.asarray(y), seed, n_jobs, list(X.columns))
    return sampler, model.fit(X, y, **weight_parameters(model, weights))


def weight_parameters(model: BaseEstimator, weights: np.ndarray | None) -> dict[str, Any]:
    """`fit` keywords passing sample weights to the model (and to each step of a pipeline
    that takes them, e.g. the scaler of the logistic regression)."""
    if weights is None:
        return {}
    if isinstance(model, SkPipeline):
        return {
            f"{name}__sample_weight": weights
            for name, step in model.steps
            if has_fit_parameter(step, "sample_weight")
        }
    return {"sample_weight": weights}


@dataclass(frozen=True)
class GridPlan:
    """The configurations to fit and how: every fit seeded from `seed`, `n_jobs` fits at a time
    on `backend` (training.backend), and the input columns a configuration leaves out."""

    grid: list[Configuration]
    seed: int
    n_jobs: int = 1
    backend: str = "threads"
    excluded_features: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, grid: list[Configuration], training: Any, excluded: dict[str, list[str]] | None = None
    ) -> GridPlan:
        """The plan `training` sets (random_state, n_jobs, backend) for these configurations."""
        return cls(
            grid, training["random_state"], training["n_jobs"], training["backend"], excluded or {}
        )

    def excluded(self, configuration: Configuration) -> list[str]:
        """The input columns `configuration` leaves out."""
        return self.excluded_features.get(configuration.name, [])

    def key(self, configuration: Configuration) -> str:
        """Equal keys fit identical models on identical inputs."""
        return configuration.fit_key + repr(sorted(self.excluded(configuration)))

    def distinct(self) -> list[tuple[str, Configuration]]:
        """One configuration per key, resampling ones first: they are the longest, and two
        threads end closer together."""
        distinct = {self.key(c): c for c in self.grid}.items()
        return sorted(distinct, key=lambda item: item[1].strategy_entry.sampler is None)


def fit_configurations(
    X: pd.DataFrame, y: np.ndarray, plan: GridPlan, weights: np.ndarray | None = None
) -> dict[str, tuple[Any, BaseEstimator]]:
    """Every configuration of the plan fitted on all rows of X, `plan.n_jobs` fits at a time,
    each fit single-threaded (identical configurations fitted once): name -> (sampler, model)."""
    distinct = plan.distinct()
    progress = _Progress(len(distinct))

    def fit(configuration: Configuration) -> tuple[Any, BaseEstimator]:
        tick = time.perf_counter()
        inputs = X.drop(columns=plan.excluded(configuration))
        fitted = fit_model(configuration, inputs, y, plan.seed, n_jobs=1, weights=weights)
        logger.info(
            "Final fit %s: %s, %.1f s",
            progress.step(), configuration.name, time.perf_counter() - tick,
        )  # fmt: skip
        return fitted

    fits = Parallel(n_jobs=plan.n_jobs, backend=joblib_backend(plan.backend))(
        delayed(fit)(c) for _, c in distinct
    )
    by_key = {k: fitted for (k, _), fitted in zip(distinct, fits, strict=True)}
    return {c.name: by_key[plan.key(c)] for c in plan.grid}


class _Progress:
    """`i of N` for fits finishing in any order, on any thread (`next` on a count is atomic;
    no lock, so the fit functions still pickle for the Spark backend)."""

    def __init__(self, total: int) -> None:
        self._total, self._done = total, itertools.count(1)

    def step(self) -> str:
        """Count one finished fit; e.g. `7 of 48`."""
        return f"{next(self._done)} of {self._total}"


@dataclass(frozen=True)
class PreparedFold:
    """One fold's rows and its preprocessed matrices (preprocessing fitted on the fit rows)."""

    repeat: int
    fold: int
    fit_rows: np.ndarray
    valid_rows: np.ndarray
    X_fit: pd.DataFrame
    X_valid: pd.DataFrame


def prepare_folds(
    loans: pd.DataFrame, y: np.ndarray, preprocessor: BaseEstimator, fold_table: pd.DataFrame
) -> list[PreparedFold]:
    """Preprocess every fold once, fitted on its fit rows only; every model of the grid, the
    ablation and the tuning trials reuse these matrices. (Sequential: the text and encoding
    steps hold the GIL, so threads would not overlap them.)"""
    folds = list(iter_folds(fold_table))
    prepared = []
    for repeat, fold, fit_rows, valid_rows in folds:
        started = time.perf_counter()
        # fit_transform, not fit().transform(): target encodings and text scores are
        # cross-fitted on the fold's fit rows, as they are for the final fit.
        fold_preprocessor = clone(preprocessor)
        X_fit = fold_preprocessor.fit_transform(loans.iloc[fit_rows], y[fit_rows])
        X_valid = fold_preprocessor.transform(loans.iloc[valid_rows])
        prepared.append(PreparedFold(repeat, fold, fit_rows, valid_rows, X_fit, X_valid))
        logger.info(
            "CV repeat %d fold %d/%d: preprocessed %d + %d loans in %.1f s",
            repeat + 1, fold + 1, len(folds), len(fit_rows), len(valid_rows),
            time.perf_counter() - started,
        )  # fmt: skip
    return prepared


def cross_validate_grid(
    folds: list[PreparedFold], y: np.ndarray, plan: GridPlan, weights: np.ndarray | None = None
) -> pd.DataFrame:
    """Out-of-fold default probabilities of every configuration of the plan (long table, one
    row per validated loan).

    The fits (fold x distinct configuration) run `plan.n_jobs` at a time in threads: the estimators
    release the GIL while fitting, and threads share the fold matrices instead of copying them.
    Each fit is seeded on its own, so the result does not depend on `n_jobs`.
    """
    tasks = [(prepared, k, c) for prepared in folds for k, c in plan.distinct()]
    progress = _Progress(len(tasks))

    def fit_and_score(prepared: PreparedFold, configuration: Configuration) -> np.ndarray:
        tick = time.perf_counter()
        excluded = plan.excluded(configuration)
        X_fit, X_valid = (X.drop(columns=excluded) for X in (prepared.X_fit, prepared.X_valid))
        fit_weights = None if weights is None else weights[prepared.fit_rows]
        _, model = fit_model(
            configuration, X_fit, y[prepared.fit_rows], plan.seed, n_jobs=1, weights=fit_weights
        )
        logger.info(
            "CV fit %s: fold %d %s, %.1f s",
            progress.step(), prepared.fold + 1, configuration.name, time.perf_counter() - tick,
        )  # fmt: skip
        return model.predict_proba(X_valid)[:, 1]

    scores = Parallel(n_jobs=plan.n_jobs, backend=joblib_backend(plan.backend))(
        delayed(fit_and_score)(prepared, configuration) for prepared, _, configuration in tasks
    )
    by_task = {
        (id(prepared), k): score for (prepared, k, _), score in zip(tasks, scores, strict=True)
    }
    predictions = [
        pd.DataFrame(
            {
                "configuration": configuration.name,
                "repeat": prepared.repeat,
                "fold": prepared.fold,
                "row": prepared.valid_rows,
                "score": by_task[(id(prepared), plan.key(configuration))],
            }
        )
        for prepared in folds
        for configuration in plan.grid
    ]
    return pd.concat(predictions, ignore_index=True)


def out_of_fold_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """One score per configuration and training row, averaged over CV repeats (wide table)."""
    return predictions.pivot_table(
        index="row", columns="configuration", values="score", aggfunc="mean"
    ).sort_index()
