"""The master scale: PD bands that map a probability of default to a rating grade.

`fit_master_scale` chooses the bands on training PDs (the champion's out-of-fold, calibrated
predictions; never the test loans). It starts from equal-count bands and merges neighbours
until every grade holds at least a minimum share of the loans, observed default rates rise
strictly from grade to grade, and each grade's rate is significantly above the one below it
(one-sided two-proportion test). Grade 1 is the safest.

A `MasterScale` is stored in the registered model (`serving.LoanDefaultModel.rating_scale`), so
batch, Spark and REST scoring all grade through `MasterScale.grade`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loan_default.validation import ConfigurationError, DataValidationError

from .backtest import two_proportion_test

SCALE_COLUMNS = [
    "rating_grade", "pd_lower", "pd_upper", "grade_pd", "loans", "share", "defaults",
    "observed_default_rate",
]  # fmt: skip


@dataclass(frozen=True)
class MasterScale:
    """Grades 1..K: grade g holds PDs in [bounds[g-2], bounds[g-1]) (open at both ends).

    `grade_pd` is each grade's mean training PD; `loans`, `defaults` what training held.
    """

    bounds: tuple[float, ...]
    grade_pd: tuple[float, ...]
    loans: tuple[int, ...]
    defaults: tuple[int, ...]

    @property
    def grades(self) -> int:
        """Number of grades."""
        return len(self.grade_pd)

    def grade(self, probability: np.ndarray) -> np.ndarray:
        """The grade (1 = safest) of each probability of default."""
        probability = np.asarray(probability, dtype=float)
        return np.searchsorted(np.asarray(self.bounds), probability, side="right") + 1

    def table(self) -> pd.DataFrame:
        """The scale as a table: PD band, the grade's PD, training loans, share and defaults."""
        loans, defaults = np.asarray(self.loans), np.asarray(self.defaults)
        return pd.DataFrame(
            {
                "rating_grade": np.arange(1, self.grades + 1),
                "pd_lower": [0.0, *self.bounds],
                "pd_upper": [*self.bounds, 1.0],
                "grade_pd": self.grade_pd,
                "loans": loans,
                "share": loans / loans.sum(),
                "defaults": defaults,
                "observed_default_rate": defaults / loans,
            },
            columns=SCALE_COLUMNS,
        )


def fit_master_scale(
    probability: np.ndarray,
    y: np.ndarray,
    grades: int,
    min_share: float,
    distinct_at: float,
) -> MasterScale:
    """Bands of training PDs: `grades` equal-count bands, merged until each grade holds at least
    `min_share` of loans, default rates rise strictly, and neighbours differ at `distinct_at`."""
    probability = np.asarray(probability, dtype=float)
    y = np.asarray(y, dtype=int)
    if len(probability) != len(y) or len(y) == 0:
        raise DataValidationError(
            f"rating: {len(probability)} PDs for {len(y)} outcomes; the master scale needs the "
            "champion's out-of-fold PDs of the training loans."
        )
    if grades < 2:
        raise ConfigurationError(f"rating.grades: at least 2 grades, got {grades}.")
    quantiles = np.quantile(probability, np.arange(1, grades) / grades)
    # A bound at the smallest PD would leave grade 1 empty; ties (isotonic plateaus) collapse.
    bounds = [b for b in np.unique(quantiles) if b > probability.min()]
    while True:
        loans, defaults = _counts(probability, y, bounds)
        merge = _worst_boundary(loans, defaults, min_share, distinct_at)
        if merge is None or not bounds:
            break
        del bounds[merge]
    loans, defaults = _counts(probability, y, bounds)
    grade = np.searchsorted(np.asarray(bounds), probability, side="right")
    grade_pd = np.bincount(grade, weights=probability, minlength=len(loans)) / loans
    return MasterScale(
        bounds=tuple(float(b) for b in bounds),
        grade_pd=tuple(float(p) for p in grade_pd),
        loans=tuple(int(n) for n in loans),
        defaults=tuple(int(d) for d in defaults),
    )


def _counts(probability: np.ndarray, y: np.ndarray, bounds: list[float]):
    grade = np.searchsorted(np.asarray(bounds), probability, side="right")
    loans = np.bincount(grade, minlength=len(bounds) + 1)
    defaults = np.bincount(grade, weights=y, minlength=len(bounds) + 1)
    return loans, defaults


def _worst_boundary(
    loans: np.ndarray, defaults: np.ndarray, min_share: float, distinct_at: float
) -> int | None:
    """Index of the bound to remove next (merging grades i and i+1), or None when none must go.

    First a grade below the minimum share (merged with the neighbour whose default rate is
    closer); then the adjacent pair least distinct (highest one-sided p-value)."""
    if len(loans) < 2:
        return None
    shares = loans / loans.sum()
    rates = np.divide(defaults, loans, out=np.zeros(len(loans)), where=loans > 0)
    small = np.flatnonzero(shares < min_share)
    if small.size:
        g = int(small[np.argmin(shares[small])])
        if g == 0:
            return 0
        if g == len(loans) - 1:
            return g - 1
        below, above = abs(rates[g] - rates[g - 1]), abs(rates[g + 1] - rates[g])
        return g - 1 if below <= above else g
    p_values = np.array(
        [
            two_proportion_test(defaults[i], loans[i], defaults[i + 1], loans[i + 1]).p_value
            for i in range(len(loans) - 1)
        ]
    )
    p_values = np.where(rates[1:] <= rates[:-1], 1.0, np.nan_to_num(p_values, nan=1.0))
    worst = int(np.argmax(p_values))
    return worst if p_values[worst] > distinct_at else None
