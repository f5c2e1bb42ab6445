"""Encode filled features into numbers: one-hot, ordinal with explicit order, cross-fitted target."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import KFold
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder
from sklearn.utils.validation import check_is_fitted

from loan_default.parameters import Encoding
from loan_default.validation import ConfigurationError, DataValidationError, describe_examples

from .columns import is_categorical
from .names import INFREQUENT, EncodedFeature, from_token, one_hot_token, safe_feature_names

_ENCODING = Encoding()  # the defaults' one home: the schema

logger = logging.getLogger(__name__)

ENCODERS = ("one_hot", "ordinal", "target", "passthrough", "drop")


@dataclass(eq=False, repr=False)  # the parameters, stored as scikit-learn expects
class FeatureEncoder(TransformerMixin, BaseEstimator):
    """Per-column encoders from configuration; unlisted text columns by cardinality.

    Numbers pass through. Unseen categories never fail: one-hot maps them to the infrequent
    column (or all zeros), ordinal to `unknown_ordinal_value`, target encoding to the prior.
    `fit_transform` cross-fits the target encoding, so no training row sees its own label.
    Output names are safe for every estimator (see `names`); `feature_labels_` maps them back.
    """

    encoders: Mapping[str, str] | None = None
    categorical_orders: Mapping[str, Sequence[Any]] | None = None
    max_one_hot_categories: int = _ENCODING.max_one_hot_categories
    one_hot_min_frequency: float | int | None = None
    unknown_ordinal_value: float = _ENCODING.unknown_ordinal_value
    target_cv: int = _ENCODING.target_encoder.cv
    target_smooth: float | str = _ENCODING.target_encoder.smooth
    random_state: int | None = None

    def fit(self, X: pd.DataFrame, y: Any = None) -> FeatureEncoder:
        """Choose the encoder of every column and fit them (target encodings on all rows)."""
        self.column_transformer_ = self._build(X, y)
        self.column_transformer_.fit(X, y)
        self._name_outputs()
        return self

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """Fit, and encode the training rows with cross-fitted target encodings."""
        self.column_transformer_ = self._build(X, y)
        encoded = self.column_transformer_.fit_transform(X, y)
        self._name_outputs()
        return self._as_float(encoded)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Encode rows with the fitted encoders (never refits)."""
        check_is_fitted(self, "column_transformer_")
        return self._as_float(self.column_transformer_.transform(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names, stable across fits on the same columns."""
        check_is_fitted(self, "column_transformer_")
        if not hasattr(self, "feature_names_out_"):
            return self.column_transformer_.get_feature_names_out()
        return self.feature_names_out_.copy()

    def _as_float(self, frame: pd.DataFrame) -> pd.DataFrame:
        # Encoders pickled before safe names (registered champions) keep the names their model
        # was trained on.
        if hasattr(self, "feature_names_out_"):
            # Positional: the column transformer's frame follows its get_feature_names_out order.
            frame = frame.set_axis(list(self.feature_names_out_), axis="columns")
        return frame.astype("float64")

    def _name_outputs(self) -> None:
        """Safe output names, their origins and the human text of each."""
        transformer = self.column_transformer_
        raw = list(transformer.get_feature_names_out())
        features = [EncodedFeature(str(name)) for name in raw]
        positions = transformer.output_indices_.get("one_hot", slice(0, 0))
        if positions.stop > positions.start:
            one_hot = transformer.named_transformers_["one_hot"]
            # Unset (no min_frequency) raises AttributeError: then nothing is infrequent.
            pooled = getattr(one_hot, "infrequent_categories_", None)
            pooled_columns = {
                str(column)
                for column, categories in zip(one_hot.feature_names_in_, pooled or (), strict=False)
                if categories is not None
            }
            pairs = [from_token(token) for token in raw[positions]]
            for offset, (column, category) in enumerate(pairs):
                # sklearn puts the pooled column last among its input column's outputs.
                last = offset + 1 == len(pairs) or pairs[offset + 1][0] != column
                infrequent = column in pooled_columns and last and category == INFREQUENT
                features[positions.start + offset] = EncodedFeature(column, category, infrequent)
        names = safe_feature_names(features)
        self.encoded_features_ = features
        self.feature_names_out_ = np.asarray(names, dtype=object)
        self.feature_labels_ = {
            name: feature.describe() for name, feature in zip(names, features, strict=True)
        }

    def _choose(self, X: pd.DataFrame) -> dict[str, str]:
        configured = dict(self.encoders or {})
        unknown = {c: e for c, e in configured.items() if e not in ENCODERS}
        if unknown:
            raise ConfigurationError(
                f"dataset.encoders: unknown encoder(s) {unknown}; choose from {list(ENCODERS)}."
            )
        absent = sorted(set(configured) - set(X.columns))
        if absent:
            logger.warning(
                "dataset.encoders names columns that are not features (or were dropped for "
                "missing values): %s",
                absent,
            )
        choice = {}
        for column in X.columns:
            if column in configured:
                choice[column] = configured[column]
            elif not is_categorical(X[column]):
                choice[column] = "passthrough"
            elif X[column].nunique() <= self.max_one_hot_categories:
                choice[column] = "one_hot"
            else:
                choice[column] = "target"
        return choice

    def _build(self, X: pd.DataFrame, y: Any) -> ColumnTransformer:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"FeatureEncoder needs a pandas DataFrame, got {type(X).__name__}.")
        self.encoder_of_ = self._choose(X)
        by_encoder = {
            name: [c for c, e in self.encoder_of_.items() if e == name] for name in ENCODERS
        }
        if by_encoder["target"] and y is None:
            raise DataValidationError(
                f"FeatureEncoder: target encoding of {by_encoder['target']} needs the target y."
            )
        transformers: list[tuple[str, Any, list[str]]] = []
        if by_encoder["passthrough"]:
            transformers.append(("numeric", "passthrough", by_encoder["passthrough"]))
        if by_encoder["ordinal"]:
            transformers.append(
                ("ordinal", self._ordinal(X, by_encoder["ordinal"]), by_encoder["ordinal"])
            )
        if by_encoder["one_hot"]:
            one_hot = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                min_frequency=self.one_hot_min_frequency,
                sparse_output=False,
                dtype=np.float64,
                feature_name_combiner=one_hot_token,
            )
            transformers.append(("one_hot", one_hot, by_encoder["one_hot"]))
        if by_encoder["target"]:
            target = TargetEncoder(
                smooth=self.target_smooth,
                # KFold (not stratified): a row's fold never depends on any label.
                cv=KFold(self.target_cv, shuffle=True, random_state=self.random_state),
            )
            transformers.append(("target", target, by_encoder["target"]))
        if not transformers:
            raise DataValidationError("FeatureEncoder: every column is configured as 'drop'.")
        logger.debug("Encoders: %s", {k: v for k, v in by_encoder.items() if v})
        return ColumnTransformer(
            transformers, remainder="drop", verbose_feature_names_out=False
        ).set_output(transform="pandas")

    def _ordinal(self, X: pd.DataFrame, columns: list[str]) -> OrdinalEncoder:
        orders = dict(self.categorical_orders or {})
        categories = []
        for column in columns:
            if column not in orders:
                raise ConfigurationError(
                    f"dataset.encoders.{column} is 'ordinal' but dataset.categorical_orders has "
                    f"no order for '{column}'."
                )
            order = list(orders[column])
            outside = sorted(set(X[column].dropna().unique()) - set(order), key=str)
            if outside:
                raise ConfigurationError(
                    f"dataset.categorical_orders.{column}: training values "
                    f"{describe_examples(outside)} are not in the configured order {order}."
                )
            categories.append(np.asarray(order, dtype=object))
        return OrdinalEncoder(
            categories=categories,
            handle_unknown="use_encoded_value",
            unknown_value=self.unknown_ordinal_value,
            dtype=np.float64,
        )
