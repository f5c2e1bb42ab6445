"""kedro viz shows the loan pipeline's stages, live and as an exported static site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project

from tests.browser import free_port, render_page, start_server, stop_server, wait_for_http
from tests.conftest import make_kedro_project

pytestmark = pytest.mark.slow
HIDE_HINTS = {"KedroViz": json.dumps({"showFeatureHints": False})}
KEDRO = str(Path(sys.executable).with_name("kedro"))


@pytest.fixture(scope="module")
def viz_project(tmp_path_factory, raw_loans_sample: pd.DataFrame) -> Path:
    return make_kedro_project(tmp_path_factory.mktemp("viz") / "project", raw_loans_sample, {})


@pytest.fixture(scope="module")
def stage_names(viz_project: Path) -> list[str]:
    """Stages of the `loan` pipeline (the last part of each node's namespace)."""
    bootstrap_project(viz_project)
    return sorted({node.namespace.split(".")[-1] for node in pipelines["loan"].nodes})


@pytest.fixture(scope="module")
def namespaces(viz_project: Path) -> set[str]:
    """Every namespace of `loan`, nested ones and their parents (`loan`, `loan.data`, ...)."""
    bootstrap_project(viz_project)
    parts = [node.namespace.split(".") for node in pipelines["loan"].nodes]
    return {".".join(part[:depth]) for part in parts for depth in range(1, len(part) + 1)}


def _env() -> dict[str, str]:
    return {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}


def test_stages_are_modular_pipelines(stage_names: list[str]):
    expected = {"ingestion", "split", "data_quality", "features", "baselines", "training"}
    expected |= {"evaluation", "reporting", "registration"}
    assert expected <= set(stage_names)


def _datasets_outside(graph: dict) -> list[str]:
    """Names of the datasets drawn beside the collapsed top-level boxes (the opening view)."""
    names = {node["id"]: node["name"] for node in graph["nodes"]}
    root = graph["modular_pipelines"]["__root__"]["children"]
    return sorted(names[child["id"]] for child in root if child["type"] == "data")


def test_kedro_viz_run_opens_on_the_overview(viz_project: Path, namespaces: set[str]):
    port = free_port()
    server = start_server(
        [KEDRO, "viz", "run", "--host", "127.0.0.1", "--port", str(port), "--no-browser"],
        viz_project / "viz.log",
        cwd=viz_project,
        env=_env(),
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/main", server, timeout=120)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/main") as response:
            graph = json.loads(response.read())
        assert namespaces <= set(graph["modular_pipelines"])
        outside = _datasets_outside(graph)
        assert "raw_loans" in outside and "loan_report" not in outside, outside
        assert len(outside) <= 15, outside
        text = render_page(f"http://127.0.0.1:{port}/", ["loan"], "kedro_viz_run", HIDE_HINTS)
        assert "raw_loans" in text.replace(" ", "_").lower() or "raw loans" in text.lower()
    finally:
        stop_server(server)
        server.wait(timeout=30)


def test_kedro_viz_build_exports_a_static_site(viz_project: Path):
    subprocess.run([KEDRO, "viz", "build"], cwd=viz_project, env=_env(), check=True, timeout=300)
    site = viz_project / "build"
    assert (site / "index.html").is_file()
    graph = json.loads((site / "api" / "main").read_text())
    stage = {"loan.registration", "loan.validation.scoring_profile"}  # the stage's namespaces
    assert stage <= set(graph["modular_pipelines"]), "registration is a visible stage"
    assert len(_datasets_outside(graph)) <= 15
    registration = [
        child["id"]
        for name in stage
        for child in graph["modular_pipelines"][name]["children"]
        if child["type"] == "task"
    ]
    assert len(registration) >= 5, graph["modular_pipelines"]["loan.registration"]
    port = free_port()
    server = start_server(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        viz_project / "static_site.log",
        cwd=site,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", server)
        text = render_page(f"http://127.0.0.1:{port}/", ["loan"], "kedro_viz_build", HIDE_HINTS)
        assert "loan" in text
    finally:
        stop_server(server)
        server.wait(timeout=30)
