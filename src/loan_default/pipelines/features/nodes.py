"""Feature nodes: fit the model preprocessor and the WoE binning, report IV, bins and stability."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from loan_default.parameters import (
    Binning,
    DataQuality,
    Dataset,
    Encoding,
    FeatureReports,
    TextFeatures,
)
from loan_default.pipelines.lazy import binning as _binning
from loan_default.pipelines.lazy import matplotlib_figure, preprocessing, sklearn_base
from loan_default.schema import SAMPLE_WEIGHT, target_column
from loan_default.stability import ReferenceDistribution, band, psi_from_labels
from loan_default.validation import DataValidationError, require_both_classes

logger = logging.getLogger(__name__)


def _target(loans: pd.DataFrame, dataset: Dataset, where: str) -> pd.Series:
    target = target_column(dataset)
    if target not in loans.columns:
        raise DataValidationError(f"{where}: target column '{target}' is missing.")
    require_both_classes(loans[target], where)
    return loans[target]


def _with_target(features: pd.DataFrame, loans: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    # The target, and a sampled table's weights, travel beside the features (never in them).
    for column in (target_column(dataset), SAMPLE_WEIGHT):
        if column in loans.columns:
            features = features.assign(**{column: loans[column].to_numpy()})
    return features.reset_index(drop=True)


def fit_preprocessor(
    train_loans: pd.DataFrame,
    dataset: Dataset,
    data_quality: DataQuality,
    encoding: Encoding,
    text: TextFeatures,
) -> tuple[preprocessing.LoanPreprocessor, pd.DataFrame]:
    """Fit the preprocessor on training loans; encode them (target encodings and text scores
    cross-fitted)."""
    y = _target(train_loans, dataset, "train_loans")
    preprocessor = preprocessing.build_preprocessor(dataset, data_quality, encoding, text)
    train_features = preprocessor.fit_transform(train_loans, y)
    logger.info(
        "Preprocessor: %d training loans -> %d numeric features",
        len(train_features),
        train_features.shape[1],
    )
    return preprocessor, _with_target(train_features, train_loans, dataset)


def transform_loans(
    fitted_preprocessor: sklearn_base.TransformerMixin, loans: pd.DataFrame, dataset: Dataset
) -> pd.DataFrame:
    """Encode loans with the fitted preprocessor (the target column is carried if present)."""
    return _with_target(fitted_preprocessor.transform(loans), loans, dataset)


def fit_binning(
    train_loans: pd.DataFrame, dataset: Dataset, binning: Binning
) -> _binning.WoEBinning:
    """Fit the WoE binning of every feature on training loans."""
    y = _target(train_loans, dataset, "train_loans")
    binning_process = preprocessing.build_binning(dataset, binning).fit(train_loans, y)
    logger.info(
        "Binning (%s): %d features binned",
        binning.method,
        len(binning_process.feature_names_in_),
    )
    return binning_process


def woe_transform(
    binning_process: _binning.WoEBinning, loans: pd.DataFrame, dataset: Dataset
) -> pd.DataFrame:
    """WoE of each feature's bin, plus the target column when present."""
    return _with_target(binning_process.transform(loans), loans, dataset)


def measure_feature_stability(
    binning_process: _binning.WoEBinning,
    train_loans: pd.DataFrame,
    test_loans: pd.DataFrame,
    reports: FeatureReports,
) -> pd.DataFrame:
    """PSI of each feature's bin distribution, training vs test (out-of-time) loans."""
    train_bins = binning_process.bin_labels(train_loans)
    test_bins = binning_process.bin_labels(test_loans)
    rows = []
    for feature in train_bins.columns:
        psi = psi_from_labels(train_bins[feature], test_bins[feature])
        rows.append({"feature": feature, "psi": psi, "psi_band": band(psi, reports.psi_bands)})
    stability = pd.DataFrame(rows).sort_values("psi", ascending=False, ignore_index=True)
    logger.info("Feature stability: %s", stability["psi_band"].value_counts().to_dict())
    return stability


def measure_text_stability(
    fitted_preprocessor: preprocessing.LoanPreprocessor,
    train_features: pd.DataFrame,
    test_features: pd.DataFrame,
    reports: FeatureReports,
) -> pd.DataFrame:
    """PSI of each text feature (`reports.text_psi_bins` quantile bins of the training values),
    training vs test loans."""
    rows = []
    for name in fitted_preprocessor.text_feature_names():
        reference = ReferenceDistribution.of(train_features[name], n_bins=reports.text_psi_bins)
        psi = reference.psi(test_features[name])
        rows.append(
            {
                "feature": name,
                "label": fitted_preprocessor.describe_feature(name),
                "train_mean": float(train_features[name].mean()),
                "test_mean": float(test_features[name].mean()),
                "psi": psi,
                "psi_band": band(psi, reports.psi_bands),
            }
        )
    columns = ["feature", "label", "train_mean", "test_mean", "psi", "psi_band"]
    return pd.DataFrame(rows, columns=columns)


def tabulate_text_fill_rates(
    fitted_preprocessor: preprocessing.LoanPreprocessor,
    train_loans: pd.DataFrame,
    test_loans: pd.DataFrame,
    dataset: Dataset,
) -> pd.DataFrame:
    """Per text column and period (year of the date column, else training/test): share of loans
    with text, and the default rate with and without it."""
    text = fitted_preprocessor.text_features
    if text is None:
        return pd.DataFrame(columns=TEXT_FILL_COLUMNS)
    target, date_column = target_column(dataset), dataset.date_column
    loans = pd.concat(
        [train_loans.assign(__part="training"), test_loans.assign(__part="test")],
        ignore_index=True,
    )
    period = loans[date_column].dt.year.astype(str) if date_column else loans["__part"]
    rows = []
    for column in dataset.text_columns:
        present = text.cleaned(loans, column).str.len() > 0
        for value, members in loans.groupby(period, sort=True).groups.items():
            has, y = present.loc[members], loans.loc[members, target]
            rows.append(
                {
                    "column": column,
                    "period": value,
                    "part": "/".join(sorted(set(loans.loc[members, "__part"]))),
                    "loans": len(members),
                    "share_with_text": round(float(has.mean()), 4),
                    "default_rate_with_text": _rate(y[has]),
                    "default_rate_without_text": _rate(y[~has]),
                }
            )
    return pd.DataFrame(rows, columns=TEXT_FILL_COLUMNS)


TEXT_FILL_COLUMNS = [
    "column", "period", "part", "loans", "share_with_text",
    "default_rate_with_text", "default_rate_without_text",
]  # fmt: skip


def _rate(values: pd.Series) -> float:
    return round(float(values.mean()), 4) if len(values) else float("nan")


def rank_features(
    binning_process: _binning.WoEBinning, feature_stability: pd.DataFrame, reports: FeatureReports
) -> pd.DataFrame:
    """IV ranking with Gini, JS, number of bins, IV verdict, PSI and PSI band."""
    ranking = binning_process.summary().merge(feature_stability, on="feature", how="left")
    ranking["verdict"] = [band(iv, reports.iv_bands) for iv in ranking["iv"]]
    ranking = ranking.sort_values("iv", ascending=False, ignore_index=True)
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    columns = ["rank", "feature", "dtype", "iv", "verdict", "gini", "js", "n_bins"]
    return ranking[columns + ["psi", "psi_band"]]


def tabulate_bins(binning_process: _binning.WoEBinning) -> pd.DataFrame:
    """All binning tables in one long table (feature, bin, counts, event rate, WoE, IV)."""
    return binning_process.binning_tables()


def plot_woe(
    binning_process: _binning.WoEBinning, iv_ranking: pd.DataFrame, reports: FeatureReports
) -> matplotlib_figure.Figure:
    """WoE (bars) and event rate (line) per bin for the top features by IV."""
    top = iv_ranking.loc[iv_ranking["n_bins"] > 0, "feature"].head(reports.woe_plot_top_n)
    tables = binning_process.binning_tables()
    n_cols = 3
    n_rows = max(1, int(np.ceil(len(top) / n_cols)))
    figure = matplotlib_figure.Figure(figsize=(5 * n_cols, 3.6 * n_rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(n_rows, n_cols)).ravel()
    for ax, feature in zip(axes, top, strict=False):
        table = tables[(tables["feature"] == feature) & (tables["count"] > 0)]
        labels = [_short(label) for label in table["bin"]]
        positions = np.arange(len(table))
        ax.bar(positions, table["woe"], color=np.where(table["woe"] >= 0, "#2ca02c", "#d62728"))
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(positions, labels, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("WoE")
        rate_axis = ax.twinx()
        rate_axis.plot(positions, table["event_rate"], color="black", marker="o", lw=1)
        rate_axis.set_ylabel("default rate")
        iv = iv_ranking.loc[iv_ranking["feature"] == feature, "iv"].iloc[0]
        ax.set_title(f"{feature} (IV {iv:.3f})", fontsize=10)
    for ax in axes[len(top) :]:
        ax.set_visible(False)
    return figure


def _short(label: str, width: int = 18) -> str:
    return label if len(label) <= width else label[: width - 3] + "..."
