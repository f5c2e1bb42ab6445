"""Figures for the evaluation report (matplotlib Figure objects, no pyplot global state)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve


def roc_curves(
    scores: dict[str, np.ndarray],
    y: np.ndarray,
    points: dict[str, tuple[float, float]],
    test_loans: str,
) -> Figure:
    """ROC curve per score, and each yes/no rule as one (FPR, TPR) point."""
    figure = Figure(figsize=(7, 6))
    axes = figure.subplots()
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(y, score)
        axes.plot(fpr, tpr, label=name, linewidth=2 if name.startswith("champion") else 1)
    for name, (fpr, tpr) in points.items():
        axes.scatter([fpr], [tpr], marker="x", label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(xlabel="False positive rate (good loans rejected)", ylabel="True positive rate",
             title=f"ROC, {test_loans}")  # fmt: skip
    axes.legend(fontsize=7, loc="lower right")
    return figure


def pr_curves(scores: dict[str, np.ndarray], y: np.ndarray, test_loans: str) -> Figure:
    """Precision-recall curve per score, with the default rate as the no-skill line."""
    figure = Figure(figsize=(7, 6))
    axes = figure.subplots()
    for name, score in scores.items():
        precision, recall, _ = precision_recall_curve(y, score)
        axes.plot(recall, precision, label=name, linewidth=2 if name.startswith("champion") else 1)
    axes.axhline(np.mean(y), linestyle=":", color="grey", label="default rate")
    axes.set(xlabel="Recall (defaults caught)", ylabel="Precision",
             title=f"Precision-recall, {test_loans}")  # fmt: skip
    axes.legend(fontsize=7, loc="upper right")
    return figure


def calibration_curves(
    scores: dict[str, np.ndarray], y: np.ndarray, bins: int, test_loans: str
) -> Figure:
    """Reliability curves: mean predicted probability vs observed default rate per bin."""
    figure = Figure(figsize=(7, 6))
    axes = figure.subplots()
    for name, score in scores.items():
        observed, predicted = calibration_curve(y, score, n_bins=bins, strategy="quantile")
        axes.plot(predicted, observed, marker="o", markersize=3, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    axes.set(xlabel="Predicted default probability", ylabel="Observed default rate",
             title=f"Calibration, {test_loans}")  # fmt: skip
    axes.legend(fontsize=7, loc="upper left")
    return figure


def metric_by_strategy(comparison: pd.DataFrame, metric: str) -> Figure:
    """Cross-validated mean +/- std of one metric, grouped by model, one bar per strategy."""
    models = comparison[comparison["kind"] == "model"]
    table = models.pivot(index="model", columns="strategy", values=f"cv_{metric}_mean")
    errors = models.pivot(index="model", columns="strategy", values=f"cv_{metric}_std")
    figure = Figure(figsize=(9, 5))
    axes = figure.subplots()
    width = 0.8 / max(len(table.columns), 1)
    for position, strategy in enumerate(table.columns):
        x = np.arange(len(table.index)) + position * width
        axes.bar(x, table[strategy], width, yerr=errors[strategy], capsize=3, label=strategy)
    axes.set_xticks(np.arange(len(table.index)) + width * (len(table.columns) - 1) / 2)
    axes.set_xticklabels(table.index)
    low = np.nanmin(table.to_numpy() - errors.fillna(0).to_numpy())
    high = np.nanmax(table.to_numpy() + errors.fillna(0).to_numpy())
    margin = (high - low) * 0.5 or 0.01
    axes.set_ylim(low - margin, high + margin)
    axes.set(ylabel=f"{metric} (CV mean +/- std)", title=f"{metric} by model and strategy")
    axes.legend(fontsize=8)
    return figure


def confusion_at_threshold(
    y: np.ndarray, score: np.ndarray, threshold: float, name: str, test_loans: str
) -> Figure:
    """Confusion matrix (approve/reject vs repaid/default) at the operating threshold."""
    matrix = confusion_matrix(y, (score >= threshold).astype(int), labels=[0, 1])
    figure = Figure(figsize=(5, 4.5))
    axes = figure.subplots()
    axes.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        share = count / matrix.sum()
        axes.text(column, row, f"{count:,}\n({share:.1%})", ha="center", va="center")
    axes.set_xticks([0, 1], ["approved", "rejected"])
    axes.set_yticks([0, 1], ["repaid", "defaulted"])
    axes.set_title(f"{name}\nthreshold {threshold:.3f}, {test_loans}", fontsize=9)
    return figure
