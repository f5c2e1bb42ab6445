"""Rating nodes: fit the master scale on the champion's out-of-fold training PDs, and backtest
the champion's PDs grade by grade on the test loans (the ECB's Jeffreys test and the overall
calibration checks)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default.parameters import Dataset, Rating
from loan_default.pipelines.lazy import backtest, calibration, cross_validation, rating, tracking
from loan_default.schema import target_values
from loan_default.validation import DataValidationError

logger = logging.getLogger(__name__)


def fit_rating_scale(
    cv_predictions: pd.DataFrame,
    champion: dict[str, Any],
    train_loans: pd.DataFrame,
    dataset: Dataset,
    rating_settings: Rating,
) -> rating.MasterScale:
    """The master scale: PD bands chosen on the champion's calibrated out-of-fold PDs."""
    oof = cross_validation.out_of_fold_scores(cv_predictions)[champion["configuration"]].dropna()
    y = target_values(train_loans, dataset)[oof.index.to_numpy()]
    scale = rating.fit_master_scale(
        oof.to_numpy(), y, rating_settings.grades, rating_settings.min_share,
        rating_settings.distinct_at,
    )  # fmt: skip
    logger.info(
        "Master scale: %d grades (of %d asked) on %d out-of-fold training PDs",
        scale.grades, rating_settings.grades, len(oof),
    )  # fmt: skip
    return scale


def tabulate_rating_scale(scale: rating.MasterScale) -> pd.DataFrame:
    """The master scale as a table (PD band, grade PD, training loans, share, default rate)."""
    return scale.table()


def backtest_ratings(
    test_predictions: pd.DataFrame,
    champion: dict[str, Any],
    calibrators: dict[str, calibration.ScoreCalibrator],
    scale: rating.MasterScale,
    test_loans: pd.DataFrame,
    dataset: Dataset,
    rating_settings: Rating,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, float]]]:
    """Per grade on the test loans: loans, defaults, mean PD, observed default rate, Jeffreys
    p-value and light; overall checks as a table and as `calibration.*` metrics."""
    pd_test = _champion_pds(test_predictions, champion["configuration"], len(test_loans))
    y = target_values(test_loans, dataset)
    grades = scale.grade(pd_test)
    thresholds = backtest.LightThresholds(rating_settings.amber, rating_settings.red)
    table = backtest.grade_backtest(y, pd_test, grades, thresholds)
    bands = scale.table().set_index("rating_grade")
    table = table.join(bands[["pd_lower", "pd_upper", "grade_pd"]], on="rating_grade")
    table = table.rename(columns={"grade_pd": "training_grade_pd"})
    table.insert(2, "share", table["loans"] / table["loans"].sum())
    overall = _overall(y, pd_test, grades, table, calibrators[champion["configuration"]])
    overall["jeffreys_pass_goal"] = rating_settings.pass_goal
    logger.info(
        "Backtest of %d test loans in %d grades: %d green, %d amber, %d red (Jeffreys)",
        len(y), len(table), *(int((table["traffic_light"] == c).sum()) for c in backtest.LIGHTS),
    )  # fmt: skip
    metrics = {
        tracking.metric_name(f"calibration.{name}"): {"value": float(value), "step": 0}
        for name, value in overall.items()
        if isinstance(value, int | float) and np.isfinite(value)
    }
    summary = pd.DataFrame({"check": list(overall), "value": list(overall.values())})
    return table, summary, metrics


def _champion_pds(predictions: pd.DataFrame, configuration: str, rows: int) -> np.ndarray:
    """The champion's PD per test loan, in test-loan order."""
    own = predictions[predictions["configuration"] == configuration].sort_values("row")
    if len(own) != rows:
        raise DataValidationError(
            f"test_predictions: {len(own)} rows of the champion '{configuration}' for {rows} "
            "test loans; re-run the training stage so both come from the same split."
        )
    return own["score"].to_numpy(dtype=float)


def _overall(
    y: np.ndarray,
    pd_test: np.ndarray,
    grades: np.ndarray,
    table: pd.DataFrame,
    calibrator: calibration.ScoreCalibrator,
) -> dict[str, Any]:
    """Calibration in the large, Brier, Spiegelhalter, Hosmer-Lemeshow, Herfindahl, lights."""
    loans, defaults, mean_pd = len(y), int(y.sum()), float(pd_test.mean())
    one_sided = backtest.binomial_test(defaults, loans, mean_pd, "greater")
    two_sided = backtest.binomial_test(defaults, loans, mean_pd, "two-sided")
    spiegelhalter = backtest.spiegelhalter_test(y, pd_test)
    # Grades as groups on an independent sample: no degrees of freedom were fitted on it.
    hosmer = backtest.hosmer_lemeshow_test(y, pd_test, grades, dof_adjustment=0)
    lights = table["traffic_light"]
    overall: dict[str, Any] = {
        "method": calibrator.method or "none",
        "loans": loans,
        "defaults": defaults,
        "mean_pd": mean_pd,
        "observed_default_rate": defaults / loans,
        "binomial_p_value": one_sided.p_value,
        "binomial_two_sided_p_value": two_sided.p_value,
        "brier_score": backtest.brier_score(y, pd_test),
        "spiegelhalter_z": spiegelhalter.statistic,
        "spiegelhalter_p_value": spiegelhalter.p_value,
        "hosmer_lemeshow_statistic": hosmer.statistic,
        "hosmer_lemeshow_p_value": hosmer.p_value,
        "herfindahl_index": backtest.herfindahl_cv(table["loans"]),
        "herfindahl_sum_of_squares": backtest.herfindahl_sum_of_squares(table["loans"]),
        "grades": len(table),
        "jeffreys_green_share": float((lights == "green").mean()),
        "jeffreys_not_red_share": float((lights != "red").mean()),
        "traffic_light": float(backtest.LIGHT_CODES[backtest.worst_light(lights)]),
    }
    # The calibration methods' losses on the validation folds (training loans), when chosen.
    rule = getattr(calibrator, "scoring_rule_", None)
    for name, loss in getattr(calibrator, "validation_losses_", {}).items():
        overall[f"validation_{rule}_{name}"] = loss
    return overall
