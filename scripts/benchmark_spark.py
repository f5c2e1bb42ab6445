"""Benchmark the Spark environment: `loan` and `score` at several scales, beside the pandas path.

    python scripts/benchmark_spark.py                          # scales 1,10,50; pandas at 1,10
    python scripts/benchmark_spark.py --scales 1,10 --pandas-scales 1 --score-rows 1000000

Each scale is an N-times bootstrap of the bundled loans (scripts/make_scaled_data.py: timings
only, never metrics) written as Parquet part files, run with
`kedro run --pipeline loan --env spark` in a temporary copy of the project's configuration.
Peak memory is the largest sum of resident memory over the run's whole process tree: the
Kedro driver, Spark's JVM and its Python workers (on local[*] the executors live there too).
After each `loan` run, `--score-rows` applications (a bootstrap of the bundled loans'
application columns, as Parquet) are scored with the champion that run registered.
The last lines are a Markdown table to paste into docs/spark.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from benchmark import make_project, run_scale  # noqa: E402
from make_sample_applications import sample_columns  # noqa: E402
from make_scaled_data import _dataset, _raw_file, write_scaled  # noqa: E402


class TreeMemory:
    """Polls the resident memory of a process and all its descendants; keeps the peak sum."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every, self.peak_mb = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, sum(_rss_mb(p) for p in _tree(self.pid)))
            self._stop.wait(self.every)


def _tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        kids = [int(k) for k in children.read_text().split()]
    except OSError:
        return []
    return [pid] + [p for kid in kids for p in _tree(kid)]


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _kedro(project: Path, pipeline: str, params: dict[str, str]) -> dict:
    """One `--env spark` run of `pipeline` in `project` (scripts/benchmark.py's worker, which
    times every node): wall seconds, peak memory of the process tree, nodes, failure."""
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "MPLBACKEND": "Agg",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
    }
    command = [sys.executable, str(PROJECT_ROOT / "scripts" / "benchmark.py"), "--worker",
               str(project), "--pipeline", pipeline, "--env", "spark",
               "--params", json.dumps({k: str(v) for k, v in params.items()})]  # fmt: skip
    log = project / f"{pipeline}.log"
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=project, env=env, stdout=out, stderr=out)
        with TreeMemory(process.pid) as memory:
            code = process.wait()
    lines = [line for line in log.read_text().splitlines() if line.startswith("BENCHMARK ")]
    result = json.loads(lines[-1].removeprefix("BENCHMARK ")) if lines else {"nodes": []}
    failed = result.get("error") or (None if code == 0 else log.read_text()[-2000:])
    return {
        "seconds": time.perf_counter() - started,
        "peak_mb": memory.peak_mb,
        "nodes": result["nodes"],
        "error": failed,
    }


def _by_stage(nodes: list[dict]) -> str:
    """Seconds per stage (the node's namespace), largest first: where the time goes."""
    stages: dict[str, float] = {}
    for node in nodes:
        # `loan` nests stages as loan.<phase>.<stage>.<node>: the stage is the last namespace part.
        stage = node["node"].split(".")[-2] if "." in node["node"] else "other"
        stages[stage] = stages.get(stage, 0.0) + node["seconds"]
    ranked = sorted(stages.items(), key=lambda item: -item[1])
    return "    " + ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in ranked) + "\n"


def _slowest(nodes: list[dict], count: int = 6) -> str:
    ranked = sorted(nodes, key=lambda node: -node["seconds"])[:count]
    return "".join(f"    {node['node']:<48}{node['seconds']:>8.1f} s\n" for node in ranked)


def _applications(path: Path, rows: int, seed: int) -> Path:
    raw = pd.read_csv(_raw_file(), low_memory=False)
    batch = raw[sample_columns(_dataset(), raw)].sample(n=rows, replace=True, random_state=seed)
    path.mkdir(parents=True)
    for part, chunk in enumerate(range(0, rows, 250_000)):
        batch.iloc[chunk : chunk + 250_000].to_parquet(path / f"part-{part:05d}.parquet")
    return path


def spark_scale(scale: int, score_rows: int, seed: int) -> dict:
    """`loan` on an N-times copy, then scoring `score_rows` applications, on the Spark path."""
    with tempfile.TemporaryDirectory(prefix=f"loan_spark_x{scale}_") as tmp:
        project = make_project(Path(tmp), 1, seed)
        shutil.copytree(PROJECT_ROOT / "conf" / "spark", project / "conf" / "spark")
        loans = write_scaled(scale, project / "data" / "scaled", seed, 0.01)
        result = {"loan": _kedro(project, "loan", {"raw_loans_path": loans,
                                                   "raw_loans_format": "parquet"})}  # fmt: skip
        if score_rows and not result["loan"]["error"]:
            batch = _applications(project / "data" / "applications", score_rows, seed)
            params = {"applications_file": batch, "applications_format": "parquet"}
            result["score"] = _kedro(project, "score", params | {"scoring_model": "latest"})
        return result


def main() -> None:
    """Run the scales and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,50")
    parser.add_argument("--pandas-scales", default="1,10")
    parser.add_argument("--score-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    out = sys.stdout.write
    rows = []
    for scale in (int(s) for s in args.pandas_scales.split(",") if s):
        result = run_scale(scale, "loan", args.seed, 0)
        rows.append(("pandas", scale, result["wall_seconds"], result["peak_rss_mb"], None))
        out(f"pandas x{scale}: {result['wall_seconds']:.0f} s, {result['peak_rss_mb']:,.0f} MB\n")
    for scale in (int(s) for s in args.scales.split(",") if s):
        result = spark_scale(scale, args.score_rows, args.seed)
        loan, score = result["loan"], result.get("score")
        rows.append(("spark", scale, loan["seconds"], loan["peak_mb"], score))
        out(f"spark x{scale}: loan {loan['seconds']:.0f} s, {loan['peak_mb']:,.0f} MB")
        out(f"; score {score['seconds']:.0f} s\n" if score else "\n")
        out("  loan nodes by stage:\n" + _by_stage(loan["nodes"]))
        out("  slowest loan nodes:\n" + _slowest(loan["nodes"]))
        timings = PROJECT_ROOT / "data" / "benchmark" / f"spark_x{scale}_nodes.json"
        timings.parent.mkdir(parents=True, exist_ok=True)
        timings.write_text(json.dumps({k: v and v.get("nodes") for k, v in result.items()}))
        out(f"  every node's time: {timings.relative_to(PROJECT_ROOT)}\n")
        if score:
            out("  slowest score nodes:\n" + _slowest(score["nodes"], 3))
        for failed in filter(None, [loan["error"], score and score["error"]]):
            out(f"  FAILED: {failed[-600:]}\n")
    out(f"\n| path | scale | loans | `loan` wall | peak memory | scoring {args.score_rows:,} |\n")
    out("|---|---|---|---|---|---|\n")
    for path, scale, seconds, peak, score in rows:
        scored = f"{score['seconds']:.0f} s" if score and not score["error"] else "-"
        out(f"| {path} | {scale}x | {42_535 * scale:,} | {seconds:.0f} s | {peak:,.0f} MB "
            f"| {scored} |\n")  # fmt: skip


if __name__ == "__main__":
    main()
