"""Reporting nodes: headline metrics for MLflow and a report a person would rather read."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loan_default import report
from loan_default.parameters import Dataset, FeatureReports, Training
from loan_default.pipelines.lazy import results, tracking
from loan_default.profile import ScoringProfile
from loan_default.schema import column_labels, sample_weights, target_values
from loan_default.stability import band

from . import adverse_action, sections

# Score bands of the gains table; explained test loans for the drivers (an even spread of rows).
GAINS_BANDS = 10
DRIVER_ROWS = 5000

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
    strategy_comparison: pd.DataFrame,
    champion: dict[str, Any],
    *stage_metrics: dict[str, dict[str, float]],
) -> dict[str, dict[str, float]]:
    """Champion CV mean/spread and test metrics, and each baseline's, for the parent MLflow run,
    with the metrics other stages computed (`stage_metrics`: ablation, fairness): one metrics
    dataset per run."""
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
    collected = {
        tracking.metric_name(name): {"value": value, "step": 0} for name, value in metrics.items()
    }
    for stage in stage_metrics:
        collected |= stage
    return collected


def describe_configuration_runs(
    strategy_comparison: pd.DataFrame, training: Training
) -> list[dict[str, Any]]:
    """One child-run spec per compared configuration: its metrics, hyperparameters and threshold."""
    params = tracking.configuration_params(strategy_comparison, training)
    return tracking.child_run_specs(strategy_comparison, params)


def tabulate_gains(
    test_predictions: pd.DataFrame,
    champion: dict[str, Any],
    test_loans: pd.DataFrame,
    dataset: Dataset,
) -> pd.DataFrame:
    """Gains and lift by score decile of the champion on the test loans (decile 1 = riskiest)."""
    score = results.configuration_scores(test_predictions, champion["configuration"])
    defaults = target_values(test_loans, dataset).astype(float)
    weights = sample_weights(test_loans)
    weights = np.ones_like(score) if weights is None else weights
    order = np.argsort(-score, kind="mergesort")
    decile = np.empty(len(score), dtype=int)
    decile[order] = np.arange(len(score)) * GAINS_BANDS // max(len(score), 1) + 1
    frame = pd.DataFrame({"decile": decile, "score": score, "w": weights, "d": defaults * weights})
    table = frame.groupby("decile").agg(
        loans=("w", "sum"), defaults=("d", "sum"), lowest_pd=("score", "min"),
        highest_pd=("score", "max"), mean_pd=("score", "mean"),
    )  # fmt: skip
    table["default_rate"] = table["defaults"] / table["loans"]
    table["share_of_defaults"] = table["defaults"] / table["defaults"].sum()
    table["cumulative_share_of_loans"] = table["loans"].cumsum() / table["loans"].sum()
    table["cumulative_share_of_defaults"] = table["share_of_defaults"].cumsum()
    overall = table["defaults"].sum() / table["loans"].sum()
    table["lift"] = table["default_rate"] / overall
    table["cumulative_lift"] = (
        table["cumulative_share_of_defaults"] / table["cumulative_share_of_loans"]
    )
    table[["loans", "defaults"]] = table[["loans", "defaults"]].round().astype(int)
    return table.reset_index()


def measure_score_stability(
    cv_predictions: pd.DataFrame,
    test_predictions: pd.DataFrame,
    champion: dict[str, Any],
    scoring_profile: ScoringProfile,
    train_loans: pd.DataFrame,
    test_loans: pd.DataFrame,
    dataset: Dataset,
    reports: FeatureReports,
) -> pd.DataFrame:
    """PSI of the champion's scores per quarter against its training scores (the reference the
    registered model carries): out-of-fold scores for training quarters, test scores after."""
    date = dataset.date_column
    columns = ["quarter", "sample", "loans", "mean_pd", "default_rate", "psi", "psi_band"]
    if not date:
        return pd.DataFrame(columns=columns)
    name = champion["configuration"]
    validated = cv_predictions[
        (cv_predictions["configuration"] == name) & (cv_predictions["repeat"] == 0)
    ]
    periods = [
        ("training (out of fold)", train_loans.iloc[validated["row"].to_numpy()],
         validated["score"].to_numpy()),
        ("test", test_loans, results.configuration_scores(test_predictions, name)),
    ]  # fmt: skip
    rows = []
    for sample, loans, score in periods:
        quarter = pd.to_datetime(loans[date]).dt.to_period("Q").astype(str).to_numpy()
        defaults = target_values(loans, dataset)
        for label in sorted(set(quarter)):
            mask = quarter == label
            psi = scoring_profile.score_reference.psi(score[mask])
            rows.append(
                {"quarter": label, "sample": sample, "loans": int(mask.sum()),
                 "mean_pd": float(score[mask].mean()),
                 "default_rate": float(defaults[mask].mean()), "psi": psi,
                 "psi_band": band(psi, reports.psi_bands)}
            )  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def rank_champion_drivers(
    test_features: pd.DataFrame, scoring_profile: ScoringProfile, dataset: Dataset
) -> pd.DataFrame:
    """The input columns that move the champion's PD most on the test loans, largest first."""
    rows = np.unique(np.linspace(0, len(test_features) - 1, DRIVER_ROWS).astype(int))
    contributions = scoring_profile.explainer.contributions(
        test_features.iloc[rows].reset_index(drop=True)
    )
    top = contributions.idxmax(axis=1)[contributions.max(axis=1) > 0]
    labels = column_labels(dataset)
    table = pd.DataFrame(
        {
            "column": contributions.columns,
            "label": [labels.get(column, column) for column in contributions.columns],
            "mean_absolute_effect": contributions.abs().mean().to_numpy(),
            "mean_effect": contributions.mean().to_numpy(),
            "share_first_reason": [
                float((top == column).sum()) / len(contributions)
                for column in contributions.columns
            ],
        }
    ).sort_values("mean_absolute_effect", ascending=False, kind="mergesort")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def summarise_for_committee(
    strategy_comparison: pd.DataFrame,
    champion: dict[str, Any],
    gains: pd.DataFrame,
    split_summary: pd.DataFrame,
    test_set: dict[str, str],
    dataset: Dataset,
) -> dict[str, Any]:
    """The executive summary's figures and the limitations, for the top of the report."""
    rows = strategy_comparison.set_index("configuration")
    winner = rows.loc[champion["configuration"]]
    baselines = rows[rows["kind"] == "baseline"]
    ranked = baselines[baselines["rank"].notna()]
    best = ranked["test_roc_auc"].idxmax() if not ranked.empty else None
    everyone = next((name for name in baselines.index if name.endswith("approve_everyone")), None)
    top = gains.iloc[0]
    summary = {
        "champion": champion["configuration"],
        "test_set": test_set["name"],
        "test_roc_auc": float(winner["test_roc_auc"]),
        "test_pr_auc": float(winner["test_pr_auc"]),
        "approval_rate": float(winner["test_approval_rate"]),
        "recall": float(winner["test_recall"]),
        "threshold": float(winner["threshold"]),
        "expected_cost_per_loan": float(winner["test_expected_cost_per_loan"]),
        "best_baseline": best,
        "best_baseline_roc_auc": None if best is None else float(rows.loc[best, "test_roc_auc"]),
        "best_baseline_cost_per_loan": None
        if best is None
        else float(rows.loc[best, "test_expected_cost_per_loan"]),
        "approve_everyone_cost_per_loan": None
        if everyone is None
        else float(rows.loc[everyone, "test_expected_cost_per_loan"]),
        "top_decile_share_of_defaults": float(top["share_of_defaults"]),
        "top_decile_lift": float(top["lift"]),
        "limitations": _limitations(split_summary, test_set, dataset),
    }
    return summary


def _limitations(
    split_summary: pd.DataFrame, test_set: dict[str, str], dataset: Dataset
) -> list[str]:
    population = dataset.population or (
        f"{dataset.name}: who is and is not in the data is not described (dataset.population)"
    )
    lines = [f"Sample: {population}."]
    periods = split_summary.set_index("split")
    if {"first_date", "last_date"} <= set(periods.columns) and periods["first_date"].notna().all():
        train, test = periods.loc["train"], periods.loc["test"]
        lines.append(
            f"Period: training loans issued {train['first_date']} to {train['last_date']} "
            f"({int(train['loans']):,} loans); the {test_set['loans']} were issued "
            f"{test['first_date']} to {test['last_date']} ({int(test['loans']):,} loans), "
            "scored once after the champion, its threshold and calibration were chosen on "
            "training loans only."
        )
    else:
        lines.append(
            f"Period: the data has no application date, so the {test_set['loans']} are a "
            "random stratified share of the same period: they do not show how the model ages."
        )
    ignored = dataset.target.ignore or []
    if ignored:
        lines.append(
            "Outcomes: loans without a final outcome (" + ", ".join(ignored) + ") are left "
            "out; the model learned only from loans that were repaid or charged off."
        )
    costs = dataset.costs
    lines.append(
        f"Expected cost assumes a missed default loses {costs.loss_given_default:.0%} of the "
        f"amount and a wrongly declined good loan forgoes {costs.interest_margin:.0%} of it "
        "(dataset.costs); other figures change the threshold and the costs."
    )
    return lines


def render_report(
    executive_summary: dict[str, Any],
    gains: pd.DataFrame,
    champion_drivers: pd.DataFrame,
    score_stability: pd.DataFrame,
    split_summary: pd.DataFrame,
    dropped_columns: pd.DataFrame,
    duplicate_summary: dict[str, Any],
    scorecard_points: pd.DataFrame,
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
    rating_backtest: pd.DataFrame,
    calibration_summary: pd.DataFrame,
    master_scale: pd.DataFrame,
    test_set: dict[str, str],
    dataset: Dataset,
    training: Training,
    reports: FeatureReports,
    **plots: Any,
) -> str:
    """One self-contained HTML page: the summary and limitations first, then the champion's
    gains, drivers and stability, then data, features, the comparison and fair lending.

    Each section is one (title, HTML) entry of `sections_`, in reading order: to add one, give
    its dataset to the node (pipeline.py TABLES) and insert an entry where it should read.
    """
    metric = training.selection.primary_metric
    stable = reports.psi_bands[0].label
    selection = sections.selection_section(
        strategy_comparison, comparison_cv_results, cv_scheme, champion, metric, test_set["loans"]
    )
    sections_ = [
        ("Executive summary", _summary_section(executive_summary)),
        ("Limitations", _limitations_section(executive_summary)),
        ("The champion", _champion_section(champion_metrics, test_set, plots, metric)),
        ("Gains and lift by score decile", _gains_section(gains, test_set)),
        ("What drives the champion's scores", _drivers_section(champion_drivers, test_set)),
        ("Score stability by quarter (PSI)", _stability_section(score_stability, stable)),
        (
            "Calibration and the master scale (backtest by grade)",
            sections.calibration_section(
                rating_backtest, calibration_summary, master_scale, test_set["loans"]
            ),
        ),
        ("Model finding", report.markdown(model_finding, drop_title=True)),
        (
            "Baselines, models and imbalance strategies",
            _comparison_section(strategy_comparison, test_set, plots, metric)
            + _scorecard_section(scorecard_points, test_set),
        ),
        ("Model selection: which folds chose", selection),
        (
            "Ablation: what each addition contributes",
            sections.ablation_section(ablation, test_set["loans"]),
        ),
        (
            "What each imbalance strategy changes",
            report.markdown(strategy_effects, drop_title=True),
        ),
        ("Data and split", _data_section(split_summary, dropped_columns, duplicate_summary)),
        ("Missing values", _missing_section(missing_value_report, plots)),
        ("Predictive power (IV) and stability (PSI)", _iv_section(iv_ranking, plots)),
        ("Text features", sections.text_section(text_feature_stability, text_fill_rates, stable)),
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
    return report.page(f"Loan default: {dataset.name} report", sections_)


def _summary_section(summary: dict[str, Any]) -> str:
    best = summary["best_baseline"]
    figures = {
        "champion": summary["champion"],
        f"ROC AUC ({summary['test_set']})": f"{summary['test_roc_auc']:.3f}",
        "approval rate": f"{summary['approval_rate']:.1%}",
        "defaults caught": f"{summary['recall']:.1%}",
        "expected cost per loan": f"{summary['expected_cost_per_loan']:,.0f}",
        "riskiest 10% of loans": f"{summary['top_decile_share_of_defaults']:.0%} of defaults",
    }
    notes = {
        "approval rate": f"threshold {summary['threshold']:.3f} (chosen on training loans)",
        "riskiest 10% of loans": f"lift {summary['top_decile_lift']:.1f}x the average rate",
    }
    if best is not None:
        notes[f"ROC AUC ({summary['test_set']})"] = (
            f"{summary['test_roc_auc'] - summary['best_baseline_roc_auc']:+.3f} over the best "
            f"baseline, {best.split('/', 1)[-1]} ({summary['best_baseline_roc_auc']:.3f})"
        )
    savings = []
    if summary["approve_everyone_cost_per_loan"] is not None:
        savings.append(
            f"{summary['approve_everyone_cost_per_loan'] - summary['expected_cost_per_loan']:,.0f}"
            " less than approving everyone"
        )
    if best is not None:
        savings.append(
            f"{summary['best_baseline_cost_per_loan'] - summary['expected_cost_per_loan']:,.0f}"
            f" less than {best.split('/', 1)[-1]}"
        )
    if savings:
        notes["expected cost per loan"] = "; ".join(savings)
    return report.kpis(figures, notes) + (
        f"<p>All figures are on the {summary['test_set']}, scored once after every choice was "
        "made on training loans. Expected cost per loan: the loss on missed defaults plus the "
        "margin forgone on declined good loans, over every applicant (lower is better).</p>"
    )


def _limitations_section(summary: dict[str, Any]) -> str:
    return "<p>" + " ".join(summary["limitations"]) + "</p>"


def _gains_section(gains: pd.DataFrame, test_set: dict[str, str]) -> str:
    shares = ("default_rate", "share_of_defaults", "cumulative_share_of_loans")
    shares += ("cumulative_share_of_defaults",)
    return (
        f"<p>The {test_set['loans']} in ten equal bands of the champion's probability of "
        "default, riskiest first. Lift: the band's default rate over the average; cumulative "
        "lift: the same for every band down to this one.</p>"
        + report.table(gains, digits=3, percent=shares)
    )


def _drivers_section(drivers: pd.DataFrame, test_set: dict[str, str]) -> str:
    shown = drivers.head(10)[["rank", "label"]].assign(
        pd_points_absolute=drivers["mean_absolute_effect"] * 100,
        pd_points_signed=drivers["mean_effect"] * 100,
        share_first_reason=drivers["share_first_reason"],
    )
    return (
        f"<p>The ten input columns that move the champion's probability of default most on "
        f"the {test_set['loans']}: average effect in PD points against typical approved "
        "applicants (absolute, then signed), and how often the column is an applicant's first "
        "reason. The same attribution gives the adverse-action reasons (Fair lending).</p>"
        + report.table(shown, digits=2, percent=("share_first_reason",))
    )


def _stability_section(stability: pd.DataFrame, stable: str) -> str:
    if stability.empty:
        return "<p>The data has no application date (dataset.date_column): no quarters.</p>"
    moved = stability[stability["psi_band"] != stable]
    verdict = (
        f"<p>Every quarter is {stable} against the training scores.</p>"
        if moved.empty
        else "<p>Quarters whose scores moved: "
        + ", ".join(
            f"{row.quarter} (PSI {row.psi:.3f}, {row.psi_band})" for row in moved.itertuples()
        )
        + ".</p>"
    )
    return (
        "<p>PSI of the champion's scores per quarter against its scores on the training loans "
        "(the reference the registered model carries for drift): training quarters use "
        "out-of-fold scores, so early quarters that only ever fitted have no row.</p>"
        + report.table(stability, digits=3, percent=("mean_pd", "default_rate"))
        + verdict
    )


def _scorecard_section(points: pd.DataFrame, test_set: dict[str, str]) -> str:
    if points.empty:
        return ""
    return (
        f"<p>The WoE scorecard baseline in points bands (higher = safer), on the "
        f"{test_set['loans']}:</p>" + report.table(points, digits=3, percent=("default_rate",))
    )


def _duplicates(summary: dict[str, Any]) -> str:
    repeated = sum((summary.get("repeated_identifier_rows") or {}).values())
    return (
        f"<p>Duplicates: {summary['exact_duplicate_rows']:,} exact duplicate rows and "
        f"{repeated:,} rows with a repeated identifier among {summary['rows']:,} raw rows; "
        f"{summary['dropped_rows']:,} dropped (dataset.duplicates).</p>"
    )


def _data_section(
    split_summary: pd.DataFrame, dropped_columns: pd.DataFrame, duplicates: dict[str, Any]
) -> str:
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
        + _duplicates(duplicates)
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
        report.table(
            decided[columns],
            digits=4,
            why_missing="no test where a column's missing or present loans are too few to compare",
        )
        + summary
        + _plot(plots, "missing_value_plot", "Missing rate per column in training loans")
    )


def _iv_section(iv_ranking: pd.DataFrame, plots: dict[str, Any]) -> str:
    columns = ["rank", "feature", "iv", "verdict", "gini", "n_bins", "psi", "psi_band"]
    why = "PSI is measured on binned numeric and categorical columns only"
    return report.table(iv_ranking[columns].head(15), why_missing=why) + _plot(
        plots, "woe_plot", "Weight of evidence of the most predictive features"
    )


def _comparison_section(
    comparison: pd.DataFrame, test_set: dict[str, str], plots: dict[str, Any], metric: str
) -> str:
    primary = [f"cv_{metric}_mean", f"cv_{metric}_std"]
    if f"test_{metric}" not in COMPARED:
        primary.append(f"test_{metric}")
    shown = comparison[["rank", "configuration", "kind", "threshold", *primary, *COMPARED]]
    flagged = comparison[comparison["rank"].isna()]
    note = ""
    if not flagged.empty:
        note = (
            "<p class='flag'>Not ranked: "
            + "; ".join(f"{row.configuration} {row.flag}" for row in flagged.itertuples())
            + ".</p>"
        )
    why = {
        "rank": "flagged, see below",
        f"cv_{metric}_std": "a baseline fitted once has no fold-to-fold spread",
        "test_brier": "a rule or a score that is not a probability has no Brier score",
    }
    return (
        "<p>Ranked by the cross-validated primary metric (training loans only); test columns "
        f"are the {test_set['loans']}, evaluated once. An operating point that catches almost "
        "no defaults is listed last, without a rank.</p>"
        + report.table(shown, why_missing=why)
        + note
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
