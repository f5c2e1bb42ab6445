"""Cross-validation of the whole grid: one preprocessing fit per fold, shared by every model."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import RepeatedStratifiedKFold

from .registry import Configuration

logger = logging.getLogger(__name__)

PREDICTION_COLUMNS = ["configuration", "repeat", "fold", "row", "score"]


def make_folds(
    y: np.ndarray, cv: dict[str, Any]
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """(repeat, fold, training rows, validation rows), stratified and seeded from `cv`."""
    n_splits = int(cv["n_splits"])
    splitter = RepeatedStratifiedKFold(
        n_splits=n_splits, n_repeats=int(cv["n_repeats"]), random_state=cv["random_state"]
    )
    for index, (fit_rows, valid_rows) in enumerate(splitter.split(np.zeros(len(y)), y)):
        yield index // n_splits, index % n_splits, fit_rows, valid_rows


def fit_model(
    configuration: Configuration, X: pd.DataFrame, y: np.ndarray, seed: int, n_jobs: int
) -> tuple[Any, BaseEstimator]:
    """Resample the given (training) rows if the strategy says so, then fit the model on them."""
    sampler = configuration.make_sampler(seed)
    if sampler is not None:
        X, y = sampler.fit_resample(X, y)
    model = configuration.make_model(np.asarray(y), seed, n_jobs)
    return sampler, model.fit(X, y)


def cross_validate_grid(
    loans: pd.DataFrame,
    y: np.ndarray,
    preprocessor: BaseEstimator,
    grid: list[Configuration],
    cv: dict[str, Any],
    seed: int,
    n_jobs: int,
) -> pd.DataFrame:
    """Out-of-fold default probabilities of every configuration (long table, one row per loan)."""
    predictions = []
    folds = list(make_folds(y, cv))
    for repeat, fold, fit_rows, valid_rows in folds:
        started = time.perf_counter()
        # Fitted once per fold, on the fold's training rows, and reused by every configuration.
        # fit_transform, not fit().transform(): a target encoder cross-fits its training rows.
        fold_preprocessor = clone(preprocessor)
        X_fit = fold_preprocessor.fit_transform(loans.iloc[fit_rows], y[fit_rows])
        X_valid = fold_preprocessor.transform(loans.iloc[valid_rows])
        logger.info(
            "CV repeat %d fold %d/%d: preprocessed %d + %d loans in %.1f s",
            repeat + 1, fold + 1, len(folds), len(fit_rows), len(valid_rows),
            time.perf_counter() - started,
        )  # fmt: skip
        fitted: dict[str, np.ndarray] = {}
        for position, configuration in enumerate(grid, start=1):
            tick = time.perf_counter()
            key = configuration.fit_key
            if key not in fitted:
                _, model = fit_model(configuration, X_fit, y[fit_rows], seed, n_jobs)
                fitted[key] = model.predict_proba(X_valid)[:, 1]
            predictions.append(
                pd.DataFrame(
                    {
                        "configuration": configuration.name,
                        "repeat": repeat,
                        "fold": fold,
                        "row": valid_rows,
                        "score": fitted[key],
                    }
                )
            )
            logger.info(
                "  configuration %d/%d %s: %.1f s",
                position, len(grid), configuration.name, time.perf_counter() - tick,
            )  # fmt: skip
    return pd.concat(predictions, ignore_index=True)


def out_of_fold_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """One score per configuration and training row, averaged over CV repeats (wide table)."""
    return predictions.pivot_table(
        index="row", columns="configuration", values="score", aggfunc="mean"
    ).sort_index()
