"""The report's adverse-action reasons section: what the notices of the test loans the champion
rejects say, how much of each rejection they explain, how they agree with the WoE scorecard's,
and what serving the application-only champion would cost."""

from __future__ import annotations

import html

import pandas as pd

from loan_default import report
from loan_default.parameters import Dataset
from loan_default.pipelines.lazy import reasons as _reasons
from loan_default.schema import column_labels, never_reasons

EXAMPLES = 3  # notices shown: the rejections at the 10th, 50th and 90th percentile of PD
HEADERS = {
    "variant": "Model",
    "test_roc_auc": "Test ROC AUC",
    "test_pr_auc": "Test PR AUC",
    "test_ks": "Test KS",
    "test_recall": "Defaults caught",
    "test_approval_rate": "Approval rate",
    "test_expected_cost_per_loan": "Expected cost per loan",
}


def reasons_section(reasons: pd.DataFrame, application_only: pd.DataFrame, dataset: Dataset) -> str:
    """Never-reason columns, coverage, shares per reason, agreement with the scorecard,
    example notices and the application-only champion side by side."""
    labels = {c: label[:1].upper() + label[1:] for c, label in column_labels(dataset).items()}
    text = _never_text(dataset, labels)
    summary = _reasons.coverage_summary(reasons)
    if not summary["rejections"]:
        return text + "<p>The champion rejects none of the test loans: no notice to show.</p>"
    text += report.kpis(
        {
            "test loans rejected": f"{summary['rejections']:,}",
            "with at least one reason": f"{summary['with_a_reason']:.1%}",
            "median reason coverage": f"{summary['p50']:.0%}",
        }
    )
    quantiles = pd.DataFrame(
        [
            {
                f"{int(100 * q)}th percentile": summary[f"p{int(100 * q)}"]
                for q in _reasons.COVERAGE_QUANTILES
            }
        ]
    )
    text += (
        "<p><b>Reason coverage</b> is the share of a rejection's risk-raising contributions "
        "(in PD points, against approved applicants) that its notice's reasons carry; the rest "
        "is spread over lesser characteristics and the columns that are never reasons. Its "
        f"distribution over the rejections (mean {summary['mean']:.0%}):</p>"
        + report.table(quantiles, digits=2)
    )
    shares = _reasons.reason_shares(reasons, labels).head(15)
    shares = shares.rename(
        columns={"share_citing": "Share of rejections citing it", "share_first": "As first reason"}
    ).drop(columns="column")
    text += "<p>The most cited reasons:</p>" + report.table(shares, digits=3)
    text += _agreement(reasons)
    text += _examples(reasons)
    return text + _application_only(application_only)


def _never_text(dataset: Dataset, labels: dict[str, str]) -> str:
    why = dict(dataset.fairness.audit_columns)
    why |= dataset.fairness.protected_columns
    why |= dataset.reasons.never_reasons
    items = "".join(
        f"<li>{html.escape(labels.get(c) or c)}: "
        f"{html.escape(why.get(c, 'computed from one of the above'))}</li>"
        for c in never_reasons(dataset)
    )
    return (
        "<p>Each rejection's notice gives up to four principal reasons: the characteristics that "
        "raised its probability of default most, each compared with approved applicants, never a "
        "value the typical approved applicant has too, and, for a free text, the applicant's own "
        "phrases that raised the risk. These columns may be features but are never reasons "
        f"(dataset.reasons, fairness):</p><ul>{items}</ul>"
    )


def _agreement(reasons: pd.DataFrame) -> str:
    if "scorecard_rejects" not in reasons or not reasons["scorecard_rejects"].any():
        return ""
    both = reasons[reasons["scorecard_rejects"].astype(bool)]
    agree = both["first_reason_in_scorecard_reasons"].astype(bool).mean()
    return (
        f"<p><b>Agreement with the WoE scorecard</b>: of the {len(both):,} rejections the "
        f"scorecard makes too, the champion's first reason is among the scorecard's reasons "
        f"(points below each characteristic's best, the same columns left out) for {agree:.1%}. "
        "The scorecard has no text characteristics, so a first reason from a text never agrees.</p>"
    )


def _examples(reasons: pd.DataFrame) -> str:
    ordered = reasons.sort_values("probability_of_default", ignore_index=True)
    at = sorted({int(q * (len(ordered) - 1)) for q in (0.1, 0.5, 0.9)})[:EXAMPLES]
    ranks = sorted(
        (c for c in reasons if c.startswith("reason_") and c[7:].isdigit()),
        key=lambda c: int(c[7:]),
    )
    items = []
    for row in ordered.iloc[at].itertuples(index=False):
        given = [getattr(row, c) for c in ranks if pd.notna(getattr(row, c)) and getattr(row, c)]
        listed = "".join(f"<li>{html.escape(str(g))}</li>" for g in given)
        items.append(
            f"<li>Test loan {row.row} (PD {row.probability_of_default:.1%}, reason coverage "
            f"{row.reason_coverage:.0%}):<ol>{listed}</ol></li>"
        )
    return "<p>Example notices (rejections at the 10th, 50th and 90th percentile of PD):</p>" + (
        f"<ul>{''.join(items)}</ul>"
    )


def _application_only(comparison: pd.DataFrame) -> str:
    if comparison.empty or len(comparison) < 2:
        return (
            "<p>The application-only champion was not trained (fairness.application_only is "
            "off, or no feature is made from a column that is never a reason).</p>"
        )
    shown = comparison.rename(columns=HEADERS)
    return (
        "<p><b>The application-only champion</b>: the champion's configuration refitted on the "
        "same training loans without the columns above, both at the champion's threshold. An "
        "investor choosing among LendingClub's loans may use LendingClub's grade; a lender "
        "deciding on its own applicant should not, and should serve this model "
        "(docs/reasons.md).</p>" + report.table(shown, digits=4)
    )
