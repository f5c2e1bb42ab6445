"""Benchmark the project: how fast a contributor gets feedback, and `kedro run --pipeline loan`.

    python scripts/benchmark.py                       # everything below, from one run (`make benchmark`)
    python scripts/benchmark.py --vs 47e6122          # ... with `loan` side by side with that commit
    python scripts/benchmark.py --only loan --scales 1,10   # the scaling figure (`make benchmark-scaling`)

The feedback figures are measured on a fresh clone of this repository's HEAD (committed work
only) in a temporary folder: `make install` (the package cache is warm after the first install
on a machine), `kedro --help` and `kedro registry list` (median of 3), `make install-dev`,
`make test-fast` and the full `make test` (CI). `loan` is measured on the bundled data: wall time
and peak memory per node, stage and run; with `--vs REF`, REF is cloned and installed the same
way and the two `loan` runs alternate (REF, HEAD, REF, HEAD with `--repeats 2`), so both see the
same machine; their ratio is printed with the metrics of both runs.

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
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from make_scaled_data import _dataset

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


def default_runner() -> object | None:
    """The runner `kedro run` uses by default in the installed project (its cli.py's
    DEFAULT_RUNNER), or None (Kedro's SequentialRunner) for a project without one: a benchmark
    of a commit measures what `kedro run --pipeline loan` runs there."""
    try:
        from loan_default.cli import DEFAULT_RUNNER  # noqa: PLC0415
    except ImportError:
        return None
    from kedro.utils import load_obj  # noqa: PLC0415

    return load_obj(DEFAULT_RUNNER)()


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
            session.run(pipeline_names=[pipeline], runner=default_runner())
        except Exception as exc:  # report the timings of what ran, and the failure
            error = f"{type(exc).__name__}: {exc}"
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    result = {
        "wall_seconds": time.perf_counter() - started,
        "peak_rss_mb": _peak_rss_mb(),
        # The largest child process's high-water mark: the runner's worker process, or a
        # process MLflow started (the two add up to at most their sum at any moment).
        "worker_peak_rss_mb": children.ru_maxrss / 1024,
        "cpu_seconds": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "load_average": os.getloadavg()[0],
        "nodes": timer.records,
        "error": error,
    }
    print("BENCHMARK " + json.dumps(result))  # noqa: T201


def make_project(root: Path, scale: int, seed: int, source: Path = PROJECT_ROOT) -> Path:
    """A copy of `source`'s configuration whose raw loans file is the bundled one, or a bootstrap
    sample `scale`x."""
    shutil.copy(source / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # the package itself is imported from the installed project
    shutil.copytree(source / "conf" / "base", root / "conf" / "base")
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


def _identifier_column() -> str:
    return _dataset().identifier_columns[0]


def make_applications(path: Path, rows: int, seed: int) -> Path:
    """`rows` applications drawn with replacement from the bundled loans' application columns."""
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    from make_sample_applications import sample_columns  # noqa: PLC0415

    raw = pd.read_csv(RAW_FILE, low_memory=False)
    batch = raw[sample_columns(_dataset(), raw)].sample(n=rows, replace=True, random_state=seed)
    batch.to_csv(path, index=False)
    return path


def _measure(
    project: Path,
    pipeline: str,
    label: str,
    applications: Path | None = None,
    python: str = sys.executable,
) -> dict:
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "MPLBACKEND": "Agg",
        "MLFLOW_TRACKING_URI": os.environ.get(
            "MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}"
        ),
    }
    command = [python, __file__, "--worker", str(project), "--pipeline", pipeline]
    if applications:
        command += ["--applications", str(applications)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCHMARK ")]
    if not lines:
        sys.stderr.write(completed.stderr[-3000:])
        raise SystemExit(f"{label}: the benchmark run produced no measurements")
    return json.loads(lines[-1].removeprefix("BENCHMARK "))


def run_scale(
    scale: int,
    pipeline: str,
    seed: int,
    score_rows: int = 0,
    source: Path = PROJECT_ROOT,
    python: str = sys.executable,
) -> dict:
    """Run one scale in a fresh process (then, if asked, score a batch with its champion), with
    the configuration of `source` and the package installed for `python`."""
    with tempfile.TemporaryDirectory(prefix=f"loan_benchmark_x{scale}_") as tmp:
        project = make_project(Path(tmp), scale, seed, source)
        result = _measure(project, pipeline, f"scale {scale}", python=python)
        result["metrics"] = _headline_metrics(project)
        if score_rows and not result["error"]:
            batch = make_applications(project / f"applications_{score_rows}.csv", score_rows, seed)
            result["scoring"] = _measure(project, "score", "scoring", batch, python=python)
            result["scoring"]["rows"] = score_rows
        return result


def _headline_metrics(project: Path) -> dict[str, float]:
    """Every metric the run logged (parent and child runs, keyed by run name), from the run's
    own MLflow store: two runs compared for speed must have computed the same thing."""
    database = project / "mlflow.db"
    if not database.exists():
        return {}
    import sqlite3  # noqa: PLC0415

    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT runs.name, latest_metrics.key, latest_metrics.value FROM latest_metrics "
            "JOIN runs ON runs.run_uuid = latest_metrics.run_uuid"
        ).fetchall()
    return {f"{run}/{key}": value for run, key, value in rows}


def _run(command: list[str] | str, cwd: Path, log: Path) -> tuple[float, int]:
    """Seconds and exit status of a shell command, its output kept in `log`."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MPLBACKEND": "Agg"}
    env.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    with log.open("w") as out:
        completed = subprocess.run(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
            shell=isinstance(command, str), check=False,
        )  # fmt: skip
    return time.perf_counter() - started, completed.returncode


def fresh_clone(root: Path, ref: str, name: str) -> Path:
    """A clone of this repository at `ref` under `root`."""
    clone = root / name
    subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", ref], check=True)
    return clone


def _median_seconds(command: list[str], cwd: Path, log: Path, times: int = 3) -> float:
    return statistics.median(_run(command, cwd, log)[0] for _ in range(times))


def feedback(root: Path, suite: bool, out: Callable[[str], object]) -> dict[str, float]:
    """Install, CLI start, test-fast and the full suite on a fresh clone of HEAD."""
    clone = fresh_clone(root, "HEAD", "head")
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    figures: dict[str, float] = {}

    def step(label: str, key: str, command: str) -> None:
        seconds, status = _run(command, clone, logs / f"{key}.log")
        figures[key] = seconds
        verdict = "" if status == 0 else f"  (FAILED, exit {status}; see {logs / key}.log)"
        out(f"  {label:<44}{seconds:>8.1f} s{verdict}\n")

    out(f"\n=== feedback on a fresh clone of HEAD ({_commit(clone)}) ===\n")
    step("make install (fresh clone, warm cache)", "install", "make install")
    pyspark = (clone / ".venv").glob("lib/python*/site-packages/pyspark")
    out(f"  {'pyspark installed by make install':<44}{'yes' if any(pyspark) else 'no':>10}\n")
    kedro = str(clone / ".venv" / "bin" / "kedro")
    for label, key, args in (
        ("kedro --help (median of 3)", "kedro_help", ["--help"]),
        ("kedro registry list (median of 3)", "registry_list", ["registry", "list"]),
    ):
        figures[key] = _median_seconds([kedro, *args], clone, logs / f"{key}.log")
        out(f"  {label:<44}{figures[key]:>8.1f} s\n")
    step("make install-dev (on top of make install)", "install_dev", "make install-dev")
    step("make test-fast", "test_fast", "make test-fast")
    if suite:
        step("make test (the full suite, what CI runs)", "test", "make test")
    return figures


def _commit(path: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(path), "log", "-1", "--format=%h %s"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()[:72]  # fmt: skip


def side_by_side(
    root: Path, ref: str, repeats: int, seed: int, out: Callable[[str], object]
) -> None:
    """`loan` at scale 1 for `ref` and HEAD, alternating, each installed in its own clone."""
    clones = {}
    for name, commit in (("reference", ref), ("head", "HEAD")):
        clone = root / name
        if not (clone / ".venv" / "bin" / "python").exists():
            clone = fresh_clone(root, commit, name)
            _run("make install", clone, root / f"{name}_install.log")
        clones[name] = clone
    walls: dict[str, list[float]] = {"reference": [], "head": []}
    cpus: dict[str, list[float]] = {"reference": [], "head": []}
    rows: dict[str, list[str]] = {"reference": [], "head": []}
    metrics: dict[str, dict] = {}
    for _ in range(repeats):
        for name, clone in clones.items():
            result = run_scale(1, "loan", seed, 0, clone, str(clone / ".venv" / "bin" / "python"))
            if result["error"]:
                out(f"  {name}: the run failed: {result['error'][:300]}\n")
            walls[name].append(result["wall_seconds"])
            cpus[name].append(result.get("cpu_seconds", 0.0))
            rows[name].append(
                f"{result['wall_seconds']:.1f} s wall, {result.get('cpu_seconds', 0):.1f} CPU-s, "
                f"peak RSS {result['peak_rss_mb']:,.0f} MB"
                f" (largest child process {result.get('worker_peak_rss_mb', 0):,.0f} MB), "
                f"load average {result.get('load_average', 0):.2f} at the end"
            )
            metrics[name] = result["metrics"]
    out(f"\n=== loan side by side: reference {_commit(clones['reference'])} "
        f"against HEAD {_commit(clones['head'])} ===\n")  # fmt: skip
    for name, values in walls.items():
        listed = ", ".join(f"{value:.1f}" for value in values)
        out(f"  {name:<10} wall seconds: {listed} (median {statistics.median(values):.1f})\n")
        for row in rows[name]:
            out(f"             {row}\n")
    ratio = statistics.median(walls["head"]) / statistics.median(walls["reference"])
    out(f"  HEAD / reference: {ratio:.2f}x\n")
    # No schedule on these cores can finish HEAD's CPU-seconds faster than spread evenly.
    cores = os.cpu_count() or 1
    floor = statistics.median(cpus["head"]) / cores
    out(f"  HEAD's CPU-seconds spread evenly over {cores} cores: {floor:.1f} s, "
        f"{floor / statistics.median(walls['reference']):.2f}x of the reference "
        "(the floor for any schedule of the same work)\n")  # fmt: skip
    shared = sorted(set(metrics["head"]) & set(metrics["reference"]))
    differing = [
        key for key in shared if abs(metrics["head"][key] - metrics["reference"][key]) > 1e-9
    ]
    out(f"  champion and test metrics compared: {len(shared)}, differing by more than 1e-9: "
        f"{len(differing)} {differing[:8]}\n")  # fmt: skip


def machine() -> str:
    """What the figures were measured on: cores, memory, load when the benchmark started."""
    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{cores} cores, {memory:.0f} GiB RAM, load average {load} at the start"


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
    parser.add_argument("--scales", default="1", help="comma-separated data multipliers")
    parser.add_argument(
        "--only",
        choices=("all", "loan", "feedback"),
        default="all",
        help="loan: the pipeline runs only; feedback: install, CLI and suite times only",
    )
    parser.add_argument("--vs", help="a commit to run `loan` against, side by side")
    parser.add_argument("--repeats", type=int, default=1, help="side-by-side rounds")
    parser.add_argument("--no-suite", action="store_true", help="skip the full `make test`")
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
    out = sys.stdout.write
    out(f"Measured on {machine()}.\n")
    with tempfile.TemporaryDirectory(prefix="loan_benchmark_clones_") as tmp:
        if args.only in ("all", "feedback"):
            feedback(Path(tmp), not args.no_suite, out)
        if args.vs and args.only in ("all", "loan"):
            side_by_side(Path(tmp), args.vs, args.repeats, args.seed, out)
    if args.only == "feedback":
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
