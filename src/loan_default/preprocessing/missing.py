"""Missing values: measure them (incl. disguised ones), test if they predict default, act by rule."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from loan_default.parameters import DataQuality
from loan_default.validation import ConfigurationError

from .columns import (
    as_object,
    feature_names,
    is_categorical,
    missing_masks,
    select_features,
    with_missing_marked,
)

logger = logging.getLogger(__name__)

NUMERIC_FILLS = {"median", "mean", "max", "min", "zero", "constant"}
CATEGORICAL_FILLS = {"most_frequent", "constant"}

# Generic rules; conf/base/parameters_data_quality.yml overrides them.
# The rules' defaults have one home, the schema (parameters.DataQuality); a caller without a
# data_quality block (a notebook, a test) gets them from there.
DEFAULT_RULES: dict[str, Any] = DataQuality().model_dump(exclude={"indicator_suffix"})


def missingness_test(
    missing: pd.Series | np.ndarray,
    target: pd.Series | np.ndarray,
    fisher_min_expected: float = DEFAULT_RULES["fisher_min_expected"],
) -> dict[str, Any]:
    """Does the default rate differ between missing and present rows? Pearson chi-square, or
    Fisher's exact test when an expected cell count is below `fisher_min_expected`."""
    missing = np.asarray(missing, dtype=bool)
    target = np.asarray(target).astype(int)
    counts = {
        "missing_count": int(missing.sum()),
        "rows": len(missing),
        "defaults_missing": int(np.sum(missing & (target == 1))),
        "defaults_present": int(np.sum(~missing & (target == 1))),
    }
    return contingency_test(counts, fisher_min_expected)


def contingency_test(
    counts: Mapping[str, int], fisher_min_expected: float = DEFAULT_RULES["fisher_min_expected"]
) -> dict[str, Any]:
    """`missingness_test` from the counts of one column (see `MissingCounts`)."""
    missing, present = counts["missing_count"], counts["rows"] - counts["missing_count"]
    table = np.array(
        [
            [counts["defaults_missing"], missing - counts["defaults_missing"]],
            [counts["defaults_present"], present - counts["defaults_present"]],
        ]
    )
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return {"test": "not applicable", "statistic": np.nan, "p_value": np.nan}
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if expected.min() < fisher_min_expected:
        odds_ratio, p_value = stats.fisher_exact(table)
        return {"test": "fisher", "statistic": float(odds_ratio), "p_value": float(p_value)}
    chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    return {"test": "chi-square", "statistic": float(chi2), "p_value": float(p_value)}


def resolve_missing_rules(
    columns: Sequence[str],
    sentinel_codes: Mapping[str, Sequence[Any]] | None,
    informative_missing: Mapping[str, Mapping[str, Any]] | None,
    rules: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], Mapping[str, Sequence[Any]], Mapping[str, Mapping[str, Any]]]:
    """The rules over their defaults; a warning for configured columns that are not features."""
    sentinel_codes, informative_missing = sentinel_codes or {}, informative_missing or {}
    for knob, configured in (
        ("sentinel_codes", sentinel_codes),
        ("informative_missing", informative_missing),
    ):
        unknown = sorted(set(configured) - set(columns))
        if unknown:
            logger.warning("dataset.%s names columns not among the features: %s", knob, unknown)
    return {**DEFAULT_RULES, **(rules or {})}, sentinel_codes, informative_missing


def plan_missing_values(
    frame: pd.DataFrame,
    target: pd.Series | np.ndarray | None,
    sentinel_codes: Mapping[str, Sequence[Any]] | None = None,
    informative_missing: Mapping[str, Mapping[str, Any]] | None = None,
    rules: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per feature column: missingness, its test against the target, action and fill."""
    rules, sentinel_codes, informative_missing = resolve_missing_rules(
        frame.columns, sentinel_codes, informative_missing, rules
    )
    target = None if target is None else np.asarray(target).astype(int)
    rows = []
    for column in frame.columns:
        values = frame[column]
        masks = missing_masks(values, sentinel_codes.get(column))
        categorical = is_categorical(values)
        row = judge_missingness(
            _mask_counts(masks, target),
            MissingColumn(column, str(values.dtype), categorical),
            informative_missing.get(column),
            rules,
        )
        statistic, literal = fill_rule(row["fill_strategy"], categorical, column, rules)
        present = values[~masks["any"]]
        row["fill_value"] = literal if statistic is None else fill_statistic(present, statistic)
        rows.append(row)
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


class MissingColumn(NamedTuple):
    """What the rules need to know of a column besides its counts."""

    name: str
    dtype: str
    categorical: bool


# The counts behind a column's plan, measured in pandas (`_mask_counts`) or on Spark:
# rows, missing_count, native_missing, empty_strings, sentinel_codes (disjoint kinds), and
# defaults_missing / defaults_present (None without a target).
MissingCounts = Mapping[str, int | None]

PLAN_COLUMNS = [
    "column", "dtype", "rows", "missing_count", "missing_rate", "native_missing",
    "empty_strings", "sentinel_codes", "default_rate_missing", "default_rate_present", "test",
    "statistic", "p_value", "significant", "configured_informative", "action", "fill_strategy",
    "fill_value", "reason",
]  # fmt: skip


def _mask_counts(masks: Mapping[str, pd.Series], target: np.ndarray | None) -> MissingCounts:
    missing = masks["any"].to_numpy()
    counts = {
        "rows": len(missing),
        "missing_count": int(missing.sum()),
        "native_missing": int(masks["native"].sum()),
        "empty_strings": int(masks["empty"].sum()),
        "sentinel_codes": int(masks["sentinel"].sum()),
        "defaults_missing": None,
        "defaults_present": None,
    }
    if target is not None:
        counts["defaults_missing"] = int(target[missing].sum())
        counts["defaults_present"] = int(target[~missing].sum())
    return counts


def judge_missingness(
    counts: MissingCounts,
    column: MissingColumn,
    informative: Mapping[str, Any] | None,
    rules: Mapping[str, Any],
) -> dict[str, Any]:
    """A column's plan row from its counts: rates, test, action, fill strategy and reason."""
    n_rows, n_missing = counts["rows"], counts["missing_count"]
    rate = n_missing / n_rows if n_rows else np.nan
    row: dict[str, Any] = {
        "column": column.name,
        "dtype": column.dtype,
        "rows": n_rows,
        "missing_count": n_missing,
        "missing_rate": rate,
        "native_missing": counts["native_missing"],
        "empty_strings": counts["empty_strings"],
        "sentinel_codes": counts["sentinel_codes"],
        "default_rate_missing": np.nan,
        "default_rate_present": np.nan,
        "test": "no target",
        "statistic": np.nan,
        "p_value": np.nan,
    }
    if counts["defaults_missing"] is not None:
        if n_missing:
            row["default_rate_missing"] = counts["defaults_missing"] / n_missing
        if n_missing < n_rows:
            row["default_rate_present"] = counts["defaults_present"] / (n_rows - n_missing)
        row |= contingency_test(counts, rules["fisher_min_expected"])
    significant = bool(row["p_value"] < rules["significance_level"])
    row["significant"] = significant
    row["configured_informative"] = informative is not None
    default_fill = rules["categorical_impute" if column.categorical else "numeric_impute"]

    if n_missing == n_rows:
        action, strategy, reason = "drop", None, "entirely missing in training"
    elif informative is not None:
        strategy = default_fill if informative["fill"] is None else informative["fill"]
        action = "indicator_and_fill"
        reason = f"informative (configured): {informative['why']}"
    elif significant:
        action, strategy = "indicator_and_fill", default_fill
        reason = (
            f"missingness predicts default ({row['test']} p={row['p_value']:.2g} < "
            f"{rules['significance_level']}): indicator kept, filled with {default_fill}"
        )
    elif rate > rules["drop_above_rate"]:
        action, strategy = "drop", None
        reason = f"{rate:.2%} missing > {rules['drop_above_rate']:.0%} and not informative"
    elif n_missing == 0:
        action, strategy = "none", default_fill
        reason = f"no missing values in training; {default_fill} fill if one appears later"
    else:
        action, strategy = f"impute_{default_fill}", default_fill
        p_text = "n/a" if np.isnan(row["p_value"]) else f"{row['p_value']:.2g}"
        reason = f"{rate:.2%} missing, not informative (p={p_text}); impute {default_fill}"
    return row | {"action": action, "fill_strategy": strategy, "reason": reason}


def fill_rule(
    strategy: Any, categorical: bool, column: str, rules: Mapping[str, Any]
) -> tuple[str | None, Any]:
    """(statistic of the training values present, None), or (None, literal fill value):
    the statistic is `most_frequent`, `median`, `mean`, `max` or `min`."""
    if strategy is None:
        return None, None
    if categorical:
        return _text_fill_rule(strategy, column, rules)
    return _numeric_fill_rule(strategy, column, rules)


def _text_fill_rule(strategy: Any, column: str, rules: Mapping[str, Any]) -> tuple[Any, Any]:
    if strategy == "most_frequent":
        return "most_frequent", None
    if strategy == "constant":
        return None, str(rules["constant_categorical"])
    if isinstance(strategy, str) and strategy not in NUMERIC_FILLS:
        return None, strategy  # a literal category
    raise ConfigurationError(
        f"missing-value fill for text column '{column}': {strategy!r} does not apply to "
        f"categories; use one of {sorted(CATEGORICAL_FILLS)} or a literal category."
    )


def _numeric_fill_rule(strategy: Any, column: str, rules: Mapping[str, Any]) -> tuple[Any, Any]:
    if isinstance(strategy, int | float) and not isinstance(strategy, bool):
        return None, float(strategy)
    if strategy in NUMERIC_STATISTICS:
        return strategy, None
    literals = {"zero": 0.0, "constant": float(rules["constant_numeric"])}
    if strategy in literals:
        return None, literals[strategy]
    raise ConfigurationError(
        f"missing-value fill for numeric column '{column}': {strategy!r} is not a number or "
        f"one of {sorted(NUMERIC_FILLS)}."
    )


NUMERIC_STATISTICS = ("median", "mean", "max", "min")


def fill_statistic(present: pd.Series, statistic: str) -> Any:
    """A `fill_rule` statistic of the training values present. The most frequent category's
    ties go to the one seen first, as on Spark."""
    if statistic == "most_frequent":
        return as_object(present).value_counts(sort=False).idxmax()
    return float(getattr(present.astype("float64"), statistic)())


@dataclass(eq=False, repr=False)  # the parameters, stored as scikit-learn expects
class MissingValueHandler(TransformerMixin, BaseEstimator):
    """Mark disguised missing values, drop / flag / fill each column by the configured rules."""

    sentinel_codes: Mapping[str, Sequence[Any]] | None = None
    informative_missing: Mapping[str, Mapping[str, Any]] | None = None
    rules: Mapping[str, Any] | None = None
    indicator_suffix: str = DataQuality().indicator_suffix
    exclude: Sequence[str] = ()

    def fit(self, X: pd.DataFrame, y: Any = None) -> MissingValueHandler:
        """Decide each column's action and fill value on the training frame."""
        columns = feature_names(X, self.exclude, "MissingValueHandler")
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        self.n_features_in_ = len(columns)
        self.plan_ = plan_missing_values(
            X[columns], y, self.sentinel_codes, self.informative_missing, self.rules
        )
        plan = self.plan_.set_index("column")
        self.dropped_columns_ = plan.index[plan["action"] == "drop"].tolist()
        self.indicator_columns_ = plan.index[plan["action"] == "indicator_and_fill"].tolist()
        self.fill_values_ = plan["fill_value"].drop(self.dropped_columns_).to_dict()
        self.categorical_columns_ = [c for c in columns if is_categorical(X[c])]
        kept = [c for c in columns if c not in self.dropped_columns_]
        self.feature_names_out_ = np.asarray(
            kept + [f"{c}{self.indicator_suffix}" for c in self.indicator_columns_], dtype=object
        )
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Filled features (text as objects, numbers as float64) plus 0/1 missing indicators."""
        check_is_fitted(self, "plan_")
        frame = with_missing_marked(
            select_features(X, list(self.feature_names_in_), "MissingValueHandler"),
            self.sentinel_codes,
        )
        indicators = pd.DataFrame(
            {
                f"{c}{self.indicator_suffix}": frame[c].isna().astype("float64")
                for c in self.indicator_columns_
            },
            index=frame.index,
        )
        filled = {}
        for column, value in self.fill_values_.items():
            if column in self.categorical_columns_:
                filled[column] = as_object(frame[column]).fillna(value)
            else:
                filled[column] = frame[column].astype("float64").fillna(value)
        out = pd.concat([pd.DataFrame(filled, index=frame.index), indicators], axis=1)
        return out.loc[:, list(self.feature_names_out_)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Kept columns followed by the indicator columns."""
        check_is_fitted(self, "plan_")
        return self.feature_names_out_.copy()
