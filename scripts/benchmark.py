"""Benchmark `kedro run --pipeline loan`: wall time and peak memory per node, stage and run,
on the bundled data and on a larger bootstrap copy of it (a scaling figure, not a test).

    python scripts/benchmark.py                 # scales 1 and 10
    python scripts/benchmark.py --scales 1      # bundled data only

After the run at scale 1 it scores `--score-rows` applications (default 100,000; a bootstrap of
the bundled loans' application columns) with the champion that run registered, reasons
included, and prints the scoring nodes' times (`--score-rows 0` skips it).

Each scale runs in its own process (peak RSS is a per-process high-water mark) inside a
temporary copy of the project's configuration, so the project's data/ folder is not touched.
A bootstrap copy repeats loans (each with a fresh identifier), so its CV metrics are optimistic:
use it for timings only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import yaml
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RAW_FILE = PROJECT_ROOT / "data" / "01_raw" / "lending_club_2007_2011_full.csv.gz"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


class NodeTimer:
    """Kedro hook: seconds and peak RSS after each node."""

    def __init__(self) -> None:
        self.records: list[dict] = []
        self._started: dict[str, float] = {}

    @hook_impl
    def before_node_run(self, node) -> None:
        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node) -> None:
        self.records.append(
            {
                "node": node.name,
                "stage": node.namespace.split(".")[-1] if node.namespace else node.name,
                "seconds": time.perf_counter() - self._started.pop(node.name),
                "peak_rss_mb": _peak_rss_mb(),
            }
        )


def worker(
    project: Path,
    pipeline: str,
    applications: Path | None = None,
    env: str = "local",
    params: dict | None = None,
) -> None:
    """Run the pipeline in `project` and print one JSON line with the measurements."""
    timer = NodeTimer()
    bootstrap_project(project)
    started, error = time.perf_counter(), None
    runtime = {"applications_file": str(applications)} if applications else {}
    runtime |= params or {}
    with KedroSession.create(
        project_path=project, env=env, runtime_params=runtime or None
    ) as session:
        session._hook_manager.register(timer)  # no public API to add a hook to one session
        try:
            session.run(pipeline_names=[pipeline])
        except Exception as exc:  # report the timings of what ran, and the failure
            error = f"{type(exc).__name__}: {exc}"
    result = {
        "wall_seconds": time.perf_counter() - started,
        "peak_rss_mb": _peak_rss_mb(),
        "nodes": timer.records,
        "error": error,
    }
    print("BENCHMARK " + json.dumps(result))  # noqa: T201


def make_project(root: Path, scale: int, seed: int) -> Path:
    """A project copy whose raw loans file is the bundled one, or a bootstrap sample `scale`x."""
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # the package itself is imported from the installed project
    shutil.copytree(PROJECT_ROOT / "conf" / "base", root / "conf" / "base")
    (root / "conf" / "local").mkdir(parents=True)
    raw_file = RAW_FILE
    if scale != 1:
        raw = pd.read_csv(RAW_FILE, low_memory=False)
        raw_file = root / "data" / "01_raw" / f"loans_x{scale}.csv.gz"
        raw_file.parent.mkdir(parents=True)
        copy = raw.sample(n=len(raw) * scale, replace=True, random_state=seed)
        # A bootstrap copy repeats rows, which ingestion refuses as duplicates; a fresh
        # identifier per drawn row makes each one a distinct loan for timing purposes.
        copy[_identifier_column()] = range(1, len(copy) + 1)
        copy.to_csv(raw_file, index=False)
    (root / "conf" / "local" / "globals.yml").write_text(f"raw_loans_file: {raw_file}\n")
    return root


def _dataset() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_dataset.yml").read_text())[
        "dataset"
    ]


def _identifier_column() -> str:
    return _dataset()["identifier_columns"][0]


def make_applications(path: Path, rows: int, seed: int) -> Path:
    """`rows` applications drawn with replacement from the bundled loans' application columns."""
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    from make_sample_applications import sample_columns  # noqa: PLC0415

    raw = pd.read_csv(RAW_FILE, low_memory=False)
    batch = raw[sample_columns(_dataset(), raw)].sample(n=rows, replace=True, random_state=seed)
    batch.to_csv(path, index=False)
    return path


def _measure(project: Path, pipeline: str, label: str, applications: Path | None = None) -> dict:
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "MPLBACKEND": "Agg",
        "MLFLOW_TRACKING_URI": os.environ.get(
            "MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}"
        ),
    }
    command = [sys.executable, __file__, "--worker", str(project), "--pipeline", pipeline]
    if applications:
        command += ["--applications", str(applications)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCHMARK ")]
    if not lines:
        sys.stderr.write(completed.stderr[-3000:])
        raise SystemExit(f"{label}: the benchmark run produced no measurements")
    return json.loads(lines[-1].removeprefix("BENCHMARK "))


def run_scale(scale: int, pipeline: str, seed: int, score_rows: int = 0) -> dict:
    """Run one scale in a fresh process (then, if asked, score a batch with its champion)."""
    with tempfile.TemporaryDirectory(prefix=f"loan_benchmark_x{scale}_") as tmp:
        project = make_project(Path(tmp), scale, seed)
        result = _measure(project, pipeline, f"scale {scale}")
        if score_rows and not result["error"]:
            batch = make_applications(project / f"applications_{score_rows}.csv", score_rows, seed)
            result["scoring"] = _measure(project, "score", "scoring", batch)
            result["scoring"]["rows"] = score_rows
        return result


def report(scale: int, result: dict) -> None:
    """Print per-stage and slowest-node figures for one scale."""
    out = sys.stdout.write
    out(f"\n=== scale x{scale}: {result['wall_seconds']:.1f} s wall, "
        f"peak RSS {result['peak_rss_mb']:,.0f} MB ===\n")  # fmt: skip
    if result["error"]:
        out(f"(the run failed after the timed nodes: {result['error'][:300]})\n")
    stages: dict[str, dict] = defaultdict(lambda: {"seconds": 0.0, "peak_rss_mb": 0.0})
    for record in result["nodes"]:
        stage = stages[record["stage"]]
        stage["seconds"] += record["seconds"]
        stage["peak_rss_mb"] = max(stage["peak_rss_mb"], record["peak_rss_mb"])
    out(f"{'stage':<16}{'seconds':>10}{'peak RSS MB':>14}\n")
    for name, stage in stages.items():
        out(f"{name:<16}{stage['seconds']:>10.1f}{stage['peak_rss_mb']:>14,.0f}\n")
    out("slowest nodes:\n")
    for record in sorted(result["nodes"], key=lambda r: -r["seconds"])[:8]:
        out(f"  {record['node']:<50}{record['seconds']:>8.1f} s\n")
    scoring = result.get("scoring")
    if scoring:
        out(f"\n--- scoring {scoring['rows']:,} applications (reasons for every rejection): "
            f"{scoring['wall_seconds']:.1f} s wall, peak RSS {scoring['peak_rss_mb']:,.0f} MB ---\n")  # fmt: skip
        if scoring["error"]:
            out(f"(scoring failed: {scoring['error'][:300]})\n")
        for record in scoring["nodes"]:
            out(f"  {record['node']:<50}{record['seconds']:>8.1f} s\n")


def main() -> None:
    """Parse arguments; run each scale (or, with --worker, one run in this process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="comma-separated data multipliers")
    parser.add_argument("--pipeline", default="loan")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--score-rows", type=int, default=100_000)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--applications", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--env", default="local", help=argparse.SUPPRESS)
    parser.add_argument("--params", type=json.loads, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.pipeline, args.applications, args.env, args.params)
        return
    results = {}
    for scale in (int(s) for s in args.scales.split(",")):
        score_rows = args.score_rows if scale == 1 and args.pipeline == "loan" else 0
        results[scale] = run_scale(scale, args.pipeline, args.seed, score_rows)
        report(scale, results[scale])
    if len(results) > 1:
        base = min(results)
        sys.stdout.write("\nscaling (relative to the smallest run):\n")
        for scale, result in results.items():
            time_ratio = result["wall_seconds"] / results[base]["wall_seconds"]
            memory_ratio = result["peak_rss_mb"] / results[base]["peak_rss_mb"]
            sys.stdout.write(
                f"  x{scale}: {time_ratio:.1f}x wall time, {memory_ratio:.1f}x peak memory\n"
            )


if __name__ == "__main__":
    main()
