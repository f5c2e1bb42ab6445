"""Column helpers shared by the transformers: feature selection, dtypes, disguised missing values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from loan_default.validation import DataValidationError


def is_categorical(values: pd.Series) -> bool:
    """True for text / category columns, False for numbers, booleans and dates."""
    return not (
        pd.api.types.is_numeric_dtype(values)
        or pd.api.types.is_bool_dtype(values)
        or pd.api.types.is_datetime64_any_dtype(values)
    )


def as_object(values: pd.Series) -> pd.Series:
    """Text column as plain Python objects with NaN for missing (what sklearn/optbinning expect)."""
    return values.astype("object").where(values.notna(), np.nan)


def sentinel_mask(values: pd.Series, codes: Sequence[Any] | None) -> pd.Series:
    """Rows holding one of the configured sentinel codes (compared as given and as text)."""
    if not codes:
        return pd.Series(False, index=values.index)
    codes = list(codes)
    mask = values.isin(codes)
    if is_categorical(values):
        mask |= values.astype("object").isin([str(code) for code in codes])
    return mask.fillna(False).astype(bool)


def empty_string_mask(values: pd.Series) -> pd.Series:
    """Rows of a text column that are empty or blank strings."""
    if not is_categorical(values):
        return pd.Series(False, index=values.index)
    text = values.astype("object")
    blank = text.map(lambda value: isinstance(value, str) and not value.strip())
    return blank.astype(bool)


def native_missing_mask(values: pd.Series) -> pd.Series:
    """Rows that are NaN/None, or infinite in a numeric column."""
    mask = values.isna()
    if pd.api.types.is_float_dtype(values):
        mask |= np.isinf(values.to_numpy(dtype="float64", na_value=np.nan))
    return mask.astype(bool)


def missing_masks(values: pd.Series, codes: Sequence[Any] | None) -> dict[str, pd.Series]:
    """Native, empty-string and sentinel masks of one column (disjoint), and their union."""
    native = native_missing_mask(values)
    empty = empty_string_mask(values) & ~native
    sentinel = sentinel_mask(values, codes) & ~native & ~empty
    return {
        "native": native,
        "empty": empty,
        "sentinel": sentinel,
        "any": native | empty | sentinel,
    }


def with_missing_marked(
    frame: pd.DataFrame, sentinel_codes: Mapping[str, Sequence[Any]] | None
) -> pd.DataFrame:
    """Copy of `frame` where empty strings and configured sentinel codes are NaN."""
    marked = frame.copy()
    for column in marked.columns:
        mask = missing_masks(marked[column], (sentinel_codes or {}).get(column))["any"]
        if is_categorical(marked[column]):
            marked[column] = as_object(marked[column])
        if mask.any():
            marked[column] = marked[column].mask(mask)
    return marked


def select_features(frame: pd.DataFrame, columns: Sequence[str], where: str) -> pd.DataFrame:
    """The fitted feature columns of `frame`; a clear error when some are absent."""
    absent = [column for column in columns if column not in frame.columns]
    if absent:
        raise DataValidationError(
            f"{where}: {len(absent)} feature column(s) seen at fit time are missing from the "
            f"input: {absent[:10]}{' ...' if len(absent) > 10 else ''}"
        )
    return frame.loc[:, list(columns)]


def feature_names(frame: pd.DataFrame, exclude: Sequence[str] | None, where: str) -> list[str]:
    """Columns of `frame` other than the excluded (meta) ones; an error when none are left."""
    excluded = set(exclude or ())
    names = [column for column in frame.columns if column not in excluded]
    if not names:
        raise DataValidationError(f"{where}: no feature columns left after excluding {excluded}.")
    return names


class FeatureSelector(TransformerMixin, BaseEstimator):
    """Keep the feature columns seen at fit (meta columns such as the target are excluded)."""

    def __init__(self, exclude: Sequence[str] = ()):
        self.exclude = exclude

    def fit(self, X: pd.DataFrame, y: Any = None) -> FeatureSelector:
        """Remember the feature columns of the training frame."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"FeatureSelector needs a pandas DataFrame, got {type(X).__name__}.")
        self.feature_names_in_ = np.asarray(feature_names(X, self.exclude, "FeatureSelector"))
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The fitted feature columns, in fit order (extra columns are ignored)."""
        check_is_fitted(self, "feature_names_in_")
        return select_features(X, list(self.feature_names_in_), "FeatureSelector")

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the selected columns."""
        check_is_fitted(self, "feature_names_in_")
        return self.feature_names_in_.copy()
