"""Registration nodes: package the champion with its training profile, compare it with the
current champion on this run's test set, and ask the registry to record the decision."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default.applications import hard_bounds, input_types
from loan_default.config.names import GREATER_IS_BETTER
from loan_default.parameters import Dataset, Registry, Score
from loan_default.pipelines.lazy import champion as _champion
from loan_default.pipelines.lazy import metrics as _metrics
from loan_default.pipelines.lazy import rating, reasons, serving, sklearn_model_selection, tracking
from loan_default.pipelines.run_record import HEADLINE_METRICS
from loan_default.profile import ScoringProfile, build_profile, typical_row, typical_values
from loan_default.schema import RAW_ROW, protected_columns, sample_weights, target_values

logger = logging.getLogger(__name__)

INPUT_EXAMPLE_ROWS = 5


def describe_application_inputs(
    raw_loans: pd.DataFrame,
    train_loans: pd.DataFrame,
    column_types: dict[str, str],
    dataset: Dataset,
) -> tuple[dict[str, str], pd.DataFrame]:
    """The raw columns the champion needs with their parsers, and a few raw rows of them (the
    registered model's signature and input example)."""
    types = input_types(raw_loans, train_loans, column_types, dataset)
    example = raw_loans[list(types)].head(INPUT_EXAMPLE_ROWS).reset_index(drop=True)
    return types, example


def select_raw_test_loans(raw_loans: pd.DataFrame, test_loans: pd.DataFrame) -> pd.DataFrame:
    """The raw rows of the test loans, in the test loans' order (ingestion's raw row numbers)."""
    return raw_loans.iloc[test_loans[RAW_ROW].to_numpy()].reset_index(drop=True)


def build_scoring_profile(
    train_loans: pd.DataFrame,
    champion_model: sklearn_model_selection.FixedThresholdClassifier,
    iv_ranking: pd.DataFrame,
    application_inputs: dict[str, str],
    dataset: Dataset,
    score: Score,
) -> ScoringProfile:
    """Training ranges, bounds, categories, typical approved values, score/feature
    distributions and the reasons' explainer."""
    drift = score.drift
    top = [feature for feature in iv_ranking["feature"] if feature in train_loans]
    preprocessor = _champion.preprocessor_of(champion_model)
    features = preprocessor.transform(train_loans)
    scores = _champion.default_probability(champion_model, features)
    approved = scores < champion_model.threshold
    if not approved.any():  # a champion that rejects everyone: compare with all applicants
        approved[:] = True
    typical = typical_values(train_loans[approved], dataset)
    explainer = reasons.ReasonExplainer.fit(
        _champion.model_of(champion_model), preprocessor, features[approved],
        typical_row(train_loans, typical), protected_columns(dataset),
        exact=score.reasons.tree_contributions == "exact",
    )  # fmt: skip
    return build_profile(
        train_loans,
        scores,
        top[: drift.top_features],
        dataset,
        drift.n_bins,
        hard_bounds(train_loans, application_inputs, dataset),
        float(score.plausibility.range_tolerance),
        approved=approved,
        explainer=explainer,
    )


def package_champion(
    champion_model: sklearn_model_selection.FixedThresholdClassifier,
    scoring_profile: ScoringProfile,
    application_inputs: dict[str, str],
    application_example: pd.DataFrame,
    dataset: Dataset,
    score: Score,
    rating_scale: rating.MasterScale | None = None,
) -> serving.LoanDefaultModel:
    """The self-contained champion: model and threshold, inputs, dataset config and profile,
    how many reasons it gives, and the master scale that grades its PDs."""
    # The served model keeps its dataset settings as the plain mapping the YAML file writes.
    return serving.LoanDefaultModel(
        champion_model, dataset.plain(), scoring_profile, application_inputs,
        application_example, score.reasons.count, rating_scale,
    )  # fmt: skip


def decide_promotion(
    challenger: serving.ChampionHandle,
    incumbent: serving.ChampionHandle | None,
    test_loans: pd.DataFrame,
    raw_test_loans: pd.DataFrame,
    dataset: Dataset,
    registry: Registry,
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Score this run's held-out test loans, as raw rows, with both registered models (each
    reads them with its own parsers); promote on a real improvement on the rows both scored."""
    metric = registry.metric  # a known metric: the parameters' schema checked it
    challenger_scores = _raw_scores(challenger, raw_test_loans)
    scored = ~np.isnan(challenger_scores)
    decision: dict[str, Any] = {
        "metric": metric,
        "challenger": challenger.uri,
        "champion": incumbent.describe() if incumbent else "none",
        f"champion_{metric}": None,
        "min_improvement": float(registry.min_improvement),
        "forced": bool(registry.force),
    }
    if incumbent is None:
        promote, reason = True, "no current champion"
    elif not incumbent.self_contained:
        promote = True
        reason = (
            f"the current champion ({incumbent.describe()}) was registered by an earlier release "
            "and cannot be served by the score pipeline"
        )
    else:
        try:
            incumbent_scores = _raw_scores(incumbent, raw_test_loans)
        except Exception as error:  # noqa: BLE001 - any failure means "cannot score this data"
            promote = False
            reason = (
                f"the current champion ({incumbent.describe()}) cannot score this run's test "
                f"data ({type(error).__name__}: {str(error)[:300]})"
            )
        else:
            scored &= ~np.isnan(incumbent_scores)
            decision[f"champion_{metric}"] = _test_metric(
                incumbent, incumbent_scores, test_loans, scored, dataset, metric
            )
    decision[f"challenger_{metric}"] = _test_metric(
        challenger, challenger_scores, test_loans, scored, dataset, metric
    )
    if decision[f"champion_{metric}"] is not None:
        promote, reason = _improves(
            decision[f"challenger_{metric}"], decision[f"champion_{metric}"], metric, registry
        )
    decision["evaluated_on"] = (
        f"this run's test set: {int(scored.sum()):,} of {len(test_loans):,} loans scored by both"
    )
    if decision["forced"] and not promote:
        promote, reason = True, f"forced by registry.force ({reason})"
    decision |= {"promote": promote, "reason": reason}
    logger.info("Promotion: %s (%s)", "yes" if promote else "no", reason)
    metrics = {
        f"promotion.{side}_{metric}": {"value": float(value), "step": 0}
        for side, value in (
            ("challenger", decision[f"challenger_{metric}"]),
            ("champion", decision[f"champion_{metric}"]),
        )
        if value is not None and np.isfinite(value)
    }
    metrics["promotion.promoted"] = {"value": float(promote), "step": 0}
    return decision, metrics


def _raw_scores(champion: serving.ChampionHandle, raw_rows: pd.DataFrame) -> np.ndarray:
    """The registered model's probability per raw row (NaN where its input checks refuse it)."""
    predicted = champion.model.predict(None, raw_rows, params={"reasons": False})
    return predicted["probability_of_default"].to_numpy(dtype="float64", na_value=np.nan)


def _test_metric(
    champion: serving.ChampionHandle,
    scores: np.ndarray,
    test_loans: pd.DataFrame,
    rows: np.ndarray,
    dataset: Dataset,
    metric: str,
) -> float:
    weights = sample_weights(test_loans)
    values = _metrics.score_metrics(
        target_values(test_loans, dataset)[rows],
        scores[rows],
        champion.model.threshold,
        _metrics.exposures(test_loans, dataset.costs)[rows],
        dataset.costs,
        weights=None if weights is None else weights[rows],
    )
    return float(values[metric])


def _improves(
    challenger: float, incumbent: float, metric: str, registry: Registry
) -> tuple[bool, str]:
    gain = (challenger - incumbent) * (1 if GREATER_IS_BETTER[metric] else -1)
    margin = float(registry.min_improvement)
    promote = gain > 0 and gain >= margin
    verdict = "beats" if promote else "does not beat"
    return promote, (
        f"challenger {verdict} the champion on test {metric}: {challenger:.4f} vs "
        f"{incumbent:.4f} (improvement {gain:+.4f}, required > 0 and >= {margin})"
    )


def request_registration(
    challenger: serving.ChampionHandle,
    promotion_decision: dict[str, Any],
    champion_metrics: dict[str, Any],
    raw_data_input: dict[str, Any],
    run_summary: dict[str, Any],
    loan_report: str,
) -> dict[str, Any]:
    """What to register (the version's ten tags and its description) and whether to move the
    alias; waits for the report and the run's summary, so registering is the last thing a run
    does and a run that fails anywhere registers nothing."""
    metric = promotion_decision["metric"]
    version_tags = {
        "source_run_id": challenger.run_id,
        "configuration": str(champion_metrics["configuration"]),
        "threshold": str(champion_metrics.get("threshold")),
        **{f"test_{name}": str(champion_metrics.get(f"test_{name}")) for name in HEADLINE_METRICS},
        "data_sha256": str(raw_data_input.get("sha256")),
        "promotion.promoted": str(promotion_decision["promote"]).lower(),
        "promotion.reason": promotion_decision["reason"][:5000],
        f"promotion.challenger_{metric}": str(promotion_decision[f"challenger_{metric}"]),
        f"promotion.champion_{metric}": str(promotion_decision[f"champion_{metric}"]),
    }
    return {
        "model_uri": challenger.uri,
        "promote": bool(promotion_decision["promote"]),
        "version_tags": version_tags,
        "description": "\n\n".join(run_summary["lines"]),
    }


def register_champion(
    registration_request: dict[str, Any], registry_target: dict[str, str]
) -> dict[str, str]:
    """Register the champion as a new version and move the alias if the decision says so, all
    or nothing (the registry's one writer)."""
    outcome = tracking.register_champion(
        registration_request, registry_target["model_name"], registry_target["alias"]
    )
    logger.info(
        "Registered %s v%s; alias @%s %s",
        outcome["model_name"],
        outcome["registered_version"],
        outcome["alias"],
        f"moved to v{outcome['registered_version']}"
        if outcome["promoted"] == "true"
        else f"kept on v{outcome['champion_version']}",
    )
    return outcome
