"""Fair-lending nodes: group rates at the champion's threshold, how strongly the features proxy
the audited columns, and what dropping the audited columns from the model changes."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from loan_default.modelling.baselines import SCORECARD
from loan_default.modelling.cross_validation import fit_configurations
from loan_default.modelling.ensemble import AveragedClassifier, ensemble_members
from loan_default.modelling.fairness import (
    audit_groups,
    audit_summary,
    group_labels,
    proxy_strength,
)
from loan_default.modelling.metrics import ranking_metrics
from loan_default.modelling.reasons import (
    Wording,
    describe_reasons,
    scorecard_points_below_maximum,
    top_reasons,
)
from loan_default.modelling.registry import build_grid
from loan_default.modelling.scoring_model import ScoringModel
from loan_default.profile import ScoringProfile
from loan_default.schema import column_labels, target_values, text_columns
from loan_default.tracking import metric_name

from .writing import plot_group_rates, write_finding

logger = logging.getLogger(__name__)

AUDIT_KEYS = ["view", "column", "group"]
CHAMPION, WITHOUT = "champion", "champion without the audited columns"
PROXY_COLUMNS = [
    "view", "column", "n_rows", "n_groups", "balanced_accuracy", "chance_balanced_accuracy",
    "majority_share", "roc_auc", "lift", "reason", "top_features",
]  # fmt: skip


def audit_views(dataset: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """View name -> (column, grouping): every protected and audited column by its own values
    (or its same-named grouping, e.g. age bands), then every further named grouping."""
    fairness = dataset["fairness"]
    groupings = fairness["groupings"]
    views: dict[str, tuple[str, dict[str, Any]]] = {}
    for column in [*fairness["protected_columns"], *fairness["audit_columns"]]:
        extra = [n for n, g in groupings.items() if n != column and (g["column"] or n) == column]
        views |= {name: (column, groupings[name]) for name in extra}
        views[column] = (column, groupings.get(column) or {})
    return views


def assign_audit_groups(test_loans: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """Per test loan, its group in every audit view (one column per view)."""
    views = audit_views(dataset)
    return pd.DataFrame(
        {
            view: group_labels(test_loans[column], grouping).to_numpy()
            for view, (column, grouping) in views.items()
        },
        index=range(len(test_loans)),
    )


def _champion_scores(test_predictions: pd.DataFrame, champion: dict[str, Any]) -> np.ndarray:
    rows = test_predictions[test_predictions["configuration"] == champion["configuration"]]
    return rows.sort_values("row")["score"].to_numpy()


def audit_champion(
    test_predictions: pd.DataFrame,
    champion: dict[str, Any],
    audit_groups_table: pd.DataFrame,
    test_loans: pd.DataFrame,
    dataset: dict[str, Any],
    fairness: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Per view and group: size, approval rate and adverse impact ratio, false rejection and
    false approval rates, ROC AUC and calibration, with bootstrap intervals; and the
    `fairness.<view>.*` summary metrics for MLflow."""
    scores = _champion_scores(test_predictions, champion)
    y = target_values(test_loans, dataset)
    parts, metrics = [], {}
    for view, (column, _) in audit_views(dataset).items():
        table = audit_groups(
            y, scores, float(champion["threshold"]), audit_groups_table[view],
            dataset["fairness"]["min_group_size"], fairness["n_boot"],
            fairness["confidence"], fairness["random_state"],
        )  # fmt: skip
        parts.append(table.assign(view=view, column=column))
        for name, value in audit_summary(table).items():
            metrics[metric_name(f"fairness.{view}.{name}")] = {"value": float(value), "step": 0}
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


def _audited_features(fitted_preprocessor: BaseEstimator, dataset: dict[str, Any]) -> list[str]:
    """Encoded columns made from an audited column (protected ones are never features)."""
    audited = set(dataset["fairness"]["audit_columns"])
    sources = getattr(fitted_preprocessor, "source_columns_", {})
    return [n for n in fitted_preprocessor.get_feature_names_out() if sources.get(n, n) in audited]


def measure_proxy_strength(
    train_features: pd.DataFrame,
    train_loans: pd.DataFrame,
    fitted_preprocessor: BaseEstimator,
    dataset: dict[str, Any],
    fairness: dict[str, Any],
) -> pd.DataFrame:
    """Per view: how well the model's other features predict the group on the training loans
    (cross-validated balanced accuracy and AUC vs chance) and the most informative features."""
    names = list(fitted_preprocessor.get_feature_names_out())
    features = train_features[
        [n for n in names if n not in _audited_features(fitted_preprocessor, dataset)]
    ]
    rows = []
    for view, (column, grouping) in audit_views(dataset).items():
        groups = group_labels(train_loans[column], grouping)
        result = proxy_strength(
            features.reset_index(drop=True), groups.reset_index(drop=True),
            dataset["fairness"]["min_group_size"], fairness["random_state"],
            fairness["proxy_cv"], fairness["proxy_top_features"],
        )  # fmt: skip
        top = result.pop("top_features", []) or []
        labels = [fitted_preprocessor.describe_feature(f) for f, _ in top]
        rows.append({"view": view, "column": column, **result, "top_features": "; ".join(labels)})
        logger.info("Proxy strength of %s: %s", view, result)
    return pd.DataFrame(rows, columns=PROXY_COLUMNS)


def score_without_audited_columns(
    train_features: pd.DataFrame,
    test_features: pd.DataFrame,
    fitted_preprocessor: BaseEstimator,
    champion: dict[str, Any],
    dataset: dict[str, Any],
    training: dict[str, Any],
    fairness: dict[str, Any],
) -> pd.DataFrame:
    """Test-loan scores of the champion's configuration refitted on all training loans without
    the features made from the audited columns (empty when there are none or it is off)."""
    dropped = _audited_features(fitted_preprocessor, dataset)
    if not fairness["ablation"] or not dropped:
        return pd.DataFrame(columns=["row", "score"])
    name = champion["configuration"]
    members = ensemble_members(training).get(name, [name])
    grid = [c for c in build_grid(training, dataset["monotonic_trends"]) if c.name in members]
    X = train_features[list(fitted_preprocessor.get_feature_names_out())].drop(columns=dropped)
    fitted = fit_configurations(
        X, target_values(train_features, dataset), grid, training["random_state"],
        training["n_jobs"],
    )  # fmt: skip
    models = [fitted[member][1] for member in members]
    model = models[0] if len(models) == 1 else AveragedClassifier.of_fitted(models)
    score = model.predict_proba(test_features[X.columns])[:, 1]
    return pd.DataFrame({"row": np.arange(len(score)), "score": score})


def compare_without_audited_columns(
    test_predictions: pd.DataFrame,
    scores_without: pd.DataFrame,
    champion: dict[str, Any],
    audit_groups_table: pd.DataFrame,
    test_loans: pd.DataFrame,
    dataset: dict[str, Any],
    fairness: dict[str, Any],
) -> pd.DataFrame:
    """Champion vs the same configuration without the audited columns, at the champion's
    threshold: test ROC AUC, PR AUC, approval rate and each view's worst adverse impact ratio."""
    if scores_without.empty:
        return pd.DataFrame(columns=["variant"])
    y = target_values(test_loans, dataset)
    threshold = float(champion["threshold"])
    variants = {
        CHAMPION: _champion_scores(test_predictions, champion),
        WITHOUT: scores_without.sort_values("row")["score"].to_numpy(),
    }
    rows = []
    for variant, scores in variants.items():
        ranking = ranking_metrics(y, scores, probabilistic=True)
        row = {
            "variant": variant,
            "test_roc_auc": ranking["roc_auc"],
            "test_pr_auc": ranking["pr_auc"],
            "approval_rate": float(np.mean(scores < threshold)),
        }
        for view in audit_views(dataset):
            table = audit_groups(
                y, scores, threshold, audit_groups_table[view],
                dataset["fairness"]["min_group_size"], 0, fairness["confidence"],
                fairness["random_state"],
            )  # fmt: skip
            row[f"worst_air_{view}"] = audit_summary(table)["worst_adverse_impact_ratio"]
        rows.append(row)
    table = pd.DataFrame(rows)
    change = table.drop(columns="variant").diff().iloc[[1]].assign(variant="change")
    return pd.concat([table, change], ignore_index=True)


def plot_fairness(audit: pd.DataFrame, fairness: dict[str, Any]) -> Figure:
    """Approval rate and adverse impact ratio by group, with intervals."""
    return plot_group_rates(audit, fairness["plot_max_groups"])


def write_fairness_finding(
    audit: pd.DataFrame,
    proxy: pd.DataFrame,
    comparison: pd.DataFrame,
    reasons: pd.DataFrame,
    dataset: dict[str, Any],
    fairness: dict[str, Any],
) -> str:
    """A short finding in plain words: group rates, proxies, the trade-off, how the reasons
    compare with the scorecard's, and the audit's limits."""
    return write_finding(audit, proxy, comparison, reasons, dataset, fairness["confidence"])


def compare_reasons(
    champion_model: ScoringModel,
    scoring_profile: ScoringProfile,
    scorecard_model: Pipeline | None,
    baseline_operating_points: dict[str, dict[str, Any]],
    test_loans: pd.DataFrame,
    dataset: dict[str, Any],
    baselines: dict[str, Any],
    score: dict[str, Any],
) -> pd.DataFrame:
    """On the test loans the champion rejects: its adverse-action reasons, and, where the WoE
    scorecard rejects them too, the scorecard's (points below each characteristic's best)."""
    count = int(score["reasons"]["count"])
    features = champion_model.encode(test_loans)
    probability = champion_model.predict_encoded(features)
    rows = np.flatnonzero(probability >= champion_model.threshold)
    loans = test_loans.iloc[rows].reset_index(drop=True)
    typical = scoring_profile.typical_values
    kinds = dataset["column_types"]
    wording = Wording(
        labels=column_labels(dataset),
        percent_columns=frozenset(c for c, kind in kinds.items() if kind == "percent"),
        text_columns=frozenset(text_columns(dataset)),
        typical=dict(zip(typical["feature"], typical["typical_value"], strict=True)),
    )
    contributions = scoring_profile.explainer.contributions(features.iloc[rows])
    table = describe_reasons(contributions.reset_index(drop=True), loans, wording, count)
    table.insert(0, "probability_of_default", probability[rows].round(6))
    table.insert(0, "row", rows)
    spec = baseline_operating_points.get(f"baseline/{SCORECARD}")
    if scorecard_model is None or spec is None:
        return table
    scorecard_pd = scorecard_model.predict_proba(loans)[:, 1]
    points = scorecard_points_below_maximum(
        scorecard_model, loans, baselines["scorecard"]["points"]["pdo"]
    )
    names, _ = top_reasons(points, count)
    champion_names, _ = top_reasons(contributions, count)
    both = scorecard_pd >= spec["threshold"]
    table["scorecard_rejects"] = both
    for rank in range(names.shape[1]):
        table[f"scorecard_reason_{rank + 1}"] = np.where(both, names[:, rank], "")
    table["first_reason_in_scorecard_reasons"] = [
        bool(first) and first in set(mine)
        for first, mine in zip(champion_names[:, 0], names, strict=True)
    ]
    table.loc[~both, "first_reason_in_scorecard_reasons"] = False
    logger.info(
        "Reasons: the champion's first reason is among the scorecard's %d for %.0f%% of the "
        "%d test loans both reject",
        count, 100 * table.loc[both, "first_reason_in_scorecard_reasons"].mean(), both.sum(),
    )  # fmt: skip
    return table
