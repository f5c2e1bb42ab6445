"""Fair-lending nodes: group rates at the champion's threshold, how strongly the features proxy
the audited columns, and what dropping the audited columns from the model changes."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default.parameters import Dataset, FairnessAudit, Grouping, Score, Training
from loan_default.pipelines.lazy import (
    baselines,
    ensemble,
    matplotlib_figure,
    results,
    sklearn_base,
    tracking,
)
from loan_default.pipelines.lazy import champion as _champion
from loan_default.pipelines.lazy import fairness as _fairness
from loan_default.pipelines.lazy import metrics as _metrics
from loan_default.pipelines.lazy import reasons as _reasons
from loan_default.profile import ScoringProfile
from loan_default.schema import never_reasons, target_values

from .writing import plot_group_rates, write_finding

logger = logging.getLogger(__name__)

AUDIT_KEYS = ["view", "column", "group"]
CHAMPION, WITHOUT = "champion", "champion without the audited columns"
APPLICATION_ONLY = "application-only champion (no column that is never a reason)"
PROXY_COLUMNS = [
    "view", "column", "n_rows", "n_groups", "balanced_accuracy", "chance_balanced_accuracy",
    "majority_share", "roc_auc", "lift", "reason", "top_features",
]  # fmt: skip


def audit_views(dataset: Dataset) -> dict[str, tuple[str, Grouping]]:
    """View name -> (column, grouping): every protected and audited column by its own values
    (or its same-named grouping, e.g. age bands), then every further named grouping."""
    fairness = dataset.fairness
    groupings = fairness.groupings
    views: dict[str, tuple[str, Grouping]] = {}
    for column in [*fairness.protected_columns, *fairness.audit_columns]:
        extra = [n for n, g in groupings.items() if n != column and (g.column or n) == column]
        views |= {name: (column, groupings[name]) for name in extra}
        views[column] = (column, groupings.get(column) or Grouping())
    return views


def assign_audit_groups(test_loans: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Per test loan, its group in every audit view (one column per view)."""
    views = audit_views(dataset)
    return pd.DataFrame(
        {
            view: _fairness.group_labels(test_loans[column], grouping).to_numpy()
            for view, (column, grouping) in views.items()
        },
        index=range(len(test_loans)),
    )


def _audit(
    y: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    groups: pd.Series,
    dataset: Dataset,
    fairness: FairnessAudit,
    n_boot: int,
) -> pd.DataFrame:
    """One view's group table at `threshold` (n_boot 0: no bootstrap intervals)."""
    return _fairness.audit_groups(
        y, scores, threshold, groups, dataset.fairness.min_group_size, n_boot,
        fairness.confidence, fairness.random_state,
    )  # fmt: skip


def audit_champion(
    test_predictions: pd.DataFrame,
    champion: dict[str, Any],
    audit_groups_table: pd.DataFrame,
    test_loans: pd.DataFrame,
    dataset: Dataset,
    fairness: FairnessAudit,
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Per view and group: size, approval rate and adverse impact ratio, false rejection and
    false approval rates, ROC AUC and calibration, with bootstrap intervals; and the
    `fairness.<view>.*` summary metrics for MLflow."""
    scores = results.configuration_scores(test_predictions, champion["configuration"])
    y = target_values(test_loans, dataset)
    parts, metrics = [], {}
    for view, (column, _) in audit_views(dataset).items():
        table = _audit(
            y, scores, float(champion["threshold"]), audit_groups_table[view], dataset,
            fairness, fairness.n_boot,
        )  # fmt: skip
        parts.append(table.assign(view=view, column=column))
        for name, value in _fairness.audit_summary(table).items():
            metrics[tracking.metric_name(f"fairness.{view}.{name}")] = {
                "value": float(value),
                "step": 0,
            }
    if not parts:
        return pd.DataFrame(columns=AUDIT_KEYS), {}
    audit = pd.concat(parts, ignore_index=True)
    audit = audit[AUDIT_KEYS + [c for c in audit.columns if c not in AUDIT_KEYS]]
    flagged = audit[audit["below_four_fifths"]]
    logger.info(
        "Fairness audit: %d groups in %d views, %d below four-fifths",
        len(audit), audit["view"].nunique(), len(flagged),
    )  # fmt: skip
    return audit, {k: v for k, v in metrics.items() if np.isfinite(v["value"])}


def _features_from(fitted_preprocessor: sklearn_base.BaseEstimator, columns: Any) -> list[str]:
    """Encoded columns made from any of `columns`."""
    columns = set(columns)
    sources = getattr(fitted_preprocessor, "source_columns_", {})
    return [n for n in fitted_preprocessor.get_feature_names_out() if sources.get(n, n) in columns]


def _audited_features(
    fitted_preprocessor: sklearn_base.BaseEstimator, dataset: Dataset
) -> list[str]:
    """Encoded columns made from an audited column (protected ones are never features)."""
    return _features_from(fitted_preprocessor, dataset.fairness.audit_columns)


def features_to_drop_for_audit(
    fitted_preprocessor: sklearn_base.BaseEstimator, dataset: Dataset, fairness: FairnessAudit
) -> list[str]:
    """Features made from the audited columns, for the refit without them (none when off)."""
    return _audited_features(fitted_preprocessor, dataset) if fairness.ablation else []


def features_to_drop_for_application_only(
    fitted_preprocessor: sklearn_base.BaseEstimator, dataset: Dataset, fairness: FairnessAudit
) -> list[str]:
    """Features made from columns that are never reasons (pricing, geography; none when off)."""
    if not fairness.application_only:
        return []
    dropped = _features_from(fitted_preprocessor, never_reasons(dataset))
    if dropped:
        logger.info(
            "Application-only champion: refitted without %d features made from %s",
            len(dropped), ", ".join(never_reasons(dataset)),
        )  # fmt: skip
    return dropped


def refit_champion_without(
    dropped: list[str],
    train_features: pd.DataFrame,
    test_features: pd.DataFrame,
    fitted_preprocessor: sklearn_base.BaseEstimator,
    champion: dict[str, Any],
    dataset: Dataset,
    training: Training,
) -> pd.DataFrame:
    """Test-loan scores of the champion's configuration refitted on all training loans without
    the `dropped` features (empty when nothing is dropped)."""
    if not dropped:
        return pd.DataFrame(columns=["row", "score"])
    name = champion["configuration"]
    X = train_features[list(fitted_preprocessor.get_feature_names_out())].drop(columns=dropped)
    y = target_values(train_features, dataset)
    fitted = ensemble.fit_with_ensembles(X, y, training, dataset.monotonic_trends, [name])
    score = fitted[name][1].predict_proba(test_features[X.columns])[:, 1]
    return pd.DataFrame({"row": np.arange(len(score)), "score": score})


def measure_proxy_strength(
    train_features: pd.DataFrame,
    train_loans: pd.DataFrame,
    fitted_preprocessor: sklearn_base.BaseEstimator,
    dataset: Dataset,
    fairness: FairnessAudit,
) -> pd.DataFrame:
    """Per view: how well the model's other features predict the group on the training loans
    (cross-validated balanced accuracy and AUC vs chance) and the most informative features."""
    names = list(fitted_preprocessor.get_feature_names_out())
    features = train_features[
        [n for n in names if n not in _audited_features(fitted_preprocessor, dataset)]
    ]
    rows = []
    for view, (column, grouping) in audit_views(dataset).items():
        groups = _fairness.group_labels(train_loans[column], grouping)
        result = _fairness.proxy_strength(
            features.reset_index(drop=True), groups.reset_index(drop=True),
            dataset.fairness.min_group_size, fairness.random_state,
            fairness.proxy_cv, fairness.proxy_top_features,
        )  # fmt: skip
        top = result.pop("top_features", []) or []
        labels = [fitted_preprocessor.describe_feature(f) for f, _ in top]
        rows.append({"view": view, "column": column, **result, "top_features": "; ".join(labels)})
        logger.info("Proxy strength of %s: %s", view, result)
    return pd.DataFrame(rows, columns=PROXY_COLUMNS)


def compare_without_audited_columns(
    test_predictions: pd.DataFrame,
    scores_without: pd.DataFrame,
    champion: dict[str, Any],
    audit_groups_table: pd.DataFrame,
    test_loans: pd.DataFrame,
    dataset: Dataset,
    fairness: FairnessAudit,
) -> pd.DataFrame:
    """Champion vs the same configuration without the audited columns, at the champion's
    threshold: test ROC AUC, PR AUC, approval rate and each view's worst adverse impact ratio."""
    if scores_without.empty:
        return pd.DataFrame(columns=["variant"])
    y = target_values(test_loans, dataset)
    threshold = float(champion["threshold"])
    variants = _champion_and(test_predictions, champion, WITHOUT, scores_without)
    rows = []
    for variant, scores in variants.items():
        ranking = _metrics.ranking_metrics(y, scores, probabilistic=True)
        row = {
            "variant": variant,
            "test_roc_auc": ranking["roc_auc"],
            "test_pr_auc": ranking["pr_auc"],
            "approval_rate": float(np.mean(scores < threshold)),
        }
        for view in audit_views(dataset):
            table = _audit(y, scores, threshold, audit_groups_table[view], dataset, fairness, 0)
            row[f"worst_air_{view}"] = _fairness.audit_summary(table)["worst_adverse_impact_ratio"]
        rows.append(row)
    return _with_change(rows)


def _champion_and(
    test_predictions: pd.DataFrame, champion: dict[str, Any], variant: str, scores: pd.DataFrame
) -> dict[str, np.ndarray]:
    """The champion's test scores and `variant`'s (`scores`, one per row), in row order."""
    return {
        CHAMPION: results.configuration_scores(test_predictions, champion["configuration"]),
        variant: scores.sort_values("row")["score"].to_numpy(),
    }


def _with_change(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The champion's row, the variant's, and `change`: the variant's values minus the champion's."""
    table = pd.DataFrame(rows)
    change = table.drop(columns="variant").diff().iloc[[1]].assign(variant="change")
    return pd.concat([table, change], ignore_index=True)


def compare_application_only(
    test_predictions: pd.DataFrame,
    scores_application_only: pd.DataFrame,
    champion: dict[str, Any],
    test_loans: pd.DataFrame,
    dataset: Dataset,
) -> pd.DataFrame:
    """Champion vs the application-only champion on the test loans, both at the champion's
    threshold: ROC AUC, PR AUC, KS, recall, approval rate and expected cost per loan."""
    if scores_application_only.empty:
        return pd.DataFrame(columns=["variant"])
    y = target_values(test_loans, dataset)
    amounts = _metrics.exposures(test_loans, dataset.costs)
    threshold = float(champion["threshold"])
    variants = _champion_and(test_predictions, champion, APPLICATION_ONLY, scores_application_only)
    shown = ["roc_auc", "pr_auc", "ks", "recall", "approval_rate", "expected_cost_per_loan"]
    rows = []
    for variant, scores in variants.items():
        metrics = _metrics.score_metrics(y, scores, threshold, amounts, dataset.costs)
        rows.append({"variant": variant, **{f"test_{m}": metrics[m] for m in shown}})
    table = _with_change(rows)
    logger.info(
        "Application-only champion: test ROC AUC %.4f (champion %.4f)",
        table.loc[1, "test_roc_auc"], table.loc[0, "test_roc_auc"],
    )  # fmt: skip
    return table


def plot_fairness(audit: pd.DataFrame, fairness: FairnessAudit) -> matplotlib_figure.Figure:
    """Approval rate and adverse impact ratio by group, with intervals."""
    return plot_group_rates(audit, fairness.plot_max_groups)


def write_fairness_finding(
    audit: pd.DataFrame,
    proxy: pd.DataFrame,
    comparison: pd.DataFrame,
    reasons: pd.DataFrame,
    dataset: Dataset,
    fairness: FairnessAudit,
) -> str:
    """A short finding in plain words: group rates, proxies, the trade-off, how the reasons
    compare with the scorecard's, and the audit's limits."""
    return write_finding(audit, proxy, comparison, reasons, dataset, fairness.confidence)


def compare_reasons(
    test_features: pd.DataFrame,
    test_predictions: pd.DataFrame,
    champion: dict[str, Any],
    champion_model: sklearn_base.BaseEstimator,
    scoring_profile: ScoringProfile,
    application_inputs: dict[str, str],
    scorecard_model: baselines.WoEScorecard | None,
    baseline_operating_points: dict[str, dict[str, Any]],
    test_loans: pd.DataFrame,
    dataset: Dataset,
    score: Score,
) -> pd.DataFrame:
    """On the test loans the champion rejects: its adverse-action reasons, and, where the WoE
    scorecard rejects them too, the scorecard's (points below each characteristic's best), both
    without the columns that are never reasons."""
    count = score.reasons.count
    never = never_reasons(dataset)
    probability = results.configuration_scores(test_predictions, champion["configuration"])
    rows = np.flatnonzero(probability >= champion["threshold"])
    loans = test_loans.iloc[rows].reset_index(drop=True)
    wording = _reasons.Wording.of(
        dataset, scoring_profile.typical_values, application_inputs,
        _champion.preprocessor_of(champion_model),
    )  # fmt: skip
    contributions = scoring_profile.explainer.contributions(
        test_features.iloc[rows].reset_index(drop=True)
    )
    table = _reasons.describe_reasons(
        contributions, loans, wording, count, never, with_columns=True
    )
    table.insert(0, "probability_of_default", probability[rows].round(6))
    table.insert(0, "row", rows)
    spec = baseline_operating_points.get(f"baseline/{baselines.SCORECARD}")
    if scorecard_model is None or spec is None:
        return table
    if loans.empty:  # a champion that rejects no test loan: nothing to compare
        logger.warning("Reasons: the champion rejects none of the test loans")
        compared = ["scorecard_rejects", *(f"scorecard_reason_{k + 1}" for k in range(count))]
        return table.assign(**{c: pd.Series(dtype=object) for c in compared}).assign(
            first_reason_in_scorecard_reasons=pd.Series(dtype=bool)
        )
    both = scorecard_model.predict_proba(loans)[:, 1] >= spec["threshold"]
    points = _reasons.scorecard_points_below_maximum(scorecard_model, loans)
    points = points[[c for c in points.columns if c not in never]]
    names, _ = _reasons.top_reasons(points, count)
    table["scorecard_rejects"] = both
    for rank in range(names.shape[1]):
        table[f"scorecard_reason_{rank + 1}"] = np.where(both, names[:, rank], "")
    first = table["reason_1_column"].to_numpy(dtype=object)
    table["first_reason_in_scorecard_reasons"] = both & np.array(
        [bool(name) and name in set(given) for name, given in zip(first, names, strict=True)],
        dtype=bool,
    )
    logger.info(
        "Reasons: the champion's first reason is among the scorecard's %d for %.0f%% of the "
        "%d test loans both reject",
        count, 100 * table.loc[both, "first_reason_in_scorecard_reasons"].mean(), both.sum(),
    )  # fmt: skip
    return table
