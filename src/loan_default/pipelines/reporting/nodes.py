"""Reporting nodes: headline metrics for MLflow and a report a person would rather read."""

from __future__ import annotations

from typing import Any

import pandas as pd

from loan_default import report, tracking
from loan_default.tracking import metric_name

from . import adverse_action, sections

# Beside the primary metric's CV mean and spread (training.selection.primary_metric).
METRIC_NAMES = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "ks": "KS"}
COMPARED = [
    "test_roc_auc",
    "test_pr_auc",
    "test_ks",
    "test_brier",
    "test_recall",
    "test_approval_rate",
    "test_expected_cost_per_loan",
]


def collect_run_metrics(
    strategy_comparison: pd.DataFrame, champion: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Champion CV mean/spread and test metrics, and each baseline's, for the parent MLflow run."""
    rows = strategy_comparison.set_index("configuration")
    metrics = {}
    winner = rows.loc[champion["configuration"]]
    for column, value in winner.items():
        if column.startswith(("cv_", "test_")) and pd.notna(value):
            metrics[f"champion.{column}"] = float(value)
    for name, row in rows[rows["kind"] == "baseline"].iterrows():
        label = name.split("/", 1)[-1]
        for column in ("cv_roc_auc_mean", "test_roc_auc", "test_pr_auc"):
            if pd.notna(row[column]):
                metrics[f"baseline.{label}.{column}"] = float(row[column])
        metrics[f"baseline.{label}.test_expected_cost_per_loan"] = float(
            row["test_expected_cost_per_loan"]
        )
    return {metric_name(name): {"value": value, "step": 0} for name, value in metrics.items()}


def describe_configuration_runs(
    strategy_comparison: pd.DataFrame, training: dict[str, Any]
) -> list[dict[str, Any]]:
    """One child-run spec per compared configuration: its metrics, hyperparameters and threshold."""
    params = tracking.configuration_params(strategy_comparison, training)
    return tracking.child_run_specs(strategy_comparison, params)


def render_report(
    split_summary: pd.DataFrame,
    dropped_columns: pd.DataFrame,
    missing_value_report: pd.DataFrame,
    iv_ranking: pd.DataFrame,
    text_feature_stability: pd.DataFrame,
    text_fill_rates: pd.DataFrame,
    strategy_comparison: pd.DataFrame,
    comparison_cv_results: pd.DataFrame,
    cv_scheme: dict[str, Any],
    ablation: pd.DataFrame,
    champion: dict[str, Any],
    champion_metrics: dict[str, Any],
    model_finding: str,
    strategy_effects: str,
    fairness_audit: pd.DataFrame,
    proxy_strength: pd.DataFrame,
    fairness_trade_off: pd.DataFrame,
    fairness_finding: str,
    adverse_action_reasons: pd.DataFrame,
    application_only_comparison: pd.DataFrame,
    test_set: dict[str, str],
    dataset: dict[str, Any],
    training: dict[str, Any],
    reports: dict[str, Any],
    **plots: Any,
) -> str:
    """One self-contained HTML page: data, missingness, IV, text, baselines vs models, how the
    champion was chosen, what each addition contributes, the decision, fair lending."""
    metric = training["selection"]["primary_metric"]
    stable = reports["psi_bands"][0]["label"]
    selection = sections.selection_section(
        strategy_comparison, comparison_cv_results, cv_scheme, champion, metric, test_set["loans"]
    )
    sections_ = [
        ("Data and split", _data_section(split_summary, dropped_columns)),
        ("Missing values", _missing_section(missing_value_report, plots)),
        ("Predictive power (IV) and stability (PSI)", _iv_section(iv_ranking, plots)),
        ("Text features", sections.text_section(text_feature_stability, text_fill_rates, stable)),
        (
            "Baselines, models and imbalance strategies",
            _comparison_section(strategy_comparison, test_set, plots, metric),
        ),
        ("Model selection: which folds chose", selection),
        (
            "Ablation: what each addition contributes",
            sections.ablation_section(ablation, test_set["loans"]),
        ),
        ("The champion", _champion_section(champion_metrics, test_set, plots, metric)),
        ("Written finding", report.markdown(model_finding)),
        ("What each imbalance strategy changes", report.markdown(strategy_effects)),
        (
            "Fair lending",
            sections.fairness_section(
                fairness_audit, proxy_strength, fairness_trade_off, fairness_finding
            )
            + _plot(
                plots,
                "fairness_by_group_plot",
                "Approval rate and adverse impact ratio by group (test set)",
            ),
        ),
        (
            "Adverse-action reasons",
            adverse_action.reasons_section(
                adverse_action_reasons, application_only_comparison, dataset
            ),
        ),
    ]
    return report.page(f"Loan default: {dataset['name']} report", sections_)


def _data_section(split_summary: pd.DataFrame, dropped_columns: pd.DataFrame) -> str:
    reasons = dropped_columns["reason"].str.split(":").str[0].value_counts()
    dropped = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
    sampled = ""
    if (split_summary["kept_loans"] < split_summary["loans"]).any():
        sampled = (
            "<p>Above a row budget the Spark environment kept a weighted sample (kept_loans): "
            "every default and a fraction of repaid training loans, the same fraction of each "
            "class of test loans. Metrics weight each kept loan by the loans it stands for.</p>"
        )
    return (
        report.table(split_summary, digits=4)
        + sampled
        + f"<p>Columns removed before modelling: {dropped} (see dropped_columns.csv).</p>"
    )


def _missing_section(missing: pd.DataFrame, plots: dict[str, Any]) -> str:
    has_missing = missing["missing_count"].gt(0)
    imputed = has_missing & missing["action"].str.startswith("impute")
    decided = missing[has_missing & ~imputed]
    columns = ["column", "missing_rate", "default_rate_missing", "default_rate_present"]
    columns += ["test", "p_value", "action", "reason"]
    summary = (
        f"<p>{int(imputed.sum())} other columns with missing values showed no significant "
        "difference in default rate and were imputed; "
        f"{int((~has_missing).sum())} columns had no missing values in training.</p>"
    )
    return (
        report.table(decided[columns], digits=4)
        + summary
        + _plot(plots, "missing_value_plot", "Missing rate per column in training loans")
    )


def _iv_section(iv_ranking: pd.DataFrame, plots: dict[str, Any]) -> str:
    columns = ["rank", "feature", "iv", "verdict", "gini", "n_bins", "psi", "psi_band"]
    return report.table(iv_ranking[columns].head(15)) + _plot(
        plots, "woe_plot", "Weight of evidence of the most predictive features"
    )


def _comparison_section(
    comparison: pd.DataFrame, test_set: dict[str, str], plots: dict[str, Any], metric: str
) -> str:
    primary = [f"cv_{metric}_mean", f"cv_{metric}_std"]
    if f"test_{metric}" not in COMPARED:
        primary.append(f"test_{metric}")
    shown = comparison[["rank", "configuration", "kind", "threshold", *primary, *COMPARED]]
    return (
        "<p>Ranked by the cross-validated primary metric (training loans only); test columns "
        f"are the {test_set['loans']}, evaluated once.</p>"
        + report.table(shown)
        + _plot(
            plots,
            "metric_by_strategy_plot",
            "Cross-validated metric by imbalance strategy (mean and spread)",
        )
        + _plot(
            plots, "roc_curves_plot", "ROC curves: champion, best per model, baselines (test set)"
        )
        + _plot(plots, "pr_curves_plot", "Precision-recall curves (test set)")
    )


def _champion_section(
    champion: dict[str, Any], test_set: dict[str, str], plots: dict[str, Any], metric: str
) -> str:
    name = METRIC_NAMES.get(metric, metric)
    mean, spread = champion[f"cv_{metric}_mean"], champion[f"cv_{metric}_std"]
    headline = report.kpis(
        {
            "champion": champion["configuration"],
            f"CV {name}": f"{mean:.3f} ± {spread:.3f}",
            f"{test_set['name']}: {name}": f"{champion[f'test_{metric}']:.3f}",
            "threshold (chosen on training folds)": f"{champion['threshold']:.3f}",
            "approval rate (test)": f"{champion['test_approval_rate']:.1%}",
            "defaults caught (recall)": f"{champion['test_recall']:.1%}",
            "expected cost per loan (test)": f"{champion['test_expected_cost_per_loan']:,.0f}",
        }
    )
    return (
        headline
        + _plot(
            plots,
            "calibration_curves_plot",
            "Calibration: predicted vs observed default rate (test set)",
        )
        + _plot(
            plots,
            "champion_confusion_matrix_plot",
            "Champion's confusion matrix at its operating threshold",
        )
    )


def _plot(plots: dict[str, Any], name: str, caption: str) -> str:
    return report.figure(plots[name], caption) if name in plots else ""
