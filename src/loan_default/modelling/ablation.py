"""The ablation ladder: one grid configuration, rebuilt one addition at a time.

Rows, each adding to the one before: the model's default hyperparameters on the structured
features only; + text features; + monotone constraints; + the configured (tuned)
hyperparameters, i.e. the grid's own configuration; + the ensemble. The first three are fitted
here on the same folds and training loans; the last two are the grid's results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ensemble import MODEL as ENSEMBLE
from .registry import MODELS, Configuration, build_grid

STEPS = {
    "base": "base features (default hyperparameters, no text)",
    "text": "+ text features",
    "monotone": "+ monotone constraints",
    "tuning": "+ tuned hyperparameters",
    "ensemble": "+ ensemble",
}


@dataclass(frozen=True)
class AblationStep:
    """One row: the configuration that scores it, the inputs it leaves out, and where its
    predictions come from (`fit`: fitted by the ablation; `grid`: the grid's own results)."""

    key: str
    configuration: str
    source: str
    excluded_features: tuple[str, ...] = ()
    note: str = ""


def ablation_steps(
    training: dict[str, Any],
    ablation: dict[str, Any],
    text_features: list[str],
) -> list[AblationStep]:
    """The ladder for `ablation.configuration` (model/strategy of the grid)."""
    model, strategy = ablation["configuration"].split("/", 1)
    spec = training["models"][model]
    registered = spec["model"]
    steps = [AblationStep("base", f"{model}:base/{strategy}", "fit", tuple(text_features))]
    if text_features:
        steps.append(AblationStep("text", f"{model}:text/{strategy}", "fit"))
    if MODELS[registered].monotone is not None:
        steps.append(AblationStep("monotone", f"{model}:monotone/{strategy}", "fit"))
    tuned = "monotone" if spec["monotone"] else "no monotone constraints"
    steps.append(AblationStep("tuning", ablation["configuration"], "grid", note=tuned))
    ensembles = list(training["ensembles"])
    label = ablation["ensemble"] or (ensembles[0] if ensembles else None)
    if label is not None:
        steps.append(AblationStep("ensemble", f"{ENSEMBLE}/{label}", "grid"))
    return steps


def ablation_grid(
    training: dict[str, Any],
    ablation: dict[str, Any],
    default_params: dict[str, dict[str, Any]],
    monotonic_trends: dict[str, str],
) -> list[Configuration]:
    """The configurations the ablation fits itself: the model with its registry defaults, as
    is (base, text) and with monotone constraints."""
    model, strategy = ablation["configuration"].split("/", 1)
    registered = training["models"][model]["model"]
    defaults = default_params.get(registered, {})
    variants = {
        f"{model}:base": {"model": registered, "params": defaults, "monotone": False},
        f"{model}:text": {"model": registered, "params": defaults, "monotone": False},
    }
    if MODELS[registered].monotone is not None:
        variants[f"{model}:monotone"] = {"model": registered, "params": defaults, "monotone": True}
    grid_params = {
        "models": variants,
        "strategies": {strategy: training["strategies"][strategy]},
    }
    return build_grid(grid_params, monotonic_trends)
