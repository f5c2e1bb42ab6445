"""Parameter blocks as nodes receive them: validated by the schema, every default filled in."""

from __future__ import annotations

from typing import Any

from loan_default.parameters import BLOCKS

# The two keys a dataset block cannot do without; tests that do not care get these.
REQUIRED_DATASET = {
    "target": {"column": "status", "positive": [1], "negative": [0]},
    "costs": {"loss_given_default": 0.7, "interest_margin": 0.12},
}


def block(name: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """`values` validated as the parameters block `name` and dumped with its defaults."""
    values = dict(values or {})
    if name == "dataset":
        target = {**REQUIRED_DATASET["target"], **values.get("target", {})}
        values = {**REQUIRED_DATASET, **values, "target": target}
    return BLOCKS[name].model_validate(values).model_dump(by_alias=True)
