"""Parameter blocks as nodes receive them: validated by the schema into their typed models."""

from __future__ import annotations

from typing import Any

from loan_default.parameters import BLOCKS, Block

# The two keys a dataset block cannot do without; tests that do not care get these.
REQUIRED_DATASET = {
    "target": {"column": "status", "positive": [1], "negative": [0]},
    "costs": {"loss_given_default": 0.7, "interest_margin": 0.12},
}


def block(name: str, values: dict[str, Any] | None = None) -> Block:
    """`values` validated as the parameters block `name` (every default filled in)."""
    values = dict(values or {})
    if name == "dataset":
        target = {**REQUIRED_DATASET["target"], **values.get("target", {})}
        values = {**REQUIRED_DATASET, **values, "target": target}
    return BLOCKS[name].model_validate(values)
