"""Weight-of-evidence binning: optbinning's optimal bins or plain quantile bins, one interface.

Both transformers take a loans frame (meta columns are excluded), map each feature to the WoE of
its bin (`transform`) or to the bin label (`bin_labels`, for PSI), and report `summary()` (IV,
Gini, JS, number of bins per feature) and `binning_tables()` (long format, Special and Missing
bins included). WoE follows optbinning's sign: ln(non-event share / event share), so a positive
WoE means lower risk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from optbinning import BinningProcess
from optbinning.binning.metrics import gini, jensen_shannon
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from loan_default.validation import ConfigurationError, require_both_classes

from .columns import as_object, empty_string_mask, feature_names, is_categorical, select_features

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


class _WoEBinningBase(TransformerMixin, BaseEstimator):
    """Shared plumbing: feature selection, text normalisation and the report formats."""

    def _prepare_fit(self, X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
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
        return self._normalise(X), y

    def _normalise(self, X: pd.DataFrame) -> pd.DataFrame:
        """Fitted features with text as objects and empty strings as missing."""
        frame = select_features(X, list(self.feature_names_in_), type(self).__name__).copy()
        for column in self.categorical_:
            text = as_object(frame[column])
            frame[column] = text.mask(empty_string_mask(text))
        return frame

    def binning_tables(self) -> pd.DataFrame:
        """Long table: one row per feature and bin (Special and Missing included)."""
        check_is_fitted(self, "feature_names_in_")
        tables = []
        for feature in self.feature_names_in_:
            table = self._table(feature).reset_index(drop=True)
            table.insert(0, "bin_index", range(len(table)))
            table.insert(0, "feature", feature)
            tables.append(table)
        return pd.concat(tables, ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """Per feature: dtype, number of bins (excl. Special/Missing), IV, Gini and JS."""
        check_is_fitted(self, "feature_names_in_")
        rows = []
        for feature in self.feature_names_in_:
            table = self._table(feature)
            regular = table[~table["bin"].isin(["Special", "Missing"])]
            rows.append(
                {
                    "feature": feature,
                    "dtype": "categorical" if feature in self.categorical_ else "numerical",
                    "n_bins": int((regular["count"] > 0).sum()),
                    "iv": float(table["iv"].sum()),
                    "gini": float(gini(table["event"].to_numpy(), table["non_event"].to_numpy())),
                    "js": float(table["js"].sum()),
                }
            )
        for feature in self.skipped_:
            rows.append({"feature": feature, "dtype": "empty", "n_bins": 0, "iv": 0.0})
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


class OptimalWoEBinning(_WoEBinningBase):
    """optbinning `BinningProcess` on the feature columns of a loans frame."""

    def __init__(
        self,
        exclude: Sequence[str] = (),
        special_codes: Mapping[str, Sequence[Any]] | None = None,
        monotonic_trends: Mapping[str, str] | None = None,
        min_bin_size: float | None = 0.05,
        max_n_prebins: int = 20,
        cat_cutoff: float | None = None,
    ):
        self.exclude = exclude
        self.special_codes = special_codes
        self.monotonic_trends = monotonic_trends
        self.min_bin_size = min_bin_size
        self.max_n_prebins = max_n_prebins
        self.cat_cutoff = cat_cutoff

    def fit(self, X: pd.DataFrame, y: Any = None) -> OptimalWoEBinning:
        """Fit the optimal binning of every feature on the training rows."""
        frame, y = self._prepare_fit(X, y)
        self.binning_process_ = BinningProcess(
            list(self.feature_names_in_),
            categorical_variables=self.categorical_,
            min_bin_size=self.min_bin_size,
            max_n_prebins=self.max_n_prebins,
            binning_fit_params=self._fit_params(),
        )
        try:
            self.binning_process_.fit(frame, y)
        except ValueError as error:
            raise self._explain(frame, error) from error
        return self

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

    def _fit_params(self) -> dict[str, dict[str, Any]]:
        absent = sorted(set(self.monotonic_trends or {}) - set(self.feature_names_in_))
        if absent:
            logger.warning("dataset.monotonic_trends names columns not binned: %s", absent)
        params: dict[str, dict[str, Any]] = {}
        for column in self.feature_names_in_:
            entry: dict[str, Any] = {}
            if column in (self.monotonic_trends or {}):
                entry["monotonic_trend"] = self.monotonic_trends[column]
            if (self.special_codes or {}).get(column):
                codes = list(self.special_codes[column])
                entry["special_codes"] = (
                    [str(code) for code in codes] if column in self.categorical_ else codes
                )
            if column in self.categorical_ and self.cat_cutoff:
                entry["cat_cutoff"] = self.cat_cutoff
            if entry:
                params[column] = entry
        return params

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """WoE of each row's bin; Missing/Special use their training WoE, unseen categories 0."""
        check_is_fitted(self, "binning_process_")
        woe = self.binning_process_.transform(
            self._normalise(X), metric="woe", metric_missing="empirical", metric_special="empirical"
        )
        return woe.astype("float64")

    def bin_labels(self, X: pd.DataFrame) -> pd.DataFrame:
        """Bin label of each row ('Missing', 'Special', 'unknown' included)."""
        check_is_fitted(self, "binning_process_")
        labels = self.binning_process_.transform(self._normalise(X), metric="bins").astype(str)
        # Category bins come back as the repr of a pandas array; keep just the list of values.
        for column in self.categorical_:
            cleaned = {label: _ARRAY_REPR.sub(r"\1", label) for label in labels[column].unique()}
            labels[column] = labels[column].map(cleaned)
        return labels

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One WoE column per binned feature."""
        check_is_fitted(self, "binning_process_")
        return self.feature_names_in_.copy()

    def _table(self, feature: str) -> pd.DataFrame:
        table = self.binning_process_.get_binned_variable(feature).binning_table.build()
        table = table.drop(index="Totals", errors="ignore").rename(columns=TABLE_COLUMNS)
        table["bin"] = table["bin"].map(_bin_text)
        table["woe"] = pd.to_numeric(table["woe"], errors="coerce").fillna(0.0)
        return table[list(TABLE_COLUMNS.values())]


class QuantileWoEBinning(_WoEBinningBase):
    """Unsupervised bins (training quantiles; frequent categories) with their training WoE."""

    def __init__(
        self,
        exclude: Sequence[str] = (),
        special_codes: Mapping[str, Sequence[Any]] | None = None,
        n_bins: int = 10,
        cat_cutoff: float | None = 0.01,
        smoothing: float = 0.5,
    ):
        self.exclude = exclude
        self.special_codes = special_codes
        self.n_bins = n_bins
        self.cat_cutoff = cat_cutoff
        self.smoothing = smoothing

    def fit(self, X: pd.DataFrame, y: Any = None) -> QuantileWoEBinning:
        """Cut each feature into training-quantile bins and compute each bin's WoE."""
        frame, y = self._prepare_fit(X, y)
        self.edges_, self.categories_, self.tables_ = {}, {}, {}
        for column in self.feature_names_in_:
            values = frame[column]
            special = self._special_mask(column, values)
            regular = values[~special & values.notna()]
            if column in self.categorical_:
                shares = regular.value_counts(normalize=True)
                keep = shares[shares >= (self.cat_cutoff or 0.0)].index
                self.categories_[column] = sorted(map(str, keep))
            else:
                quantiles = np.linspace(0, 1, self.n_bins + 1)[1:-1]
                self.edges_[column] = np.unique(np.quantile(regular.astype("float64"), quantiles))
            self.tables_[column] = self._build_table(column, self._labels(column, values), y)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """WoE of each row's bin (unseen categories fall in Other, or get WoE 0)."""
        check_is_fitted(self, "tables_")
        labels = self.bin_labels(X)
        woe = {
            column: labels[column].map(self.tables_[column].set_index("bin")["woe"]).fillna(0.0)
            for column in self.feature_names_in_
        }
        return pd.DataFrame(woe, index=labels.index).astype("float64")

    def bin_labels(self, X: pd.DataFrame) -> pd.DataFrame:
        """Bin label of each row ('Missing', 'Special', 'Other' included)."""
        check_is_fitted(self, "tables_")
        frame = self._normalise(X)
        return pd.DataFrame(
            {column: self._labels(column, frame[column]) for column in self.feature_names_in_},
            index=frame.index,
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One WoE column per binned feature."""
        check_is_fitted(self, "tables_")
        return self.feature_names_in_.copy()

    def _special_mask(self, column: str, values: pd.Series) -> pd.Series:
        codes = list((self.special_codes or {}).get(column) or [])
        if not codes:
            return pd.Series(False, index=values.index)
        if column in self.categorical_:
            return values.isin([str(code) for code in codes]).astype(bool)
        return values.isin(codes).astype(bool)

    def _numeric_labels(self, column: str) -> list[str]:
        bounds = [-np.inf, *self.edges_[column], np.inf]
        for number_format in ("{:.6g}", "{!r}"):
            labels = [
                f"{'(' if low == -np.inf else '['}{number_format.format(low)}, "
                f"{number_format.format(high)})"
                for low, high in zip(bounds[:-1], bounds[1:], strict=True)
            ]
            if len(set(labels)) == len(labels):
                break
        return labels

    def _labels(self, column: str, values: pd.Series) -> pd.Series:
        special = self._special_mask(column, values)
        if column in self.categorical_:
            text = values.astype("object")
            known = text.isin(self.categories_[column])
            labels = text.where(known, "Other").astype("object")
        else:
            numbers = values.astype("float64").to_numpy()
            index = np.searchsorted(self.edges_[column], numbers, side="right")
            labels = pd.Series(
                np.asarray(self._numeric_labels(column), dtype=object)[index], index=values.index
            )
        labels = labels.mask(values.isna(), "Missing")
        return labels.mask(special, "Special").astype(str)

    def _build_table(self, column: str, labels: pd.Series, y: np.ndarray) -> pd.DataFrame:
        if column in self.categorical_:
            regular = [*self.categories_[column], "Other"]
        else:
            regular = self._numeric_labels(column)
        bins = [*regular, "Special", "Missing"]
        counts = pd.crosstab(labels.to_numpy(), y).reindex(index=bins, columns=[0, 1], fill_value=0)
        non_event, event = counts[0].to_numpy(float), counts[1].to_numpy(float)
        count = non_event + event
        s = self.smoothing
        p_non = (non_event + s) / (non_event.sum() + s * len(bins))
        p_event = (event + s) / (event.sum() + s * len(bins))
        woe = np.where(count > 0, np.log(p_non / p_event), 0.0)
        share_non, share_event = non_event / non_event.sum(), event / event.sum()
        table = pd.DataFrame(
            {
                "bin": bins,
                "count": count.astype(int),
                "count_share": count / count.sum(),
                "non_event": non_event.astype(int),
                "event": event.astype(int),
                "event_rate": np.divide(event, count, out=np.zeros_like(event), where=count > 0),
                "woe": woe,
                "iv": (share_non - share_event) * woe,
                "js": _bin_js(share_event, share_non),
            }
        )
        return table

    def _table(self, feature: str) -> pd.DataFrame:
        return self.tables_[feature]


def _bin_js(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon contribution of each bin (0 where either side is empty, as optbinning)."""
    js = np.zeros_like(p)
    mask = (p > 0) & (q > 0)
    js[mask] = jensen_shannon(p[mask], q[mask], return_sum=False)
    return js


def _bin_text(value: Any) -> str:
    """Readable bin label (optbinning gives category bins as arrays)."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray | list | tuple | pd.api.extensions.ExtensionArray):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)
