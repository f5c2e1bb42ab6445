"""Stand-ins for the features stage's estimators: same contract, simplest implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from loan_default.modelling.champion import build_champion


class StandInPreprocessor(BaseEstimator, TransformerMixin):
    """Impute + one-hot on a loans frame, ignoring `meta` columns; returns a numeric DataFrame."""

    def __init__(self, meta: tuple[str, ...] = ()):
        self.meta = meta

    def fit(self, X: pd.DataFrame, y=None):
        features = X.drop(columns=[c for c in self.meta if c in X.columns])
        numeric = features.select_dtypes("number").columns.tolist()
        categorical = [c for c in features.columns if c not in numeric]
        categorical = [c for c in categorical if not pd.api.types.is_datetime64_any_dtype(X[c])]
        self.transformer_ = ColumnTransformer(
            [
                ("numeric", SimpleImputer(strategy="median"), numeric),
                (
                    "categorical",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(
                            handle_unknown="infrequent_if_exist",
                            min_frequency=20,
                            sparse_output=False,
                        ),
                    ),
                    categorical,
                ),
            ],
            sparse_threshold=0,
            verbose_feature_names_out=False,
        ).set_output(transform="pandas")
        self.transformer_.fit(features.astype({c: object for c in categorical}), y)
        self.categorical_ = categorical
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        features = X.drop(columns=[c for c in self.meta if c in X.columns])
        out = self.transformer_.transform(features.astype({c: object for c in self.categorical_}))
        return out.astype("float64")

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.transformer_.get_feature_names_out()


class RateFeatures(TransformerMixin, BaseEstimator):
    """Stateless features: the rate, and whether the applicant rents."""

    source_columns_ = {"rate": "rate", "home_rent": "home"}

    def fit(self, X: pd.DataFrame, y=None):
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {"rate": X["rate"].astype(float), "home_rent": (X["home"] == "RENT").astype(float)},
            index=X.index,
        )

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(["rate", "home_rent"], dtype=object)


class RatePD(BaseEstimator):
    """PD = the rate feature, whatever else the row says."""

    classes_ = np.array([0, 1])

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X, y=None):
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        rate = X["rate"].to_numpy(dtype=float)
        return np.column_stack([1 - rate, rate])


def rate_model():
    """A champion whose PD is the rate; threshold 0.15."""
    return build_champion(RateFeatures(), None, RatePD(), None, 0.15)
