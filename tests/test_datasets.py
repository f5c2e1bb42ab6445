"""The project's own catalog dataset types."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from loan_default.datasets import MatplotlibImageDataset


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
