"""Modules loaded on first use. The node modules take the model libraries and the modules built
on them (modelling, preprocessing, serving, tracking, spark) from `loan_default.pipelines.lazy`,
which binds each through `lazy_module`, so that building the pipelines (`kedro registry list`,
`kedro viz`, the start of every run) imports none of scikit-learn, XGBoost, MLflow or matplotlib:
a node's first call loads what it needs. That module also imports them under `TYPE_CHECKING`,
where the layer contracts and type checkers see them."""

from __future__ import annotations

import importlib
import types
from typing import Any


class LazyModule(types.ModuleType):
    """A stand-in for module `name` that imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)  # later reads skip this method
        return getattr(module, attribute)

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module(self.__name__))


def lazy_module(name: str) -> Any:
    """Module `name`, imported on the first attribute read."""
    return LazyModule(name)
