"""The project's own catalog dataset types."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
from pathlib import Path

import mlflow
import pytest
from kedro.io import DatasetError
from kedro_mlflow.io.models import MlflowModelRegistryDataset
from matplotlib.figure import Figure

from loan_default.datasets import (
    MatplotlibImageDataset,
    MlflowInputDataset,
    MlflowMetricsBatchDataset,
    MlflowRunTagsDataset,
    RegisteredChampionDataset,
    RegistryTargetDataset,
)


def _figure() -> Figure:
    figure = Figure(figsize=(2, 1))
    figure.subplots().plot([0, 1], [0, 1])
    return figure


@pytest.mark.parametrize("where", ["local", "memory"])
def test_a_plot_is_saved_and_read_back_as_an_image(tmp_path: Path, where: str):
    filepath = str(tmp_path / "plot.png") if where == "local" else "memory://plots/plot.png"
    dataset = MatplotlibImageDataset(filepath=filepath, save_args={"dpi": 50})
    dataset.save(_figure())
    assert dataset.load().size == (100, 50)


def test_a_plot_is_read_from_a_url_with_its_protocol(tmp_path: Path):
    """A filesystem that needs the whole URL (here HTTP): the path keeps its protocol."""
    MatplotlibImageDataset(filepath=str(tmp_path / "plot.png"), save_args={"dpi": 50}).save(
        _figure()
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/plot.png"
        assert MatplotlibImageDataset(filepath=url).load().size == (100, 50)
    finally:
        server.shutdown()


@pytest.fixture
def active_run(store: str):  # the module's SQLite store (tests/conftest.py)
    mlflow.set_tracking_uri(store)
    with mlflow.start_run() as run:
        yield run


def test_a_node_s_tags_are_written_on_the_run(active_run):
    dataset = MlflowRunTagsDataset()
    dataset.save({"split.train.loans": 120, "duplicates.action": "stop"})
    tags = mlflow.get_run(active_run.info.run_id).data.tags
    assert tags["split.train.loans"] == "120" and tags["duplicates.action"] == "stop"
    assert dataset.load() == {"split.train.loans": "120", "duplicates.action": "stop"}


def test_metrics_are_logged_in_batches_as_kedro_mlflow_logs_them(active_run, monkeypatch):
    """1,001 metrics (two batches, no per-metric calls) stored as kedro-mlflow's dataset stores
    them: value and step, a history for a list."""
    calls = []
    monkeypatch.setattr(
        mlflow.MlflowClient, "log_metric", lambda *a, **k: calls.append(a), raising=True
    )
    metrics = {f"m{i}": {"value": i / 3, "step": 0} for i in range(1000)}
    metrics["history"] = [{"value": 1.0, "step": 0}, {"value": 2.5, "step": 1}]
    dataset = MlflowMetricsBatchDataset(prefix="")
    dataset.save(metrics)
    assert not calls
    logged = mlflow.get_run(active_run.info.run_id).data.metrics
    assert len(logged) == 1001 and logged["m7"] == 7 / 3 and logged["history"] == 2.5
    history = mlflow.MlflowClient().get_metric_history(active_run.info.run_id, "history")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 2.5)]


def test_the_raw_file_is_the_run_s_input_dataset_with_its_digest(active_run, tmp_path: Path):
    raw = tmp_path / "loans.csv"
    raw.write_text("loan_status,int_rate\nCharged Off,0.1\nFully Paid,0.2\n")
    sha256 = hashlib.sha256(raw.read_bytes()).hexdigest()
    dataset = MlflowInputDataset(filepath=str(raw), name="raw_loans")
    dataset.save({"rows": 2, "columns": {"loan_status": "object", "int_rate": "float64"}})
    run = mlflow.get_run(active_run.info.run_id)
    (logged,) = run.inputs.dataset_inputs
    assert logged.dataset.name == "raw_loans" and logged.dataset.digest == sha256[:12]
    assert json.loads(logged.dataset.source) == {"uri": str(raw.resolve())}
    assert json.loads(logged.dataset.profile) == {"num_rows": 2, "num_columns": 2}
    schema = json.loads(logged.dataset.schema)["mlflow_colspec"]
    assert [(c["name"], c["type"]) for c in schema] == [
        ("loan_status", "string"),
        ("int_rate", "double"),
    ]
    assert {tag.key: tag.value for tag in logged.tags}["mlflow.data.context"] == "training"
    assert run.data.tags["raw_data.sha256"] == sha256 and run.data.tags["raw_data.rows"] == "2"
    assert dataset.load()["sha256"] == sha256


def test_without_a_run_tags_stay_in_memory_only(tmp_path: Path):
    assert mlflow.active_run() is None
    dataset = MlflowRunTagsDataset()
    dataset.save({"a": 1})
    assert dataset.load() == {"a": "1"}


def test_the_registry_target_is_read_only():
    target = RegistryTargetDataset(model_name="loan-default-mine", alias="live")
    assert target.load() == {"model_name": "loan-default-mine", "alias": "live"}
    with pytest.raises(DatasetError, match="globals.yml"):
        target.save({"model_name": "other"})


def test_the_champion_dataset_is_kedro_mlflow_s_registry_dataset_read_only():
    champion = RegisteredChampionDataset("loan-default", "champion")
    assert isinstance(champion, MlflowModelRegistryDataset)
    assert champion.model_uri == "models:/loan-default@champion"
    assert RegisteredChampionDataset("loan-default", "7").model_uri == "models:/loan-default/7"
    with pytest.raises(DatasetError, match="read-only"):
        champion.save(object())
