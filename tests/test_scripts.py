"""The benchmark's helper scripts on the bundled data (they read the `dataset` block as the
pipelines do; `make benchmark` and `make benchmark-spark` call them)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import benchmark  # noqa: E402
from make_sample_applications import sample_columns  # noqa: E402
from make_scaled_data import _dataset  # noqa: E402


def test_benchmark_applications_have_the_application_columns_only(tmp_path: Path):
    path = benchmark.make_applications(tmp_path / "applications.csv", rows=25, seed=3)
    batch = pd.read_csv(path, low_memory=False)
    raw = pd.read_csv(benchmark.RAW_FILE, low_memory=False, nrows=5)
    assert len(batch) == 25
    assert list(batch.columns) == sample_columns(_dataset(), raw)
    assert _dataset().target.column not in batch.columns
