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
    """One row: the configuration that scores it and, for a step the ablation fits itself,
    that configuration and the inputs it leaves out (None: the grid's own results)."""

    key: str
    configuration: str
    fitted: Configuration | None = None
    excluded_features: tuple[str, ...] = ()
    note: str = ""


def ablation_steps(
    training: dict[str, Any],
    ablation: dict[str, Any],
    default_params: dict[str, dict[str, Any]],
    monotonic_trends: dict[str, str],
    text_features: list[str],
) -> list[AblationStep]:
    """The ladder for `ablation.configuration` (model/strategy of the grid): the model with its
    registry defaults without and with text, with monotone constraints (when the model takes
    them), then the grid's configuration and ensemble."""
    model, strategy = ablation["configuration"].split("/", 1)
    spec = training["models"][model]
    registered = spec["model"]
    variants = {"base": False, "text": False}
    if MODELS[registered].monotone is not None:
        variants["monotone"] = True
    if not text_features:
        del variants["text"]
    grid = build_grid(
        {
            "models": {
                f"{model}:{key}": {
                    "model": registered,
                    "params": default_params.get(registered, {}),
                    "monotone": monotone,
                }
                for key, monotone in variants.items()
            },
            "strategies": {strategy: training["strategies"][strategy]},
        },
        monotonic_trends,
    )
    steps = [
        AblationStep(
            key,
            configuration.name,
            configuration,
            tuple(text_features) if key == "base" else (),
        )  # fmt: skip
        for key, configuration in zip(variants, grid, strict=True)
    ]
    tuned = "monotone" if spec["monotone"] else "no monotone constraints"
    steps.append(AblationStep("tuning", ablation["configuration"], note=tuned))
    ensembles = list(training["ensembles"])
    label = ablation["ensemble"] or (ensembles[0] if ensembles else None)
    if label is not None:
        steps.append(AblationStep("ensemble", f"{ENSEMBLE}/{label}"))
    return steps
