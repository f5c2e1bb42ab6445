"""Evaluation nodes: test-set metrics, the ranked comparison, plots and the written finding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loan_default.config.names import DECISION_METRICS, GREATER_IS_BETTER, RANKING_METRICS
from loan_default.parameters import Dataset, Evaluation, Training
from loan_default.pipelines.lazy import baselines, findings, matplotlib_figure, plots, results
from loan_default.pipelines.lazy import metrics as _metrics
from loan_default.schema import target_column

METRICS = RANKING_METRICS + DECISION_METRICS


def evaluate_test(
    test_predictions: pd.DataFrame,
    baseline_test_predictions: pd.DataFrame,
    operating_points: dict[str, dict[str, Any]],
    baseline_operating_points: dict[str, dict[str, Any]],
    test_loans: pd.DataFrame,
    dataset: Dataset,
) -> pd.DataFrame:
    """Every metric of every configuration and baseline on the test loans (weighted when the
    Spark environment sampled them above split.test_row_budget)."""
    predictions = pd.concat([test_predictions, baseline_test_predictions], ignore_index=True)
    return results.configuration_metrics(
        predictions,
        operating_points | baseline_operating_points,
        _metrics.Outcomes.of(test_loans, dataset),
    )


def compare_strategies(
    cv_results: pd.DataFrame,
    baseline_cv_results: pd.DataFrame,
    test_metrics: pd.DataFrame,
    operating_points: dict[str, dict[str, Any]],
    baseline_operating_points: dict[str, dict[str, Any]],
    training: Training,
) -> pd.DataFrame:
    """One row per configuration and baseline: CV mean/std and test value per metric, ranked;
    an operating point below training.selection.min_recall of defaults is flagged, not ranked."""
    folds = pd.concat([cv_results, baseline_cv_results], ignore_index=True)
    grouped = folds.groupby("configuration", sort=False)[METRICS]
    summary = (
        grouped.mean()
        .add_prefix("cv_")
        .add_suffix("_mean")
        .join(grouped.std(ddof=1).add_prefix("cv_").add_suffix("_std"))
    )
    test = test_metrics.set_index("configuration")[METRICS].add_prefix("test_")
    points = pd.DataFrame.from_dict(operating_points | baseline_operating_points, orient="index")
    identity = points[["kind", "model", "strategy", "threshold", "threshold_rule"]]
    table = identity.join(summary).join(test)
    # Same order as the champion selection: primary metric, then the tie-breaker (CV means).
    metrics = _metrics.selection_metrics(training)
    table = table.sort_values(
        [f"cv_{metric}_mean" for metric in metrics],
        ascending=[not GREATER_IS_BETTER[metric] for metric in metrics],
        kind="mergesort",
    )
    # An operating point that catches almost no defaults is not a contender: no rank, a flag.
    floor = training.selection.min_recall
    too_few = table["cv_recall_mean"].lt(floor).to_numpy()
    table = pd.concat([table[~too_few], table[too_few]])
    ranks = np.arange(1, len(table) + 1, dtype=float)
    ranks[int((~too_few).sum()) :] = np.nan
    table.insert(0, "rank", pd.array(ranks, dtype="Int64"))
    table["flag"] = [
        f"catches {recall:.1%} of defaults at its operating point (CV recall, below "
        f"{floor:.0%}): not a contender"
        if recall < floor
        else ""
        for recall in table["cv_recall_mean"]
    ]
    ordered = [f"{prefix}{metric}{suffix}" for metric in METRICS
               for prefix, suffix in (("cv_", "_mean"), ("cv_", "_std"), ("test_", ""))]  # fmt: skip
    columns = ["rank", "kind", "model", "strategy", "threshold", "threshold_rule", "flag", *ordered]
    return table.rename_axis("configuration").reset_index()[["configuration", *columns]]


def render_comparison(
    strategy_comparison: pd.DataFrame, evaluation: Evaluation, training: Training
) -> str:
    """The comparison table as markdown (report metrics only)."""
    primary = training.selection.primary_metric
    return findings.comparison_markdown(strategy_comparison, evaluation.report_metrics, primary)


def summarise_champion(
    champion: dict[str, Any], strategy_comparison: pd.DataFrame
) -> dict[str, float | str]:
    """Flat dict for tracking: the champion's threshold, CV mean/std and test value per metric."""
    row = strategy_comparison.set_index("configuration").loc[champion["configuration"]]
    flat: dict[str, float | str] = {
        "configuration": champion["configuration"],
        "model": champion["model"],
        "strategy": champion["strategy"],
        "threshold": float(champion["threshold"]),
        "rank": int(row["rank"]),
    }
    for column, value in row.items():
        if column.startswith(("cv_", "test_")) and pd.notna(value):
            flat[column] = float(value)
    return flat


def _baselines(strategy_comparison: pd.DataFrame, rules: bool) -> pd.DataFrame:
    """The baselines that are yes/no rules (fixed threshold) or, with `rules=False`, scores."""
    baseline = strategy_comparison["kind"] == "baseline"
    fixed = strategy_comparison["threshold_rule"] == "fixed"
    return strategy_comparison[baseline & (fixed if rules else ~fixed)]


def _curves_to_draw(
    strategy_comparison: pd.DataFrame, champion: dict[str, Any]
) -> list[tuple[str, str]]:
    """(label, configuration): champion, the best configuration per model, continuous baselines."""
    chosen = [(f"champion: {champion['configuration']}", champion["configuration"])]
    models = strategy_comparison[strategy_comparison["kind"] == "model"]
    for _, row in models.groupby("model", sort=False).head(1).iterrows():
        if row["configuration"] != champion["configuration"]:
            chosen.append((row["configuration"], row["configuration"]))
    chosen += [
        (name, name) for name in _baselines(strategy_comparison, rules=False)["configuration"]
    ]
    return chosen


def _scores(predictions: pd.DataFrame, chosen: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    return {label: results.configuration_scores(predictions, name) for label, name in chosen}


def plot_curves(
    test_predictions: pd.DataFrame,
    baseline_test_predictions: pd.DataFrame,
    strategy_comparison: pd.DataFrame,
    champion: dict[str, Any],
    operating_points: dict[str, dict[str, Any]],
    baseline_operating_points: dict[str, dict[str, Any]],
    test_loans: pd.DataFrame,
    test_set: dict[str, str],
    dataset: Dataset,
    evaluation: Evaluation,
) -> tuple[matplotlib_figure.Figure, matplotlib_figure.Figure, matplotlib_figure.Figure]:
    """ROC, precision-recall and calibration curves on the test loans."""
    predictions = pd.concat([test_predictions, baseline_test_predictions], ignore_index=True)
    y = test_loans[target_column(dataset)].to_numpy(dtype=int)
    chosen = _curves_to_draw(strategy_comparison, champion)
    scores = _scores(predictions, chosen)
    rules = _baselines(strategy_comparison, rules=True)
    points = {}
    for name in rules.loc[rules["strategy"] != baselines.APPROVE_EVERYONE, "configuration"]:
        reject = _scores(predictions, [(name, name)])[name] >= 0.5
        points[name] = (reject[y == 0].mean(), reject[y == 1].mean())
    specs = operating_points | baseline_operating_points
    probabilistic = {
        label: score
        for (label, name), score in zip(chosen, scores.values(), strict=True)
        if specs[name]["probabilistic"]
    }
    return (
        plots.roc_curves(scores, y, points, test_set["loans"]),
        plots.pr_curves(scores, y, test_set["loans"]),
        plots.calibration_curves(probabilistic, y, evaluation.calibration_bins, test_set["loans"]),
    )


def plot_metric_by_strategy(
    strategy_comparison: pd.DataFrame, evaluation: Evaluation, training: Training
) -> matplotlib_figure.Figure:
    """Bar chart of the primary metric (CV mean +/- std) per model and strategy."""
    metric = evaluation.chart_metric or training.selection.primary_metric
    return plots.metric_by_strategy(strategy_comparison, metric)


def plot_champion_confusion(
    test_predictions: pd.DataFrame,
    champion: dict[str, Any],
    test_loans: pd.DataFrame,
    test_set: dict[str, str],
    dataset: Dataset,
) -> matplotlib_figure.Figure:
    """The champion's confusion matrix at its operating threshold, on the test loans."""
    name = champion["configuration"]
    score = _scores(test_predictions, [(name, name)])[name]
    y = test_loans[target_column(dataset)].to_numpy(dtype=int)
    return plots.confusion_at_threshold(y, score, champion["threshold"], name, test_set["loans"])


def write_model_finding(
    strategy_comparison: pd.DataFrame,
    champion: dict[str, Any],
    test_set: dict[str, str],
    evaluation: Evaluation,
    training: Training,
) -> str:
    """The written finding, generated from the comparison table."""
    references = evaluation.reference_baselines
    if references is None:  # every baseline that ranks loans (not the yes/no rules)
        references = _baselines(strategy_comparison, rules=False)["configuration"].tolist()
    return findings.write_finding(
        strategy_comparison, champion, training.selection.primary_metric, references,
        evaluation.strategy_contrasts, test_set,
    )  # fmt: skip


def describe_strategy_effects(
    strategy_comparison: pd.DataFrame,
    test_loans: pd.DataFrame,
    test_set: dict[str, str],
    evaluation: Evaluation,
    training: Training,
    dataset: Dataset,
) -> str:
    """What each imbalance strategy changes for the models of `evaluation.strategy_effects`."""
    defaults = int(np.sum(test_loans[target_column(dataset)].to_numpy(dtype=int)))
    primary = training.selection.primary_metric
    return findings.write_strategy_effects(
        strategy_comparison, evaluation.strategy_effects, defaults, test_set, primary
    )
