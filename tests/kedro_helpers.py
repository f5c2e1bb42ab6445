"""Run a Kedro pipeline on an in-memory catalog and keep every dataset it produced."""

from __future__ import annotations

from typing import Any

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner


class KeptMemoryDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so tests can read intermediate outputs."""

    def _release(self) -> None:
        pass


def run_in_memory(pipeline: Pipeline, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run `pipeline` with `inputs` (names -> values) and return every dataset's value."""
    names = pipeline.all_outputs() | pipeline.inputs()
    catalog = DataCatalog(
        {
            name: KeptMemoryDataset(inputs[name]) if name in inputs else KeptMemoryDataset()
            for name in names
        }
    )
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}
