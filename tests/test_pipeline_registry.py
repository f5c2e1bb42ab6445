"""`loan` nests its stages in phases so that kedro viz opens on a readable overview."""

from __future__ import annotations

import warnings

import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from kedro.pipeline import Node, Pipeline
from kedro_viz.data_access.repositories.modular_pipelines import ModularPipelinesRepository
from kedro_viz.utils import _hash_input_output

from loan_default.pipeline_registry import PHASES, nest_in_phases
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def loan() -> Pipeline:
    bootstrap_project(PROJECT_ROOT)
    return pipelines["loan"]


def _opening_view(pipeline: Pipeline) -> tuple[list[str], list[str]]:
    """Datasets and boxes kedro viz draws when every modular pipeline is collapsed."""
    repository = ModularPipelinesRepository()
    datasets = pipeline.datasets()
    repository.parameters = {
        _hash_input_output(name) for name in datasets if name.startswith("params:")
    }
    repository.populate_tree(pipeline)
    names = {_hash_input_output(name): name for name in datasets}
    children = repository.tree["__root__"].children
    boxes = sorted(child.id for child in children if child.type == "modularPipeline")
    data = sorted(names[child.id] for child in children if child.type == "data")
    return data, boxes


def test_overview_has_at_most_15_datasets(loan: Pipeline):
    data, boxes = _opening_view(loan)
    assert boxes == ["loan"]
    assert len(data) <= 15, data
    assert {"raw_loans", "out_of_time_monitoring_sample"} <= set(data), "inputs and final outputs"
    assert "train_loans" not in data, "intermediates live inside their stage"


def test_every_stage_sits_in_a_phase(loan: Pipeline):
    stages = {node.namespace.split(".")[-1] for node in loan.nodes}
    assert stages == {stage for members in PHASES.values() for stage in members}
    split = next(node for node in loan.nodes if node.name.endswith(".summarise_split"))
    assert split.namespace == "loan.data.split"
    assert split.outputs == ["data.split_summary"], "dataset names are unchanged"
    assert next(n for n in loan.nodes if n.name.endswith(".register_champion")).namespace == (
        "loan.registration"
    )


def test_no_phase_is_interrupted(loan: Pipeline):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Pipeline(loan.nodes)


def test_a_stage_without_a_phase_is_named():
    stray = Pipeline([Node(len, "a", "b", name="count")], namespace="mystery")
    with pytest.raises(ValueError, match=r"\['mystery'\] have no phase"):
        nest_in_phases(stray)
