"""The audit in a picture and in words, both generated from the run's own tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_default.parameters import Dataset
from loan_default.pipelines.lazy import fairness as _fairness
from loan_default.pipelines.lazy import matplotlib_figure


def plot_group_rates(audit: pd.DataFrame, max_groups: int) -> matplotlib_figure.Figure:
    """Per view: approval rate and adverse impact ratio with intervals, judged groups only,
    lowest ratios first (at most `max_groups` per view)."""
    views = list(dict.fromkeys(audit["view"])) if len(audit) else []
    figure = matplotlib_figure.Figure(figsize=(11, 1.2 + 0.28 * max_groups * max(len(views), 1)))
    if not views:
        figure.text(0.5, 0.5, "No audited columns (dataset.fairness)", ha="center")
        return figure
    heights = [
        max(2, min(max_groups, int(audit[(audit["view"] == v) & audit["judged"]].shape[0])))
        for v in views
    ]
    grid = figure.subplots(len(views), 2, squeeze=False, gridspec_kw={"height_ratios": heights})
    for (rate_axes, ratio_axes), view in zip(grid, views, strict=True):
        judged = audit[(audit["view"] == view) & audit["judged"]]
        shown = judged.sort_values("adverse_impact_ratio").head(max_groups).iloc[::-1]
        y = np.arange(len(shown))
        for axes, metric, title in (
            (rate_axes, "approval_rate", "approval rate"),
            (ratio_axes, "adverse_impact_ratio", "adverse impact ratio"),
        ):
            value = shown[metric].to_numpy(dtype=float)
            low = value - shown[f"{metric}_low"].to_numpy(dtype=float)
            high = shown[f"{metric}_high"].to_numpy(dtype=float) - value
            colours = np.where(shown["below_four_fifths"], "tab:red", "tab:blue")
            axes.errorbar(value, y, xerr=[low, high], fmt="none", ecolor="grey", capsize=2)
            axes.scatter(value, y, c=colours, s=18, zorder=3)
            axes.set_yticks(y, [f"{g} ({n:,})" for g, n in zip(shown["group"], shown["size"], strict=True)], fontsize=7)  # fmt: skip
            axes.set_title(f"{view}: {title}", fontsize=9)
        ratio_axes.axvline(_fairness.FOUR_FIFTHS, color="tab:red", linestyle="--", linewidth=1)
    figure.suptitle(
        "Approval rate and adverse impact ratio by group at the champion's threshold "
        "(test loans; bars: bootstrap intervals; red: below four-fifths)",
        fontsize=9,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.98))  # room for the title
    return figure


def _range(judged: pd.DataFrame) -> str:
    low, high = judged.loc[judged["approval_rate"].idxmin()], judged.loc[judged["approval_rate"].idxmax()]  # fmt: skip
    return (
        f"approval rates run from {low['approval_rate']:.1%} ({low['group']}) to "
        f"{high['approval_rate']:.1%} ({high['group']})"
    )


def _worst(judged: pd.DataFrame, confidence: float) -> str:
    worst = judged.loc[judged["adverse_impact_ratio"].idxmin()]
    ratio, low, high = (worst[f"adverse_impact_ratio{s}"] for s in ("", "_low", "_high"))
    interval = (
        f"{confidence:.0%} interval {low:.2f}-{high:.2f}" if np.isfinite(low) else "no interval"
    )
    text = f"the lowest adverse impact ratio is {ratio:.2f} ({worst['group']}, {interval})"
    if ratio >= _fairness.FOUR_FIFTHS:
        return text + ", above the four-fifths line."
    if np.isfinite(high) and high < _fairness.FOUR_FIFTHS:
        return text + ": below the four-fifths line even at the top of its interval."
    return text + ": below the four-fifths line, but its interval reaches above it."


def view_sentences(audit: pd.DataFrame, min_group_size: int, confidence: float) -> list[str]:
    """One sentence per view: groups judged, the range of approval rates, the worst ratio."""
    sentences = []
    for view, table in audit.groupby("view", sort=False):
        judged, small = table[table["judged"]], table[~table["judged"]]
        head = (
            f"**{view}**: {len(judged)} groups judged, {len(small)} too small to judge "
            f"(fewer than {min_group_size} test loans or only one outcome)"
        )
        if len(judged) < 2:
            sentences.append(head + "; too few groups to compare.")
            continue
        flagged = judged.loc[judged["below_four_fifths"], "group"].tolist()
        listed = f"Below four-fifths: {', '.join(map(str, flagged))}." if flagged else ""
        sentences.append(f"{head}; {_range(judged)}; {_worst(judged, confidence)} {listed}")
    return sentences


def proxy_sentences(proxy: pd.DataFrame) -> list[str]:
    """How well the model's other features recover each view's group."""
    sentences = []
    for row in proxy.itertuples():
        if not np.isfinite(row.balanced_accuracy):
            continue
        sentences.append(
            f"The model's other features predict **{row.view}** ({row.n_groups} groups) with "
            f"balanced accuracy {row.balanced_accuracy:.2f} against {row.chance_balanced_accuracy:.2f} "
            f"by chance (AUC {row.roc_auc:.2f}); most informative: {row.top_features}."
        )
    return sentences


def ablation_sentence(comparison: pd.DataFrame, audited: list[str]) -> str:
    """What dropping the audited columns from the champion changes, in numbers."""
    if comparison.empty or "change" not in set(comparison["variant"]):
        return ""
    change = comparison.set_index("variant").loc["change"]
    before = comparison.set_index("variant").iloc[0]
    parts = [
        f"Refitted without {', '.join(audited)}, the champion's test ROC AUC changes by "
        f"{change['test_roc_auc']:+.4f} (from {before['test_roc_auc']:.4f}) and its approval "
        f"rate by {change['approval_rate']:+.1%}"
    ]
    for column in [c for c in comparison.columns if c.startswith("worst_air_")]:
        if np.isfinite(change[column]):
            parts.append(
                f"the worst adverse impact ratio by {column.removeprefix('worst_air_')} moves "
                f"{change[column]:+.3f} (from {before[column]:.3f})"
            )
    return "; ".join(parts) + "."


def reasons_sentence(reasons: pd.DataFrame) -> str:
    """How often the champion's first reason is one the scorecard would also give."""
    if "scorecard_rejects" not in reasons or not reasons["scorecard_rejects"].any():
        return ""
    both = reasons[reasons["scorecard_rejects"]]
    agree = both["first_reason_in_scorecard_reasons"].mean()
    return (
        f"Adverse-action reasons: of the {len(reasons):,} test loans the champion rejects, the "
        f"WoE scorecard rejects {len(both):,}; for {agree:.0%} of those the champion's first "
        "reason is among the scorecard's (the scorecard has no text columns: a first reason on "
        "free text never matches)."
    )


def write_finding(
    audit: pd.DataFrame,
    proxy: pd.DataFrame,
    comparison: pd.DataFrame,
    reasons: pd.DataFrame,
    dataset: Dataset,
    confidence: float,
) -> str:
    """Plain-words summary of the audit, the proxies and the trade-off, with its limits."""
    fairness = dataset.fairness
    if audit.empty:
        return (
            "# Fair lending\n\nNothing is audited: dataset.fairness lists no protected or audit "
            "columns.\n"
        )
    lines = ["# Fair lending", ""]
    protected = list(fairness.protected_columns)
    if protected:
        lines += [f"Protected columns, never model inputs: {', '.join(protected)}.", ""]
    lines += [f"- {s}" for s in view_sentences(audit, fairness.min_group_size, confidence)]
    lines += [""] + [f"- {s}" for s in proxy_sentences(proxy)]
    for sentence in (
        ablation_sentence(comparison, list(fairness.audit_columns)),
        reasons_sentence(reasons),
    ):
        if sentence:
            lines += ["", sentence]
    lines += [
        "",
        "These are outcome rates on the test loans at the champion's threshold. A ratio below "
        "0.8 calls for a look at the drivers and at less discriminatory alternatives; it does "
        "not by itself show discrimination, and a ratio above it does not rule it out (groups "
        "differ in their observed default rates, and the groups here are what the data holds, "
        "not applicants' protected characteristics).",
    ]
    return "\n".join(lines) + "\n"
