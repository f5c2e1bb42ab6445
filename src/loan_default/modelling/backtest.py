"""Statistical backtests of a probability-of-default (PD) model, in numpy and scipy only.

The tests follow the ECB's "Instructions for reporting the validation results of internal
models" (IRB Pillar I, February 2019; PD section) where that document prescribes one:

- `jeffreys_p_value`: one-sided Jeffreys test of a grade's PD against its observed defaults;
- `auc_test` with `auc_standard_error`: current AUC against the initial-validation AUC;
- `herfindahl_cv`: the ECB's Herfindahl index of the grade distribution.

and add the usual calibration checks of a validation team: calibration in the large
(`binomial_test`), `brier_score`, `spiegelhalter_test` and `hosmer_lemeshow_test`.

P-values become traffic lights with `traffic_light` (text) and `traffic_light_code`
(0 green, 1 amber, 2 red). Every test reads a small p-value as evidence against the model
(PD too low, discrimination worse), so one light rule serves all of them.

The API is stable: the `monitor` pipeline imports it. Inputs are array-likes; outputs are
floats, numpy arrays or named tuples, never pandas objects (except `grade_backtest`, a table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from loan_default.validation import ConfigurationError, DataValidationError

LIGHTS = ("green", "amber", "red")
LIGHT_CODES = {light: code for code, light in enumerate(LIGHTS)}


class BacktestResult(NamedTuple):
    """A test statistic and its p-value."""

    statistic: float
    p_value: float


class LightThresholds(NamedTuple):
    """P-value cut-offs: at or above `amber` is green, below `red` is red, in between amber.
    (Their defaults live in the schema: the `rating` block for Jeffreys, `monitor.lights`.)"""

    amber: float
    red: float


def jeffreys_p_value(defaults, loans, pd_estimate) -> np.ndarray | float:
    """ECB one-sided Jeffreys test: p = Beta(D + 1/2, N - D + 1/2).cdf(PD).

    The posterior of the default rate under the Jeffreys prior Beta(1/2, 1/2) after D defaults
    in N loans is Beta(D + 1/2, N - D + 1/2); the p-value is its probability mass below the
    estimated PD. A small p-value says the observed default rate is too high for the PD
    (the PD underestimates risk). Vectorised over grades; a scalar in, a float out.
    """
    defaults, loans, pd_estimate = _as_arrays(defaults, loans, pd_estimate)
    _check_counts(defaults, loans)
    _check_probabilities(pd_estimate, "pd")
    p_value = stats.beta.cdf(pd_estimate, defaults + 0.5, loans - defaults + 0.5)
    return _scalar_or_array(p_value)


def binomial_test(defaults: int, loans: int, pd_estimate: float, alternative: str = "greater"):
    """Calibration in the large: exact binomial test of D defaults in N loans at mean PD.

    `alternative="greater"` (one-sided, the regulator's question) gives P(X >= D | N, PD):
    small when there are more defaults than the PD predicts. `"two-sided"` also flags a PD
    that is too high. The statistic returned is the observed default rate minus the PD.
    """
    if alternative not in ("greater", "two-sided"):
        raise ConfigurationError(
            f"binomial_test: alternative must be 'greater' or 'two-sided', got '{alternative}'."
        )
    defaults, loans, pd_estimate = (float(v) for v in _as_arrays(defaults, loans, pd_estimate))
    _check_counts(np.asarray(defaults), np.asarray(loans))
    _check_probabilities(np.asarray(pd_estimate), "pd")
    if loans == 0:
        return BacktestResult(float("nan"), float("nan"))
    result = stats.binomtest(int(defaults), int(loans), pd_estimate, alternative=alternative)
    return BacktestResult(defaults / loans - pd_estimate, float(result.pvalue))


def two_proportion_test(defaults_low, loans_low, defaults_high, loans_high) -> BacktestResult:
    """One-sided pooled z-test that the second group's default rate exceeds the first's.

    Used to check that adjacent rating grades are statistically distinct. The statistic is
    the z value; with no defaults (or no repayments) at all the p-value is 1.
    """
    d1, n1, d2, n2 = (float(v) for v in (defaults_low, loans_low, defaults_high, loans_high))
    _check_counts(np.array([d1, d2]), np.array([n1, n2]))
    if n1 == 0 or n2 == 0:
        return BacktestResult(float("nan"), float("nan"))
    pooled = (d1 + d2) / (n1 + n2)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return BacktestResult(0.0, 1.0)
    z = (d2 / n2 - d1 / n1) / spread
    return BacktestResult(float(z), float(stats.norm.sf(z)))


def brier_score(y, pd_estimate) -> float:
    """Mean squared difference between the PD and the outcome (0 is perfect)."""
    y, pd_estimate = _outcomes_and_pds(y, pd_estimate)
    return float(np.mean((pd_estimate - y) ** 2))


def spiegelhalter_test(y, pd_estimate) -> BacktestResult:
    """Spiegelhalter (1986) z-test that the Brier score is what calibrated PDs would give.

    z = sum((y - p)(1 - 2p)) / sqrt(sum((1 - 2p)^2 p (1 - p))); two-sided normal p-value.
    """
    y, p = _outcomes_and_pds(y, pd_estimate)
    variance = np.sum((1 - 2 * p) ** 2 * p * (1 - p))
    if variance <= 0:
        return BacktestResult(float("nan"), float("nan"))
    z = float(np.sum((y - p) * (1 - 2 * p)) / np.sqrt(variance))
    return BacktestResult(z, float(2 * stats.norm.sf(abs(z))))


def hosmer_lemeshow_test(y, pd_estimate, groups=10, dof_adjustment: int = 2) -> BacktestResult:
    """Hosmer-Lemeshow chi-square test over groups of loans.

    `groups` is either a number of PD quantile groups or one label per loan (e.g. the rating
    grade). Degrees of freedom are the number of non-empty groups minus `dof_adjustment`:
    2 on the data the model was fitted on, 0 on an independent (out-of-time) sample.
    """
    y, p = _outcomes_and_pds(y, pd_estimate)
    if np.ndim(groups) == 0:
        count = int(groups)
        if count < 2:
            raise ConfigurationError(f"hosmer_lemeshow_test: groups must be >= 2, got {count}.")
        ranks = stats.rankdata(p, method="ordinal")
        labels = np.ceil(ranks * count / len(p)).astype(int)
    else:
        labels = np.asarray(groups)
        if len(labels) != len(p):
            raise DataValidationError(
                f"hosmer_lemeshow_test: {len(labels)} group labels for {len(p)} loans."
            )
    statistic = 0.0
    used = 0
    for label in pd.unique(labels):
        members = labels == label
        n, observed, expected = members.sum(), y[members].sum(), p[members].sum()
        variance = expected * (1 - expected / n)
        if variance > 0:
            statistic += (observed - expected) ** 2 / variance
            used += 1
    dof = used - dof_adjustment
    if dof < 1:
        return BacktestResult(float(statistic), float("nan"))
    return BacktestResult(float(statistic), float(stats.chi2.sf(statistic, dof)))


def herfindahl_sum_of_squares(counts) -> float:
    """Plain Herfindahl index: the sum of squared grade shares (1/K uniform .. 1 one grade)."""
    shares = _shares(counts)
    return float(np.sum(shares**2))


def herfindahl_cv(counts) -> float:
    """ECB Herfindahl index: HI = 1 + ln((CV^2 + 1) / K) / ln(K), CV^2 = K * sum((R_i - 1/K)^2).

    R_i are the grade shares over the K grades. It equals 1 + ln(sum R_i^2) / ln(K): 0 for
    a uniform distribution over the grades, 1 when every loan sits in one grade. This is the
    form the project logs as `calibration.herfindahl_index` (and `monitor` compares).
    """
    shares = _shares(counts)
    k = len(shares)
    if k < 2:
        return float("nan")
    cv_squared = k * np.sum((shares - 1 / k) ** 2)
    return float(1 + np.log((cv_squared + 1) / k) / np.log(k))


def auc_standard_error(y, score) -> float:
    """Standard error of the AUC by DeLong's (Mann-Whitney placement) variance estimator.

    The AUC is the probability a defaulter scores higher than a non-defaulter (ties half).
    var = var(V10) / n_defaults + var(V01) / n_non_defaults, with V10 (V01) each defaulter's
    (non-defaulter's) share of won comparisons.
    """
    y, score = _outcomes_and_scores(y, score)
    positives, negatives = score[y == 1], score[y == 0]
    m, n = len(positives), len(negatives)
    if m < 2 or n < 2:
        raise DataValidationError(
            f"auc_standard_error: needs at least 2 defaults and 2 non-defaults (got {m} and {n})."
        )
    ranks_all = stats.rankdata(np.concatenate([positives, negatives]))
    ranks_pos = stats.rankdata(positives)
    ranks_neg = stats.rankdata(negatives)
    v10 = (ranks_all[:m] - ranks_pos) / n  # per defaulter: share of non-defaulters below
    v01 = 1 - (ranks_all[m:] - ranks_neg) / m  # per non-defaulter: share of defaulters above
    variance = np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n
    return float(np.sqrt(variance))


def auc(y, score) -> float:
    """AUC by the Mann-Whitney statistic (ties count one half)."""
    y, score = _outcomes_and_scores(y, score)
    m, n = int(y.sum()), int((1 - y).sum())
    if m == 0 or n == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[y == 1].sum() - m * (m + 1) / 2) / (m * n))


def auc_test(auc_initial: float, auc_current: float, se_current: float) -> BacktestResult:
    """ECB AUC test: S = (AUC_init - AUC_curr) / s, p = 1 - Phi(S).

    `se_current` is the standard error of the current AUC (`auc_standard_error`). A small
    p-value says the rank order has deteriorated since the initial validation.
    """
    if not se_current > 0:
        raise DataValidationError(
            f"auc_test: the standard error must be positive, got {se_current}."
        )
    statistic = (auc_initial - auc_current) / se_current
    return BacktestResult(float(statistic), float(stats.norm.sf(statistic)))


def traffic_light(p_value, thresholds: LightThresholds | Sequence[float]):
    """Green, amber or red for one p-value or an array of them (NaN p-values: 'n/a')."""
    amber, red = _thresholds(thresholds)
    p = np.asarray(p_value, dtype=float)
    lights = np.where(p < red, "red", np.where(p < amber, "amber", "green")).astype(object)
    lights[np.isnan(p)] = "n/a"
    return lights.item() if lights.ndim == 0 else lights


def traffic_light_code(p_value, thresholds: LightThresholds | Sequence[float]):
    """The light as a number for metrics: 0 green, 1 amber, 2 red (NaN when untestable)."""
    amber, red = _thresholds(thresholds)
    p = np.asarray(p_value, dtype=float)
    codes = np.where(p < red, 2.0, np.where(p < amber, 1.0, 0.0))
    codes[np.isnan(p)] = np.nan
    return float(codes) if codes.ndim == 0 else codes


def worst_light(lights: Sequence[str]) -> str:
    """The most severe of several lights ('n/a' ignored; green when none is testable)."""
    codes = [LIGHT_CODES[light] for light in lights if light in LIGHT_CODES]
    return LIGHTS[max(codes)] if codes else "green"


def grade_backtest(
    y, pd_estimate, grades, thresholds: LightThresholds | Sequence[float]
) -> pd.DataFrame:
    """Per grade: loans, defaults, mean PD, observed default rate, Jeffreys p-value and light.

    Rows are in the order of the sorted grade labels; the Jeffreys test uses the grade's mean PD.
    """
    y, p = _outcomes_and_pds(y, pd_estimate)
    grades = np.asarray(grades)
    if len(grades) != len(p):
        raise DataValidationError(f"grade_backtest: {len(grades)} grades for {len(p)} loans.")
    frame = pd.DataFrame({"rating_grade": grades, "default": y, "pd": p})
    table = (
        frame.groupby("rating_grade", sort=True)
        .agg(loans=("default", "size"), defaults=("default", "sum"), mean_pd=("pd", "mean"))
        .reset_index()
    )
    table["defaults"] = table["defaults"].astype(int)
    table["observed_default_rate"] = table["defaults"] / table["loans"]
    table["jeffreys_p_value"] = np.atleast_1d(
        jeffreys_p_value(table["defaults"], table["loans"], table["mean_pd"])
    )
    table["traffic_light"] = traffic_light(table["jeffreys_p_value"].to_numpy(), thresholds)
    table["traffic_light_code"] = traffic_light_code(
        table["jeffreys_p_value"].to_numpy(), thresholds
    )
    return table


def _thresholds(thresholds) -> tuple[float, float]:
    amber, red = (float(v) for v in thresholds)
    if not 0 < red <= amber < 1:
        raise ConfigurationError(
            f"traffic-light thresholds: need 0 < red <= amber < 1, got amber={amber}, red={red}."
        )
    return amber, red


def _as_arrays(*values) -> list[np.ndarray]:
    return [np.asarray(value, dtype=float) for value in values]


def _scalar_or_array(values: np.ndarray):
    return float(values) if np.ndim(values) == 0 else np.asarray(values)


def _check_counts(defaults: np.ndarray, loans: np.ndarray) -> None:
    if np.any(defaults < 0) or np.any(defaults > loans):
        raise DataValidationError(
            "backtest: defaults must lie between 0 and the number of loans "
            f"(defaults {np.atleast_1d(defaults)[:5].tolist()}, "
            f"loans {np.atleast_1d(loans)[:5].tolist()})."
        )


def _check_probabilities(values: np.ndarray, name: str) -> None:
    if np.any(~np.isfinite(values)) or np.any((values < 0) | (values > 1)):
        bad = np.atleast_1d(values)[~((values >= 0) & (values <= 1))]
        raise DataValidationError(
            f"backtest: {name} must be probabilities in [0, 1]; got e.g. {bad[:5].tolist()}."
        )


def _outcomes_and_pds(y, pd_estimate) -> tuple[np.ndarray, np.ndarray]:
    y, p = _outcomes_and_scores(y, pd_estimate)
    _check_probabilities(p, "pd")
    return y, p


def _outcomes_and_scores(y, score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    score = np.asarray(score, dtype=float).ravel()
    if len(y) != len(score):
        raise DataValidationError(f"backtest: {len(y)} outcomes for {len(score)} scores.")
    if not np.isin(y, (0, 1)).all():
        raise DataValidationError(
            f"backtest: outcomes must be 0/1, got e.g. {np.unique(y[~np.isin(y, (0, 1))])[:5]}."
        )
    return y, score


def _shares(counts) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    if np.any(counts < 0) or counts.sum() <= 0:
        raise DataValidationError(
            f"herfindahl: grade counts must be non-negative with a positive total, got {counts}."
        )
    return counts / counts.sum()
