"""Weight-of-evidence binning on optbinning's `BinningProcess`: optimal or plain quantile bins.

Both transformers take a loans frame (meta columns are excluded), map each feature to the WoE of
its bin (`transform`) or to the bin label (`bin_labels`, for PSI), and report `summary()` (IV,
Gini, JS, number of bins per feature) and `binning_tables()` (long format, Special and Missing
bins included). WoE follows optbinning's sign: ln(non-event share / event share), so a positive
WoE means lower risk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from optbinning import BinningProcess
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from loan_default.parameters import Binning
from loan_default.validation import ConfigurationError, require_both_classes

from .columns import as_object, empty_string_mask, feature_names, is_categorical, select_features

_BINNING = Binning()  # the defaults' one home: the schema

logger = logging.getLogger(__name__)

TABLE_COLUMNS = {
    "Bin": "bin",
    "Count": "count",
    "Count (%)": "count_share",
    "Non-event": "non_event",
    "Event": "event",
    "Event rate": "event_rate",
    "WoE": "woe",
    "IV": "iv",
    "JS": "js",
}
_ARRAY_REPR = re.compile(r"(?s)^<\w+>\n(\[.*\])\nLength: \d+, dtype: \w+$")
SUMMARY_COLUMNS = ["feature", "dtype", "n_bins", "iv", "gini", "js"]
Fitted = TypeVar("Fitted")


@dataclass(eq=False, repr=False)  # the parameters, stored as scikit-learn expects
class OptimalWoEBinning(TransformerMixin, BaseEstimator):
    """optbinning `BinningProcess` on the feature columns of a loans frame."""

    exclude: Sequence[str] = ()
    special_codes: Mapping[str, Sequence[Any]] | None = None
    monotonic_trends: Mapping[str, str] | None = None
    min_bin_size: float | None = _BINNING.min_bin_size
    max_n_prebins: int = _BINNING.max_n_prebins
    cat_cutoff: float | None = None

    def fit(self, X: pd.DataFrame, y: Any = None) -> OptimalWoEBinning:
        """Fit the binning of every feature on the training rows."""
        frame, y = self.prepare(X, y)
        self.binning_process_ = self.fit_explained(self.configured_process(frame).fit, frame, y)
        return self

    def prepare(self, X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
        """Choose the features (not meta, not entirely missing), detect the categorical ones,
        and return them normalised with the target as integers."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"{type(self).__name__} needs a pandas DataFrame.")
        if y is None:
            raise ValueError(f"{type(self).__name__}: WoE binning is supervised and needs y.")
        y = np.asarray(y).astype(int)
        require_both_classes(pd.Series(y), type(self).__name__)
        columns = feature_names(X, self.exclude, type(self).__name__)
        empty = [c for c in columns if X[c].isna().all()]
        if empty:
            logger.warning("Binning skips %d entirely missing column(s): %s", len(empty), empty)
        self.skipped_ = empty
        self.feature_names_in_ = np.asarray([c for c in columns if c not in empty], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.categorical_ = [c for c in self.feature_names_in_ if is_categorical(X[c])]
        return self.normalise(X), y

    def normalise(self, X: pd.DataFrame) -> pd.DataFrame:
        """The prepared features of `X`, text as objects and empty strings as missing."""
        frame = select_features(X, list(self.feature_names_in_), type(self).__name__).copy()
        for column in self.categorical_:
            text = as_object(frame[column])
            frame[column] = text.mask(empty_string_mask(text))
        return frame

    def configured_process(self, frame: pd.DataFrame) -> BinningProcess:
        """The unfitted `BinningProcess` of the prepared features (after `prepare`)."""
        return BinningProcess(
            list(self.feature_names_in_),
            categorical_variables=self.categorical_,
            binning_fit_params=self._fit_params(frame),
        )

    def fit_explained(
        self, fit: Callable[..., Fitted], frame: pd.DataFrame, *args, **kwargs
    ) -> Fitted:
        """`fit(frame, *args, **kwargs)`, naming the columns behind optbinning's errors."""
        try:
            return fit(frame, *args, **kwargs)
        except ValueError as error:
            raise self._explain(frame, error) from error

    def _explain(self, frame: pd.DataFrame, error: ValueError) -> Exception:
        """optbinning names no column; name the categorical columns with only rare categories."""
        cutoff = self.cat_cutoff or 0.0
        scattered = [
            column
            for column in self.categorical_
            if frame[column].value_counts(normalize=True).max() < cutoff
        ]
        if not scattered:
            return error
        return ConfigurationError(
            f"WoE binning: in column(s) {scattered} every category is rarer than "
            f"features.binning.cat_cutoff ({cutoff}), like free text or an identifier. List them "
            "in dataset.excluded_columns, give them a parser in dataset.column_types, or lower "
            f"the cut-off (optbinning: {error})."
        )

    def _fit_params(self, frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """optbinning's `OptimalBinning` settings per feature."""
        trends = self.monotonic_trends or {}
        absent = sorted(set(trends) - set(self.feature_names_in_))
        if absent:
            logger.warning("dataset.monotonic_trends names columns not binned: %s", absent)
        params = {}
        for column in self.feature_names_in_:
            entry = {"min_bin_size": self.min_bin_size, "max_n_prebins": self.max_n_prebins}
            entry |= self._special_and_cutoff(column)
            if column in trends:
                entry["monotonic_trend"] = trends[column]
            params[column] = entry
        return params

    def _special_and_cutoff(self, column: str) -> dict[str, Any]:
        """The column's special codes (as text for a categorical column) and category cut-off."""
        entry: dict[str, Any] = {}
        codes = list((self.special_codes or {}).get(column) or [])
        if codes:
            entry["special_codes"] = (
                [str(code) for code in codes] if column in self.categorical_ else codes
            )
        if column in self.categorical_ and self.cat_cutoff:
            entry["cat_cutoff"] = self.cat_cutoff
        return entry

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """WoE of each row's bin; Missing/Special use their training WoE, unseen categories 0."""
        check_is_fitted(self, "binning_process_")
        woe = self.binning_process_.transform(
            self.normalise(X), metric="woe", metric_missing="empirical", metric_special="empirical"
        )
        return woe.astype("float64")

    def bin_labels(self, X: pd.DataFrame) -> pd.DataFrame:
        """Bin label of each row ('Missing', 'Special', 'unknown' included)."""
        check_is_fitted(self, "binning_process_")
        labels = self.binning_process_.transform(self.normalise(X), metric="bins").astype(str)
        # Category bins come back as the repr of a pandas array; keep just the list of values.
        for column in self.categorical_:
            cleaned = {label: _ARRAY_REPR.sub(r"\1", label) for label in labels[column].unique()}
            labels[column] = labels[column].map(cleaned)
        return labels

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One WoE column per binned feature."""
        check_is_fitted(self, "binning_process_")
        return self.feature_names_in_.copy()

    def binning_tables(self) -> pd.DataFrame:
        """Long table: one row per feature and bin (Special and Missing included)."""
        check_is_fitted(self, "binning_process_")
        tables = []
        for feature in self.feature_names_in_:
            table = self._table(feature).reset_index(drop=True)
            table.insert(0, "bin_index", range(len(table)))
            table.insert(0, "feature", feature)
            tables.append(table)
        return pd.concat(tables, ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """optbinning's summary per feature (dtype, bins excl. Special/Missing, IV, Gini, JS);
        entirely missing columns last, as dtype 'empty'."""
        check_is_fitted(self, "binning_process_")
        binned = self.binning_process_.summary().rename(columns={"name": "feature"})
        skipped = [{"feature": c, "dtype": "empty", "n_bins": 0, "iv": 0.0} for c in self.skipped_]
        rows = binned[SUMMARY_COLUMNS].to_dict("records") + skipped
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).astype(
            {"n_bins": "int64", "iv": "float64", "gini": "float64", "js": "float64"}
        )

    def _table(self, feature: str) -> pd.DataFrame:
        table = self.binning_process_.get_binned_variable(feature).binning_table.build()
        table = table.drop(index="Totals", errors="ignore").rename(columns=TABLE_COLUMNS)
        table["bin"] = table["bin"].map(_bin_text)
        table["woe"] = pd.to_numeric(table["woe"], errors="coerce").fillna(0.0)
        return table[list(TABLE_COLUMNS.values())]


class QuantileWoEBinning(OptimalWoEBinning):
    """Unsupervised bins (training quantiles; each frequent category) with their training WoE.

    optbinning with the bins as `user_splits` and nothing left to optimise (no monotonic trend,
    no minimum bin size). Its solver maximises IV, which merging bins never raises, so it keeps
    the bins except: empty or pure ones (no event or no non-event: WoE undefined) join a
    neighbour, and so may neighbours with practically equal event rates (its CP model counts IV
    in integer millionths; on the bundled data, two pairs of states). Fixing the splits
    (`user_splits_fixed`) would prevent that, but optbinning then raises on any pure bin. Rare
    categories share one bin; unseen ones get WoE 0.
    """

    def __init__(
        self,
        exclude: Sequence[str] = (),
        special_codes: Mapping[str, Sequence[Any]] | None = None,
        n_bins: int = _BINNING.quantile_bins,
        cat_cutoff: float | None = _BINNING.cat_cutoff,
    ):
        self.exclude = exclude
        self.special_codes = special_codes
        self.n_bins = n_bins
        self.cat_cutoff = cat_cutoff

    def _fit_params(self, frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """Each feature's bins as user splits, for optbinning's `OptimalBinning`."""
        params = {}
        for column in self.feature_names_in_:
            entry = {"monotonic_trend": None, "min_bin_size": None}
            entry |= self._special_and_cutoff(column)
            values = frame[column]
            regular = values[values.notna() & ~values.isin(entry.get("special_codes", []))]
            splits = self._splits(column, regular)
            if len(splits):  # none: every category is rare, which optbinning reports
                entry["user_splits"] = splits
            params[column] = entry
        return params

    def _splits(self, column: str, regular: pd.Series) -> list:
        """Inner quantiles of a numeric column, or each frequent category of a categorical."""
        if column in self.categorical_:
            shares = regular.value_counts(normalize=True)
            return [[category] for category in shares.index[shares >= (self.cat_cutoff or 0.0)]]
        quantiles = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        return np.unique(np.quantile(regular.astype("float64"), quantiles)).tolist()


def _bin_text(value: Any) -> str:
    """Readable bin label (optbinning gives category bins as arrays)."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray | list | tuple | pd.api.extensions.ExtensionArray):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


# Either binning the features stage fits (features.binning.method).
WoEBinning = OptimalWoEBinning | QuantileWoEBinning
