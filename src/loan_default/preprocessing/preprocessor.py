"""The model preprocessor: one estimator for selection, missing values and encoding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .columns import FeatureSelector
from .encoding import FeatureEncoder
from .missing import MissingValueHandler
from .text import TextFeatures


class LoanPreprocessor(TransformerMixin, BaseEstimator):
    """Select features -> handle missing values -> encode, as a single transformer; free-text
    columns take a separate path (`text`, see text.py) and their features are appended.

    Not an sklearn `Pipeline` on purpose: imbalanced-learn pipelines refuse nested pipelines,
    and the modelling stage puts this step before a resampler. Nested parameters work as usual
    (`missing__rules`, `encode__max_one_hot_categories`, ...). Output names are safe for every
    estimator; `feature_labels_` / `describe_feature` give back the original column and category.
    """

    def __init__(
        self,
        select: FeatureSelector | None = None,
        missing: MissingValueHandler | None = None,
        encode: FeatureEncoder | None = None,
        text: TextFeatures | None = None,
    ):
        self.select = select
        self.missing = missing
        self.encode = encode
        self.text = text

    def _steps(self) -> Pipeline:
        return Pipeline(
            [
                ("select", clone(self.select or FeatureSelector())),
                ("missing", clone(self.missing or MissingValueHandler())),
                ("encode", clone(self.encode or FeatureEncoder())),
            ]
        )

    def _fitted(self, pipeline: Pipeline, text: TextFeatures | None) -> None:
        self.pipeline_, self.text_ = pipeline, text
        missing, encode = pipeline.named_steps["missing"], pipeline.named_steps["encode"]
        self.missing_plan_ = missing.plan_
        self.feature_names_in_ = pipeline.named_steps["select"].feature_names_in_
        self.n_features_in_ = len(self.feature_names_in_)
        indicated = {f"{c}{missing.indicator_suffix}": c for c in missing.indicator_columns_}
        # An indicator reads like a reason on the raw value ("column = missing"), not "x__missing".
        self.feature_labels_ = {
            name: (
                f"{indicated[feature.column]} = missing"
                if feature.category is None and feature.column in indicated
                else feature.describe()
            )
            for name, feature in zip(
                encode.feature_names_out_, encode.encoded_features_, strict=True
            )
        } | (text.feature_labels_ if text is not None else {})
        # Reasons are given per input column: every output column knows the column it came from.
        self.source_columns_ = {
            name: indicated.get(feature.column, feature.column)
            for name, feature in zip(
                encode.feature_names_out_, encode.encoded_features_, strict=True
            )
        } | (text.source_columns() if text is not None else {})

    def fit(self, X: pd.DataFrame, y: Any = None) -> LoanPreprocessor:
        """Fit every step on the training loans."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """Fit, and encode the training loans with cross-fitted target encodings and text scores."""
        pipeline, text = self._steps(), clone(self.text) if self.text is not None else None
        out = pipeline.fit_transform(X, y)
        if text is not None:
            out = pd.concat([out, text.fit_transform(X, y).set_axis(out.index)], axis=1)
        self._fitted(pipeline, text)
        return out

    @property
    def text_features(self) -> TextFeatures | None:
        """The fitted text step, or None (no text columns, or pickled before text features)."""
        return getattr(self, "text_", None)

    def text_feature_names(self) -> list[str]:
        """Output columns made from free text (empty without text columns)."""
        text = self.text_features
        return [] if text is None else list(text.get_feature_names_out())

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """All-numeric features without missing values; meta and extra columns are ignored."""
        check_is_fitted(self, "pipeline_")
        out = self.pipeline_.transform(X)
        text = self.text_features
        if text is not None:
            out = pd.concat([out, text.transform(X).set_axis(out.index)], axis=1)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (safe for every estimator; see `feature_labels_`)."""
        check_is_fitted(self, "pipeline_")
        names = list(self.pipeline_.named_steps["encode"].get_feature_names_out())
        return np.asarray(names + self.text_feature_names(), dtype=object)

    def describe_feature(self, name: str) -> str:
        """Original text of an output column: `column`, `column = category`, `column = missing`."""
        check_is_fitted(self, "feature_labels_")
        if name not in self.feature_labels_:
            raise KeyError(f"'{name}' is not an output column of this preprocessor.")
        return self.feature_labels_[name]
