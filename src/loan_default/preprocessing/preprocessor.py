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


class LoanPreprocessor(TransformerMixin, BaseEstimator):
    """Select features -> handle missing values -> encode, as a single transformer.

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
    ):
        self.select = select
        self.missing = missing
        self.encode = encode

    def _steps(self) -> Pipeline:
        return Pipeline(
            [
                ("select", clone(self.select or FeatureSelector())),
                ("missing", clone(self.missing or MissingValueHandler())),
                ("encode", clone(self.encode or FeatureEncoder())),
            ]
        )

    def _fitted(self, pipeline: Pipeline) -> None:
        self.pipeline_ = pipeline
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
        }

    def fit(self, X: pd.DataFrame, y: Any = None) -> LoanPreprocessor:
        """Fit every step on the training loans."""
        pipeline = self._steps()
        pipeline.fit(X, y)
        self._fitted(pipeline)
        return self

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """Fit, and encode the training loans with cross-fitted target encodings."""
        pipeline = self._steps()
        out = pipeline.fit_transform(X, y)
        self._fitted(pipeline)
        return out

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """All-numeric features without missing values; meta and extra columns are ignored."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (safe for every estimator; see `feature_labels_`)."""
        check_is_fitted(self, "pipeline_")
        return np.asarray(
            self.pipeline_.named_steps["encode"].get_feature_names_out(), dtype=object
        )

    def describe_feature(self, name: str) -> str:
        """Original text of an output column: `column`, `column = category`, `column = missing`."""
        check_is_fitted(self, "feature_labels_")
        if name not in self.feature_labels_:
            raise KeyError(f"'{name}' is not an output column of this preprocessor.")
        return self.feature_labels_[name]
