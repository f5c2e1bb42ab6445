"""The comparison table as markdown, and a written finding generated from the numbers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .metrics import GREATER_IS_BETTER


def comparison_markdown(comparison: pd.DataFrame, metrics: list[str], primary: str) -> str:
    """Markdown table: one row per configuration, CV mean +/- std and test value per metric."""
    header = ["rank", "configuration", "threshold"]
    for metric in metrics:
        header += [f"{metric} CV", f"{metric} test"]
    lines = [
        f"# Strategy comparison (ranked by cross-validated {primary})",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for _, row in comparison.iterrows():
        rank = "n/a (flagged)" if pd.isna(row["rank"]) else str(int(row["rank"]))
        cells = [rank, row["configuration"], f"{row['threshold']:.3f}"]
        for metric in metrics:
            mean, std = row[f"cv_{metric}_mean"], row[f"cv_{metric}_std"]
            cells.append("n/a" if pd.isna(mean) else f"{_fmt(mean)} ± {_fmt(std, mean)}")
            cells.append("n/a" if pd.isna(row[f"test_{metric}"]) else _fmt(row[f"test_{metric}"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt(value: float, scale: float | None = None) -> str:
    """Money-sized numbers without decimals, rates and scores with three."""
    scale = value if scale is None else scale
    return f"{value:,.0f}" if abs(scale) >= 100 else f"{value:.3f}"


def _row(comparison: pd.DataFrame, configuration: str) -> pd.Series | None:
    match = comparison[comparison["configuration"] == configuration]
    return None if match.empty else match.iloc[0]


def _strategy_contrast(
    comparison: pd.DataFrame, primary: str, first: str, second: str
) -> list[str]:
    """Per model: does `first` beat `second` on CV, and is the gap larger than the spread?"""
    lines, better = [], GREATER_IS_BETTER[primary]
    for model, rows in comparison[comparison["kind"] == "model"].groupby("model", sort=False):
        a = rows[rows["strategy"] == first]
        b = rows[rows["strategy"] == second]
        if a.empty or b.empty:
            continue
        a, b = a.iloc[0], b.iloc[0]
        gap = a[f"cv_{primary}_mean"] - b[f"cv_{primary}_mean"]
        spread = max(a[f"cv_{primary}_std"], b[f"cv_{primary}_std"])
        wins = gap > 0 if better else gap < 0
        verdict = "beat" if wins else "trailed"
        size = "within" if abs(gap) <= spread else "larger than"
        lines.append(
            f"- {model}: {first} {verdict} {second} ({gap:+.4f} CV {primary}), "
            f"{size} the fold-to-fold spread (std up to {spread:.4f})."
        )
    return lines


def write_finding(
    comparison: pd.DataFrame,
    champion: dict[str, Any],
    primary: str,
    reference_baselines: list[str],
    contrasts: list[list[str]],
    test_set: dict[str, str],
) -> str:
    """A short markdown finding: champion vs baselines, strategy contrasts, the decision."""
    top = _row(comparison, champion["configuration"])
    lines = ["# Model finding", ""]
    lines.append(
        f"**Champion: {champion['configuration']}**, chosen by cross-validated {primary} on "
        f"training loans only: {top[f'cv_{primary}_mean']:.4f} ± {top[f'cv_{primary}_std']:.4f} "
        f"(CV), {top[f'test_{primary}']:.4f} on the {test_set['loans']}."
    )
    lines.append("")
    lines.append(f"## Against the baselines ({test_set['name']})")
    for name in reference_baselines:
        base = _row(comparison, name)
        if base is None or pd.isna(base[f"test_{primary}"]):
            continue
        gap = top[f"test_{primary}"] - base[f"test_{primary}"]
        lines.append(
            f"- {name}: {primary} {base[f'test_{primary}']:.4f} (CV {base[f'cv_{primary}_mean']:.4f}); "
            f"the champion is {gap:+.4f}."
        )
    everyone = comparison[comparison["strategy"] == "approve_everyone"]
    if not everyone.empty:
        row = everyone.iloc[0]
        lines.append(
            f"- Approving everyone is {row['test_accuracy']:.1%} accurate with recall "
            f"{row['test_recall']:.2f}: accuracy says nothing about catching defaults. Its "
            f"expected cost is {row['test_expected_cost_per_loan']:,.0f} per loan against the "
            f"champion's {top['test_expected_cost_per_loan']:,.0f}."
        )
    lines += ["", "## Imbalance strategies (cross-validation)"]
    for first, second in contrasts:
        lines += _strategy_contrast(comparison, primary, first, second)
    naive = comparison[(comparison["kind"] == "model") & (comparison["threshold_rule"] == "fixed")]
    if not naive.empty:
        recall = ", ".join(
            f"{row['configuration']} {row['cv_recall_mean']:.2f}" for _, row in naive.iterrows()
        )
        lines.append(f"- At a fixed cut-off the recall of defaults is: {recall}.")
    lines += ["", f"## Decision at the champion's threshold ({test_set['name']})"]
    lines.append(
        f"Threshold {champion['threshold']:.3f} (chosen by {champion['threshold_rule']} on "
        f"out-of-fold training predictions): approval rate {top['test_approval_rate']:.1%}, "
        f"recall {top['test_recall']:.2f}, precision {top['test_precision']:.2f}, expected cost "
        f"{top['test_expected_cost_per_loan']:,.0f} per loan "
        f"({top['test_expected_cost_total']:,.0f} in total)."
    )
    return "\n".join(lines) + "\n"


def strategy_effects(
    comparison: pd.DataFrame, model: str, defaults: int, test_set: dict[str, str], primary: str
) -> list[str]:
    """What each imbalance strategy changes for one model: defaults caught, approvals, ranking
    and cost, against the model unweighted at its fixed cut-off."""
    rows = comparison[(comparison["kind"] == "model") & (comparison["model"] == model)]
    lines = [f"## {model}", ""]
    if rows.empty:  # e.g. an environment that removes the model from the grid
        lines.append(f"- {model} is not a model of this run's grid (training.models).")
        return lines
    fixed = rows[rows["threshold_rule"] == "fixed"]
    if fixed.empty:
        lines.append(f"- No configuration of {model} keeps a fixed cut-off: nothing to start from.")
        return lines
    plain = fixed.iloc[0]
    lines.append(
        f"- Unweighted at the {plain['threshold']:g} cut-off ({plain['configuration']}) it "
        f"catches {_caught(plain, defaults)} of the {test_set['loans']} "
        f"(recall {plain['test_recall']:.2f}; {plain['cv_recall_mean']:.2f} cross-validated) "
        f"and approves {plain['test_approval_rate']:.1%} of applicants; expected cost "
        f"{plain['test_expected_cost_per_loan']:,.0f} per loan."
    )
    for _, row in rows.drop(index=plain.name).iterrows():
        gap = row[f"cv_{primary}_mean"] - plain[f"cv_{primary}_mean"]
        lines.append(
            f"- {row['strategy']}: catches {_caught(row, defaults)} (recall "
            f"{row['test_recall']:.2f}), approves {row['test_approval_rate']:.1%}, expected cost "
            f"{row['test_expected_cost_per_loan']:,.0f} per loan at threshold "
            f"{row['threshold']:.3f} ({row['threshold_rule']}); CV {primary} "
            f"{row[f'cv_{primary}_mean']:.4f} ({gap:+.4f} against unweighted)."
        )
    return lines


def _caught(row: pd.Series, defaults: int) -> str:
    """'N of M defaults' from a row's test recall."""
    return f"{round(row['test_recall'] * defaults):,} of {defaults:,} defaults"


def write_strategy_effects(
    comparison: pd.DataFrame,
    models: list[str],
    defaults: int,
    test_set: dict[str, str],
    primary: str,
) -> str:
    """Markdown: for each of `models`, what each imbalance strategy changes on this data."""
    lines = ["# What each imbalance strategy changes", ""]
    lines.append(
        f"Defaults caught, approvals and expected cost on the {test_set['name']} ({defaults:,} "
        f"defaults); ranking ({primary}) cross-validated on the training loans."
    )
    for model in models:
        lines += ["", *strategy_effects(comparison, model, defaults, test_set, primary)]
    return "\n".join(lines) + "\n"
