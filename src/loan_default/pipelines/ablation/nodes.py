"""Ablation nodes: refit one configuration step by step and tabulate what each addition adds."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from loan_default.parameters import DEFAULT_MODELS, Ablation, Dataset, Evaluation, Training
from loan_default.pipelines.lazy import ablation as _ablation
from loan_default.pipelines.lazy import cross_validation, registry, results, sklearn_base, tracking
from loan_default.pipelines.lazy import metrics as metric_functions
from loan_default.schema import target_values

logger = logging.getLogger(__name__)

# What the table shows per step, on validation (CV mean) and on the test loans.
ABLATION_METRICS = ["roc_auc", "pr_auc", "ks", "expected_cost_per_loan"]
DEFAULT_PARAMS = {name: dict(spec.params) for name, spec in DEFAULT_MODELS.items()}


def _steps(
    fitted_preprocessor: sklearn_base.BaseEstimator,
    dataset: Dataset,
    training: Training,
    ablation: Ablation,
) -> tuple[list[_ablation.AblationStep], list[registry.Configuration], dict[str, list[str]]]:
    """Every step; the configurations the ablation fits itself and the inputs each leaves out."""
    steps = _ablation.ablation_steps(
        training, ablation, DEFAULT_PARAMS, dataset.monotonic_trends,
        fitted_preprocessor.text_feature_names(),
    )  # fmt: skip
    fitted = [step for step in steps if step.fitted is not None]
    excluded = {step.configuration: list(step.excluded_features) for step in fitted}
    return steps, [step.fitted for step in fitted], excluded


def cross_validate_ablation(
    prepared_folds: list[cross_validation.PreparedFold],
    fitted_preprocessor: sklearn_base.BaseEstimator,
    train_loans: pd.DataFrame,
    dataset: Dataset,
    training: Training,
    evaluation: Evaluation,
) -> pd.DataFrame:
    """Out-of-fold scores of the steps the ablation fits itself, on the grid's own folds."""
    ablation = evaluation.ablation
    if not ablation.configuration or not prepared_folds:
        return pd.DataFrame(columns=cross_validation.PREDICTION_COLUMNS)
    _, grid, excluded = _steps(fitted_preprocessor, dataset, training, ablation)
    y = target_values(train_loans, dataset)
    plan = cross_validation.GridPlan.of(grid, training, excluded)
    return cross_validation.cross_validate_grid(prepared_folds, y, plan)


def score_ablation_test(
    train_features: pd.DataFrame,
    test_features: pd.DataFrame,
    fitted_preprocessor: sklearn_base.BaseEstimator,
    dataset: Dataset,
    training: Training,
    evaluation: Evaluation,
) -> pd.DataFrame:
    """Each fitted step trained on all training loans and scored once on the test loans."""
    ablation = evaluation.ablation
    if not ablation.configuration:
        return pd.DataFrame(columns=["configuration", "row", "score"])
    _, grid, excluded = _steps(fitted_preprocessor, dataset, training, ablation)
    y = target_values(train_features, dataset)
    X = train_features[list(fitted_preprocessor.get_feature_names_out())]
    plan = cross_validation.GridPlan.of(grid, training, excluded)
    models = cross_validation.fit_configurations(X, y, plan)
    parts = []
    for configuration in grid:
        _, model = models[configuration.name]
        inputs = X.columns.drop(excluded[configuration.name])
        score = model.predict_proba(test_features[inputs])[:, 1]
        parts.append(
            pd.DataFrame(
                {"configuration": configuration.name, "row": np.arange(len(score)), "score": score}
            )
        )
    return pd.concat(parts, ignore_index=True)


def tabulate_ablation(
    ablation_cv_predictions: pd.DataFrame,
    ablation_test_predictions: pd.DataFrame,
    fitted_preprocessor: sklearn_base.BaseEstimator,
    strategy_comparison: pd.DataFrame,
    train_loans: pd.DataFrame,
    test_loans: pd.DataFrame,
    dataset: Dataset,
    training: Training,
    evaluation: Evaluation,
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """One row per step: validation (CV mean) and test metrics, and the change from the step
    before; the same figures as `ablation.*` metrics for MLflow."""
    ablation = evaluation.ablation
    if not ablation.configuration:
        return pd.DataFrame(columns=["step", "description", "configuration"]), {}
    steps, grid, _ = _steps(fitted_preprocessor, dataset, training, ablation)
    figures = _fitted_figures(
        ablation_cv_predictions, ablation_test_predictions, train_loans, test_loans,
        dataset, training, {c.name: c.threshold for c in grid},
    )  # fmt: skip
    compared = strategy_comparison.set_index("configuration")
    rows = []
    for step in steps:
        row = {
            "step": step.key,
            "description": _ablation.STEPS[step.key],
            "configuration": step.configuration,
        }
        for metric in ABLATION_METRICS:
            if step.fitted is None:  # the grid's own configuration or ensemble
                validation = compared.loc[step.configuration, f"cv_{metric}_mean"]
                test = compared.loc[step.configuration, f"test_{metric}"]
            else:
                validation, test = figures[step.configuration][metric]
            row[f"validation_{metric}"], row[f"test_{metric}"] = float(validation), float(test)
        row["note"] = step.note
        rows.append(row)
    table = pd.DataFrame(rows)
    for metric in ABLATION_METRICS:
        for part in ("validation", "test"):
            column = f"{part}_{metric}"
            table[f"{column}_change"] = table[column].diff()
    logger.info(
        "Ablation (test ROC AUC): %s",
        ", ".join(
            f"{s} {v:.4f}" for s, v in zip(table["step"], table["test_roc_auc"], strict=True)
        ),
    )
    return table, _metrics(table)


def _fitted_figures(
    cv_predictions: pd.DataFrame,
    test_predictions: pd.DataFrame,
    train_loans: pd.DataFrame,
    test_loans: pd.DataFrame,
    dataset: Dataset,
    training: Training,
    thresholds: dict[str, str | float],
) -> dict[str, dict[str, tuple[float, float]]]:
    """(validation mean, test) per metric of every step the ablation fitted itself, each at
    the threshold its strategy's rule chooses on its out-of-fold scores."""
    if cv_predictions.empty:
        return {}
    specs = {
        name: {"kind": "model", "model": name.split("/")[0], "strategy": name.split("/")[1],
               "threshold": rule, "probabilistic": True}
        for name, rule in thresholds.items()
    }  # fmt: skip
    train = metric_functions.Outcomes.of(train_loans, dataset)
    points = results.operating_points(cv_predictions, specs, train, training.threshold.objective)
    folds = results.configuration_metrics(cv_predictions, points, train, per_fold=True)
    test = results.configuration_metrics(
        test_predictions, points, metric_functions.Outcomes.of(test_loans, dataset)
    )
    means = folds.groupby("configuration")[ABLATION_METRICS].mean()
    test = test.set_index("configuration")
    return {
        name: {m: (means.loc[name, m], test.loc[name, m]) for m in ABLATION_METRICS}
        for name in specs
    }


def _metrics(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    metrics = {}
    for _, row in table.iterrows():
        for metric in ABLATION_METRICS:
            for part in ("validation", "test"):
                value = row[f"{part}_{metric}"]
                name = tracking.metric_name(f"ablation.{row['step']}.{part}_{metric}")
                metrics[name] = {"value": float(value), "step": 0}
    return metrics
