"""Fitted transformations shared by the feature, modelling and scoring stages.

`build_preprocessor` gives the unfitted model preprocessor (missing values + encoding) and
`build_binning` the unfitted WoE binning, both from the parameters. Both accept a loans frame
with or without meta columns (target, date, flags), which they ignore.
"""

from __future__ import annotations

from typing import Any

from loan_default.schema import meta_columns
from loan_default.validation import ConfigurationError

from .binning import OptimalWoEBinning, QuantileWoEBinning
from .columns import FeatureSelector
from .encoding import FeatureEncoder
from .missing import MissingValueHandler, missingness_test, plan_missing_values
from .preprocessor import LoanPreprocessor

__all__ = [
    "FeatureEncoder",
    "FeatureSelector",
    "LoanPreprocessor",
    "MissingValueHandler",
    "OptimalWoEBinning",
    "QuantileWoEBinning",
    "build_binning",
    "build_preprocessor",
    "missingness_test",
    "plan_missing_values",
]


def build_preprocessor(
    dataset: dict[str, Any], data_quality: dict[str, Any], encoding: dict[str, Any]
) -> LoanPreprocessor:
    """Unfitted preprocessor: select features -> handle missing values -> encode."""
    missing_rules = {k: v for k, v in data_quality.items() if k != "indicator_suffix"}
    target_encoder = encoding.get("target_encoder") or {}
    return LoanPreprocessor(
        select=FeatureSelector(exclude=meta_columns(dataset)),
        missing=MissingValueHandler(
            sentinel_codes=dataset.get("sentinel_codes") or {},
            informative_missing=dataset.get("informative_missing") or {},
            rules=missing_rules,
            indicator_suffix=data_quality.get("indicator_suffix", "__missing"),
        ),
        encode=FeatureEncoder(
            encoders=dataset.get("encoders") or {},
            categorical_orders=dataset.get("categorical_orders") or {},
            max_one_hot_categories=encoding.get("max_one_hot_categories", 15),
            one_hot_min_frequency=encoding.get("one_hot_min_frequency"),
            unknown_ordinal_value=encoding.get("unknown_ordinal_value", -1.0),
            target_cv=target_encoder.get("cv", 5),
            target_smooth=target_encoder.get("smooth", "auto"),
            random_state=encoding.get("random_state"),
        ),
    )


def build_binning(
    dataset: dict[str, Any], binning: dict[str, Any]
) -> OptimalWoEBinning | QuantileWoEBinning:
    """Unfitted WoE binning of the method named in `binning.method` (optimal | quantile)."""
    method = binning.get("method", "optimal")
    exclude = meta_columns(dataset)
    special_codes = dataset.get("sentinel_codes") or {}
    if method == "optimal":
        return OptimalWoEBinning(
            exclude=exclude,
            special_codes=special_codes,
            monotonic_trends=dataset.get("monotonic_trends") or {},
            min_bin_size=binning.get("min_bin_size", 0.05),
            max_n_prebins=binning.get("max_n_prebins", 20),
            cat_cutoff=binning.get("cat_cutoff"),
        )
    if method == "quantile":
        return QuantileWoEBinning(
            exclude=exclude,
            special_codes=special_codes,
            n_bins=binning.get("quantile_bins", 10),
            cat_cutoff=binning.get("cat_cutoff"),
        )
    raise ConfigurationError(f"features.binning.method: '{method}' is not optimal or quantile.")
