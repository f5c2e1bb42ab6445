"""Baseline nodes: heuristics scored on the same CV folds and test loans as the models."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default.parameters import Baselines, Dataset, Training
from loan_default.pipelines.lazy import baselines as _baselines
from loan_default.pipelines.lazy import binning, cross_validation, metrics, results
from loan_default.schema import target_values

logger = logging.getLogger(__name__)


def _long(scores: dict[str, np.ndarray], rows: np.ndarray, **columns: Any) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"configuration": f"baseline/{name}", **columns, "row": rows, "score": s})
            for name, s in scores.items()
        ],
        ignore_index=True,
    )


def _scorecard_enabled(baselines: Baselines) -> bool:
    return baselines.scorecard.enabled


def cross_validate_baselines(
    train_loans: pd.DataFrame,
    binning_process: binning.OptimalWoEBinning,
    cv_folds: pd.DataFrame,
    dataset: Dataset,
    baselines: Baselines,
) -> pd.DataFrame:
    """Out-of-fold baseline scores on the same folds as the models (long table)."""
    y = target_values(train_loans, dataset)
    parts = []
    for repeat, fold, fit_rows, valid_rows in cross_validation.iter_folds(cv_folds):
        fit, valid = train_loans.iloc[fit_rows], train_loans.iloc[valid_rows]
        scores = _baselines.fixed_scores(fit, y[fit_rows], valid, dataset)
        if _scorecard_enabled(baselines):
            scorecard = _baselines.make_scorecard(binning_process, baselines.scorecard)
            scores[_baselines.SCORECARD] = scorecard.fit(fit, y[fit_rows]).predict_proba(valid)[
                :, 1
            ]
        parts.append(_long(scores, valid_rows, repeat=repeat, fold=fold))
        logger.info("Baselines scored on CV repeat %d fold %d", repeat + 1, fold + 1)
    return pd.concat(parts, ignore_index=True)


def fit_scorecard(
    train_loans: pd.DataFrame,
    binning_process: binning.OptimalWoEBinning,
    dataset: Dataset,
    baselines: Baselines,
) -> _baselines.WoEScorecard:
    """The WoE logistic scorecard fitted on all training loans (on the features stage's bins,
    fitted on the same loans)."""
    scorecard = _baselines.make_scorecard(binning_process, baselines.scorecard)
    return scorecard.fit(train_loans, target_values(train_loans, dataset), binned=True)


def score_baselines_test(
    train_loans: pd.DataFrame,
    test_loans: pd.DataFrame,
    scorecard_model: _baselines.WoEScorecard,
    dataset: Dataset,
    baselines: Baselines,
) -> pd.DataFrame:
    """Baseline scores of the out-of-time test loans (fill values from training loans)."""
    scores = _baselines.fixed_scores(
        train_loans, target_values(train_loans, dataset), test_loans, dataset
    )
    if _scorecard_enabled(baselines):
        scores[_baselines.SCORECARD] = scorecard_model.predict_proba(test_loans)[:, 1]
    return _long(scores, np.arange(len(test_loans)))


def choose_baseline_operating_points(
    baseline_cv_predictions: pd.DataFrame,
    train_loans: pd.DataFrame,
    dataset: Dataset,
    baselines: Baselines,
    training: Training,
) -> dict[str, dict[str, Any]]:
    """Threshold per baseline: fixed for rules, by the objective on training scores otherwise."""
    return results.operating_points(
        baseline_cv_predictions,
        _baselines.baseline_specs(dataset, baselines),
        metrics.Outcomes.of(train_loans, dataset),
        training.threshold.objective,
    )


def band_scorecard_points(
    scorecard_model: _baselines.WoEScorecard,
    test_loans: pd.DataFrame,
    dataset: Dataset,
    baselines: Baselines,
) -> pd.DataFrame:
    """Scorecard points (PDO scaling) of the test loans in bands, with observed default rates."""
    points = scorecard_model.points(test_loans)
    width = baselines.scorecard.points.band_width
    band_start = np.floor(points / width) * width
    frame = pd.DataFrame({"band_start": band_start, "default": target_values(test_loans, dataset)})
    table = frame.groupby("band_start")["default"].agg(loans="size", defaults="sum").reset_index()
    table["band"] = [f"{start:.0f}-{start + width:.0f}" for start in table["band_start"]]
    table["default_rate"] = (table["defaults"] / table["loans"]).round(4)
    return table[["band", "loans", "defaults", "default_rate"]]
