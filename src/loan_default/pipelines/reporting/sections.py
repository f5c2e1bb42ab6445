"""Report sections on how the champion was chosen (fold schemes, text features, the ablation)
and on fair lending.

Every sentence is generated from the run's own tables, so the wording follows the numbers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from loan_default import report

SCHEMES = {
    "time": "time-ordered folds (fit on earlier loans, validate on the months that follow)",
    "stratified": "stratified random folds",
}


def selection_section(
    comparison: pd.DataFrame,
    comparison_cv_results: pd.DataFrame,
    cv_scheme: dict[str, Any],
    champion: dict[str, Any],
    metric: str,
    test_name: str,
) -> str:
    """Which folds chose the champion, each fold's loans, and what the other scheme would pick."""
    chosen = cv_scheme["selection"]
    folds = pd.DataFrame(cv_scheme["folds"])
    text = (
        f"<p>The champion, every threshold and every calibrator were chosen on "
        f"{SCHEMES[chosen]} inside the training loans; the {test_name} were scored once, "
        "after the choice.</p>" + report.table(folds)
    )
    models = comparison[comparison["kind"] == "model"].set_index("configuration")
    table = pd.DataFrame(
        {
            f"{chosen} CV {metric}": models[f"cv_{metric}_mean"],
            f"rank ({chosen})": models[f"cv_{metric}_mean"].rank(ascending=False, method="min"),
        }
    )
    other = cv_scheme["comparison"]
    if other and not comparison_cv_results.empty:
        means = comparison_cv_results.groupby("configuration")[metric].mean()
        table[f"{other} CV {metric}"] = means
        table[f"rank ({other})"] = means.rank(ascending=False, method="min")
    table[f"test {metric}"] = models[f"test_{metric}"]
    table["rank (test, not used)"] = models[f"test_{metric}"].rank(ascending=False, method="min")
    ranks = [column for column in table.columns if column.startswith("rank")]
    table[ranks] = table[ranks].astype("Int64")
    table = table.sort_values(f"rank ({chosen})").rename_axis("configuration").reset_index()
    text += report.table(table, digits=4)
    if other and f"{other} CV {metric}" in table:
        text += _contrast(table, chosen, other, champion, metric)
    elif chosen == "time":
        text += (
            "<p>Stratified folds were not cross-validated in this run (training.cv.compare: "
            "false). To see what they would have picked: <code>kedro run --pipeline loan "
            "--params training.cv.compare=true</code>.</p>"
        )
    return text


def _contrast(
    table: pd.DataFrame, chosen: str, other: str, champion: dict[str, Any], metric: str
) -> str:
    rows = table.set_index("configuration")
    pick = rows[f"{other} CV {metric}"].idxmax()
    mine = champion["configuration"]
    if pick == mine:
        return f"<p>Both schemes pick {mine}.</p>"
    return (
        f"<p>{other.capitalize()} folds would have picked <b>{pick}</b> (test {metric} "
        f"{rows.loc[pick, f'test {metric}']:.4f}); {chosen} folds picked <b>{mine}</b> "
        f"(test {metric} {rows.loc[mine, f'test {metric}']:.4f}).</p>"
    )


def text_section(
    text_feature_stability: pd.DataFrame, text_fill_rates: pd.DataFrame, psi_stable: str
) -> str:
    """Stability of each text feature and how often each text column is filled in, by period."""
    if text_feature_stability.empty:
        return "<p>No text columns are configured (dataset.text_columns).</p>"
    fill = text_fill_rates.pivot_table(
        index="period", columns="column", values="share_with_text", sort=True
    ).reset_index()
    shifted = text_feature_stability[text_feature_stability["psi_band"] != psi_stable]
    if shifted.empty:
        verdict = f"<p>Every text feature is {psi_stable} between training and test loans.</p>"
    else:
        names = ", ".join(
            f"{row.label} (PSI {row.psi:.3f}, {row.psi_band})" for row in shifted.itertuples()
        )
        verdict = (
            f"<p>Shifted between training and test loans: {names}. What was done: empty text "
            "is not imputed; whether a column has text is a feature of its own, so a model "
            "can give a missing text its own effect instead of reading it as an unusual one; "
            "and the text score is fitted on loans with and without text alike. The models "
            "were compared on validation periods that come after their training rows, so a "
            "change in how often text is filled in over time already shows in the figures that "
            "chose the champion; the ablation below shows what the text features add.</p>"
        )
    return (
        "<p>Share of loans with text, per column and period:</p>"
        + report.table(fill, digits=3)
        + report.table(text_feature_stability, digits=4)
        + verdict
    )


def ablation_section(ablation: pd.DataFrame, test_name: str) -> str:
    """What each addition contributes, on validation (CV mean) and on the test loans."""
    if ablation.empty:
        return "<p>No ablation configured (evaluation.ablation.configuration).</p>"
    columns = ["step", "configuration"]
    for metric in ("roc_auc", "pr_auc", "ks", "expected_cost_per_loan"):
        columns += [f"validation_{metric}", f"test_{metric}", f"test_{metric}_change"]
    return (
        f"<p>Each row adds one thing to the row above; validation = mean over the folds that "
        f"choose, test = the {test_name}. Expected cost is per loan (lower is better).</p>"
        + report.table(
            ablation[[*columns, "note"]],
            digits=4,
            why_missing={
                "note": "nothing to note for this step",
                **{
                    c: "the first step has nothing to compare with"
                    for c in columns
                    if "change" in c
                },
            },
        )
    )


AUDIT_SHOWN = [
    "view", "group", "size", "approval_rate", "adverse_impact_ratio", "adverse_impact_ratio_low",
    "adverse_impact_ratio_high", "false_rejection_rate", "false_approval_rate", "roc_auc",
    "mean_pd", "observed_default_rate", "verdict",
]  # fmt: skip


def fairness_section(
    audit: pd.DataFrame, proxy: pd.DataFrame, trade_off: pd.DataFrame, finding: str
) -> str:
    """The finding, then per view the judged groups with the lowest ratios, the proxies and
    the trade-off of dropping the audited columns."""
    if audit.empty:
        return report.markdown(finding, drop_title=True)
    judged = audit[audit["judged"]].sort_values(["view", "adverse_impact_ratio"])
    lowest = judged.groupby("view", sort=False).head(5)
    small = int((~audit["judged"]).sum())
    text = report.markdown(finding, drop_title=True) + (
        "<p>Per view, the five judged groups with the lowest adverse impact ratio (approval "
        "rate over the most-approved judged group's); fairness_audit.csv has every group, "
        f"including the {small} too small to judge.</p>"
        + report.table(
            lowest[AUDIT_SHOWN],
            digits=3,
            why_missing="not measurable for this group (no defaults or no approvals among its loans)",
        )
    )
    if not proxy.empty:
        text += "<p>Proxy strength (training loans, cross-validated):</p>" + report.table(
            proxy, digits=3
        )
    if not trade_off.empty:
        text += "<p>The champion refitted without the audited columns:</p>" + report.table(
            trade_off, digits=4
        )
    return text


def calibration_section(
    rating_backtest: pd.DataFrame,
    calibration_summary: pd.DataFrame,
    master_scale: pd.DataFrame,
    test_name: str,
) -> str:
    """The master scale, PD against observed default rate by grade on the test loans with the
    Jeffreys test and its lights, and the overall calibration checks."""
    overall = dict(zip(calibration_summary["check"], calibration_summary["value"], strict=True))
    lights = rating_backtest["traffic_light"]
    green, grades = int((lights == "green").sum()), len(rating_backtest)
    goal = float(overall.get("jeffreys_pass_goal", 0.9))
    verdict = "meets" if grades and green / grades >= goal else "misses"
    method = overall.get("method", "none")
    text = (
        f"<p>The champion's probabilities of default (PDs) are calibrated by <b>{method}</b>, "
        "the method with the lowest loss on the time-ordered validation folds of the training "
        "loans (none, Platt scaling or isotonic regression). The master scale's PD bands were "
        f"chosen on the same out-of-fold training PDs: {len(master_scale)} grades, grade 1 the "
        "safest.</p>"
        + report.table(master_scale, digits=4, percent=("share", "observed_default_rate"))
        + f"<p>On the {test_name}, per grade: the mean PD against the observed default rate, "
        "and the ECB's one-sided Jeffreys test (p-value = Beta(D + 1/2, N - D + 1/2).cdf(PD); "
        "small when there are more defaults than the PD predicts). "
        f"{green} of {grades} grades are green ({green / max(grades, 1):.0%}); the goal is "
        f"{goal:.0%}, which this run {verdict}.</p>"
    )
    shown = rating_backtest[
        ["rating_grade", "loans", "share", "defaults", "mean_pd", "observed_default_rate",
         "jeffreys_p_value", "traffic_light"]
    ]  # fmt: skip
    text += report.table(shown, digits=4, percent=("share", "mean_pd", "observed_default_rate"))
    checks = calibration_summary[calibration_summary["check"] != "method"]
    text += (
        "<p>Overall: calibration in the large (exact binomial test of the defaults at the mean "
        "PD, one-sided: more defaults than predicted), the Brier score, Spiegelhalter's z-test, "
        "Hosmer-Lemeshow over the grades, and the ECB's Herfindahl index of the grades "
        "(0 = loans spread evenly over the grades, 1 = all in one). The overall light is the "
        "worst light of any grade (0 green, 1 amber, 2 red). The champion's section shows PD "
        "against observed default rate by PD decile as a figure.</p>"
        + report.table(checks, digits=4)
    )
    return text
