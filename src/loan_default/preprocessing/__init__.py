"""Fitted transformations shared by the feature, modelling and scoring stages.

`build_preprocessor` gives the unfitted model preprocessor (missing values + encoding) and
`build_binning` the unfitted WoE binning, both from the parameters. Both accept a loans frame
with or without meta columns (target, date, flags), which they ignore.
"""

from __future__ import annotations

from typing import Any

from loan_default.schema import not_structured, text_columns
from loan_default.validation import ConfigurationError

from .binning import OptimalWoEBinning, QuantileWoEBinning
from .columns import FeatureSelector
from .encoding import FeatureEncoder
from .missing import MissingValueHandler, missingness_test, plan_missing_values
from .preprocessor import LoanPreprocessor
from .text import TextFeatures

__all__ = [
    "FeatureEncoder",
    "FeatureSelector",
    "LoanPreprocessor",
    "MissingValueHandler",
    "OptimalWoEBinning",
    "QuantileWoEBinning",
    "TextFeatures",
    "build_binning",
    "build_preprocessor",
    "missingness_test",
    "plan_missing_values",
]


def build_text_features(dataset: dict[str, Any], text: dict[str, Any]) -> TextFeatures | None:
    """Unfitted text features of dataset.text_columns (None when there are none)."""
    if not text_columns(dataset):
        return None
    return TextFeatures(columns=dataset["text_columns"], **text)


def build_preprocessor(
    dataset: dict[str, Any],
    data_quality: dict[str, Any],
    encoding: dict[str, Any],
    text: dict[str, Any] | None = None,
) -> LoanPreprocessor:
    """Unfitted preprocessor: select features -> handle missing values -> encode, plus the
    features of the text columns when `text` (features.text) is given."""
    missing_rules = {k: v for k, v in data_quality.items() if k != "indicator_suffix"}
    target_encoder = encoding["target_encoder"]
    return LoanPreprocessor(
        text=None if text is None else build_text_features(dataset, text),
        select=FeatureSelector(exclude=not_structured(dataset)),
        missing=MissingValueHandler(
            sentinel_codes=dataset["sentinel_codes"],
            informative_missing=dataset["informative_missing"],
            rules=missing_rules,
            indicator_suffix=data_quality["indicator_suffix"],
        ),
        encode=FeatureEncoder(
            encoders=dataset["encoders"],
            categorical_orders=dataset["categorical_orders"],
            max_one_hot_categories=encoding["max_one_hot_categories"],
            one_hot_min_frequency=encoding["one_hot_min_frequency"],
            unknown_ordinal_value=encoding["unknown_ordinal_value"],
            target_cv=target_encoder["cv"],
            target_smooth=target_encoder["smooth"],
            random_state=encoding["random_state"],
        ),
    )


def build_binning(
    dataset: dict[str, Any], binning: dict[str, Any]
) -> OptimalWoEBinning | QuantileWoEBinning:
    """Unfitted WoE binning of the method named in `binning.method` (optimal | quantile)."""
    method = binning["method"]
    shared = {
        "exclude": not_structured(dataset),
        "special_codes": dataset["sentinel_codes"],
        "cat_cutoff": binning["cat_cutoff"],
    }
    if method == "optimal":
        return OptimalWoEBinning(
            **shared,
            monotonic_trends=dataset["monotonic_trends"],
            min_bin_size=binning["min_bin_size"],
            max_n_prebins=binning["max_n_prebins"],
        )
    if method == "quantile":
        return QuantileWoEBinning(**shared, n_bins=binning["quantile_bins"])
    raise ConfigurationError(f"features.binning.method: '{method}' is not optimal or quantile.")
