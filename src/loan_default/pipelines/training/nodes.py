"""Training nodes: cross-validate the model x strategy grid, fit it on all training loans,
score the out-of-time test loans once, and assemble the champion."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from loan_default.config.names import GREATER_IS_BETTER
from loan_default.parameters import Dataset, Training
from loan_default.pipelines.lazy import (
    calibration,
    cross_validation,
    ensemble,
    registry,
    results,
    sklearn_base,
    sklearn_model_selection,
)
from loan_default.pipelines.lazy import champion as _champion
from loan_default.pipelines.lazy import metrics as _metrics
from loan_default.schema import sample_weights, target_values

logger = logging.getLogger(__name__)


def preprocess_folds(
    train_loans: pd.DataFrame,
    fitted_preprocessor: sklearn_base.BaseEstimator,
    folds: pd.DataFrame,
    dataset: Dataset,
) -> list[cross_validation.PreparedFold]:
    """Each fold's preprocessed fit and validation rows (an unfitted clone of the preprocessor
    is fitted on the fold's fit rows only)."""
    if folds.empty:
        return []
    # Each fold's fit and validation rows already hold both classes (split.assign_cv_folds).
    return cross_validation.prepare_folds(
        train_loans, target_values(train_loans, dataset), fitted_preprocessor, folds
    )


def cross_validate_models(
    prepared_folds: list[cross_validation.PreparedFold],
    train_loans: pd.DataFrame,
    dataset: Dataset,
    training: Training,
) -> pd.DataFrame:
    """Out-of-fold scores of every model x strategy and ensemble on the prepared folds of the
    training loans (long table; empty when there are no folds)."""
    if not prepared_folds:
        return pd.DataFrame(columns=cross_validation.PREDICTION_COLUMNS)
    grid = registry.build_grid(training, dataset.monotonic_trends)
    _metrics.selection_metrics(training)  # fail on a misnamed metric before minutes of fitting
    started = time.perf_counter()
    predictions = cross_validation.cross_validate_grid(
        prepared_folds, target_values(train_loans, dataset),
        cross_validation.GridPlan.of(grid, training), sample_weights(train_loans),
    )  # fmt: skip
    logger.info(
        "Cross-validated %d configurations on %d folds in %.1f s",
        len(grid), len(prepared_folds), time.perf_counter() - started,
    )  # fmt: skip
    return ensemble.add_ensemble_predictions(predictions, ensemble.ensemble_members(training))


def fit_calibrators(
    cv_predictions: pd.DataFrame,
    train_loans: pd.DataFrame,
    dataset: Dataset,
    training: Training,
) -> dict[str, calibration.ScoreCalibrator]:
    """Per configuration, a calibrator fitted on its out-of-fold scores (identity if not set);
    `auto` chooses its method on the validation folds (modelling/calibration.py)."""
    settings = training.calibration
    if settings.method == "auto":
        y = target_values(train_loans, dataset)
        scheme = cross_validation.resolve_scheme(training.cv, dataset.date_column)
        chosen = {
            name: calibration.choose_calibrator(
                rows, y, settings.candidates, settings.scoring_rule, scheme == "time"
            )
            for name, rows in cv_predictions.groupby("configuration", sort=True)
        }
        logger.info(
            "Calibration chosen on the validation folds (%s): %s",
            settings.scoring_rule,
            ", ".join(f"{name} {c.method or 'none'}" for name, c in chosen.items()),
        )
        return chosen
    oof = cross_validation.out_of_fold_scores(cv_predictions)
    y = target_values(train_loans, dataset)[oof.index.to_numpy()]
    return {
        name: calibration.ScoreCalibrator(settings.method).fit(oof[name].to_numpy(), y)
        for name in oof.columns
    }


def calibrate_predictions(
    predictions: pd.DataFrame, calibrators: dict[str, calibration.ScoreCalibrator]
) -> pd.DataFrame:
    """Apply each configuration's calibrator to its scores."""
    calibrated = predictions.copy()
    for name, rows in calibrated.groupby("configuration", sort=False).groups.items():
        scores = calibrated.loc[rows, "score"].to_numpy()
        calibrated.loc[rows, "score"] = calibrators[name].transform(scores)
    return calibrated


def choose_operating_points(
    cv_predictions: pd.DataFrame,
    train_loans: pd.DataFrame,
    dataset: Dataset,
    training: Training,
) -> dict[str, dict[str, Any]]:
    """Threshold per configuration, chosen on out-of-fold training scores (never test)."""
    configurations = {
        configuration.name: {
            "kind": "model",
            "model": configuration.model,
            "strategy": configuration.strategy,
            "threshold": configuration.threshold,
            "probabilistic": True,
        }
        for configuration in registry.build_grid(training)
    } | ensemble.ensemble_operating_specs(training)
    return results.operating_points(
        cv_predictions,
        configurations,
        _metrics.Outcomes.of(train_loans, dataset),
        training.threshold.objective,
    )


def fit_final_models(
    train_features: pd.DataFrame,
    fitted_preprocessor: sklearn_base.BaseEstimator,
    dataset: Dataset,
    training: Training,
) -> dict[str, tuple[Any, sklearn_base.BaseEstimator]]:
    """Every configuration fitted once on all training loans: name -> (sampler, fitted model);
    an ensemble averages its members' fits."""
    y = target_values(train_features, dataset)
    # The features stage's own fit_transform of the training loans: no second preprocessing
    # fit, and target encodings and text scores stay cross-fitted
    # (fitted_preprocessor.transform(train_loans) would hand every training loan an encoding
    # that saw its own label).
    X = train_features[list(fitted_preprocessor.get_feature_names_out())]
    return ensemble.fit_with_ensembles(
        X, y, training, dataset.monotonic_trends, weights=sample_weights(train_features)
    )


def score_test_loans(
    final_models: dict[str, tuple[Any, sklearn_base.BaseEstimator]],
    calibrators: dict[str, calibration.ScoreCalibrator],
    fitted_preprocessor: sklearn_base.BaseEstimator,
    test_features: pd.DataFrame,
) -> pd.DataFrame:
    """Calibrated default probabilities of every configuration on the out-of-time test loans
    (their features as the features stage encoded them, once)."""
    X = test_features[list(fitted_preprocessor.get_feature_names_out())]
    rows = np.arange(len(test_features))
    # Configurations with identical fits share one fitted object (fit_configurations): each
    # object is scored once.
    raw: dict[int, np.ndarray] = {}
    for _, model in final_models.values():
        if id(model) not in raw:
            raw[id(model)] = model.predict_proba(X)[:, 1]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "configuration": name,
                    "row": rows,
                    "score": calibrators[name].transform(raw[id(model)]),
                }
            )
            for name, (_, model) in final_models.items()
        ],
        ignore_index=True,
    )


def select_champion(
    cv_results: pd.DataFrame, operating_points: dict[str, dict[str, Any]], training: Training
) -> dict[str, Any]:
    """Best configuration by the primary metric's CV mean (ties: the tie-breaker's CV mean),
    among those whose operating point catches at least training.selection.min_recall of defaults."""
    metrics = _metrics.selection_metrics(training)
    means = cv_results.groupby("configuration")[metrics].mean()
    stds = cv_results.groupby("configuration")[metrics].std(ddof=1)
    recall = cv_results.groupby("configuration")["recall"].mean()
    floor = training.selection.min_recall
    contenders = recall.index[recall >= floor]
    if contenders.empty:
        logger.warning(
            "Every configuration catches fewer than %.0f%% of defaults at its operating point "
            "(training.selection.min_recall); the champion is chosen among all of them",
            100 * floor,
        )
        contenders = recall.index
    ranked = means.loc[contenders].sort_values(
        metrics, ascending=[not GREATER_IS_BETTER[metric] for metric in metrics], kind="mergesort"
    )
    name, primary = ranked.index[0], metrics[0]
    champion = {
        "configuration": name,
        "model": operating_points[name]["model"],
        "strategy": operating_points[name]["strategy"],
        "threshold": operating_points[name]["threshold"],
        "threshold_rule": operating_points[name]["threshold_rule"],
        "primary_metric": primary,
        f"cv_{primary}_mean": float(means.loc[name, primary]),
        f"cv_{primary}_std": float(stds.loc[name, primary]),
    }
    logger.info("Champion: %s (CV %s %.4f)", name, primary, means.loc[name, primary])
    return champion


def build_champion_model(
    champion: dict[str, Any],
    final_models: dict[str, tuple[Any, sklearn_base.BaseEstimator]],
    calibrators: dict[str, calibration.ScoreCalibrator],
    fitted_preprocessor: sklearn_base.BaseEstimator,
) -> sklearn_model_selection.FixedThresholdClassifier:
    """The champion as one end-to-end classifier of loans frames, with its threshold."""
    name = champion["configuration"]
    sampler, model = final_models[name]
    return _champion.build_champion(
        fitted_preprocessor, sampler, model, calibrators[name], champion["threshold"]
    )
