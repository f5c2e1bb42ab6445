"""The names a configuration may use for metrics, models, imbalance strategies and threshold
objectives, known without importing scikit-learn, XGBoost or imbalanced-learn.

`loan_default.parameters` checks configurations against these names, so `kedro` starts without
loading the model libraries. The modelling registries built on them (`modelling.registry`,
`modelling.metrics`, `modelling.thresholds`) call `check_registry` when imported: a name added
on one side only stops the first run that imports them, saying which side lacks it.
"""

from __future__ import annotations

from collections.abc import Iterable

# Whether a larger value is better, for every metric a configuration can be ranked by.
GREATER_IS_BETTER = {
    "roc_auc": True,
    "pr_auc": True,
    "ks": True,
    "brier": False,
    "log_loss": False,
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "approval_rate": True,
    "expected_cost_per_loan": False,
    "expected_cost_total": False,
}

# The metrics computed for every configuration: ranking (of scores) and decision (at the
# operating threshold) metrics, in the order tables show them.
RANKING_METRICS = ["roc_auc", "pr_auc", "ks", "brier", "log_loss"]
DECISION_METRICS = [
    "accuracy",
    "precision",
    "recall",
    "f1",
    "approval_rate",
    "expected_cost_per_loan",
    "expected_cost_total",
]

# Models of `training.models.<label>.model` (modelling.registry.MODELS).
MODEL_NAMES = ("logistic_regression", "random_forest", "xgboost", "neural_network")
# The models that take monotone constraints (`monotone: true`, dataset.monotonic_trends).
MONOTONE_MODELS = ("random_forest", "xgboost")

# Imbalance strategies of `training.strategies.<label>.strategy` (modelling.registry.STRATEGIES).
STRATEGY_NAMES = ("none", "class_weight", "smote", "undersample", "threshold_tuning")

# Objectives of `training.threshold.objective` (modelling.thresholds.OBJECTIVES).
THRESHOLD_OBJECTIVES = ("min_expected_cost", "max_f1", "max_youden")


def check_registry(kind: str, names: Iterable[str], registry: Iterable[str]) -> None:
    """Raise RuntimeError when a registry's keys are not exactly the names listed here."""
    names, registry = set(names), set(registry)
    if names != registry:
        raise RuntimeError(
            f"The {kind} names in loan_default.config.names and the {kind} registry differ: "
            f"only named there {sorted(names - registry)}, only registered "
            f"{sorted(registry - names)}. Add or remove the name on both sides."
        )


# The node tag loan_default.runner.WorkerRunner runs alone, in the main process, with the BLAS
# threads of a sequential run (its results carry multithreaded BLAS's own rounding).
EXCLUSIVE = "exclusive"
