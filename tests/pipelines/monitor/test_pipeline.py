"""The monitor pipeline's shape: checks first, one `monitor` box in kedro viz."""

from __future__ import annotations

import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from kedro.pipeline import Pipeline

from tests.conftest import PROJECT_ROOT
from tests.test_pipeline_registry import _opening_view

FILES = {"monitor_summary", "monitor_backtest", "monitor_stability", "monitoring_report"}


@pytest.fixture(scope="module")
def monitor() -> Pipeline:
    bootstrap_project(PROJECT_ROOT)
    return pipelines["monitor"]


def test_monitor_opens_as_one_box_with_its_inputs_outside(monitor: Pipeline):
    data, boxes = _opening_view(monitor)
    assert boxes == ["monitor"]
    assert set(data) == {
        "scoring_log", "loan_outcomes", "monitored_champion", "monitored_version",
        "champion_monitoring_tags",
    }  # fmt: skip
    stages = {node.namespace for node in monitor.nodes}
    assert stages == {"monitor.inputs", "monitor.backtest", "monitor.reporting", "monitor.tracking"}


def test_nothing_is_written_before_every_input_check(monitor: Pipeline):
    checks = monitor.only_nodes_with_namespaces(["monitor.inputs"])
    for node in monitor.nodes:
        if set(node.outputs) & (FILES | {"monitoring_run", "champion_monitoring_tags"}):
            upstream = monitor.to_nodes(node.name)
            assert set(checks.nodes) <= set(upstream.nodes), node.name


def test_monitor_is_not_part_of_the_loan_job():
    bootstrap_project(PROJECT_ROOT)
    assert not any(node.namespace.startswith("monitor") for node in pipelines["loan"].nodes)
