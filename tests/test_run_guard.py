"""The run lock under contention, SIGTERM during a run, and the tracking store's preflight.

Contention is tested with real processes racing on one lock file; SIGTERM with a real process
holding the lock and an MLflow run in a SQLite store.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from loan_default import run_guard
from loan_default.run_guard import RunInProgressError, RunLock, TrackingStoreError

RUN_GUARD = Path(run_guard.__file__)

# A process that takes and releases the lock `rounds` times and checks, each time it holds it,
# that nobody else is inside: the `inside` marker is created with O_EXCL and removed on leaving.
# With a dead process's record as `dead`, every other time it "dies" holding the lock instead:
# it leaves the lock holding that record, for the others to take over at once.
STRESS_WORKER = """
import importlib.util, json, os, sys, time
from pathlib import Path
module, lock_path, folder, rounds, dead = sys.argv[1:6]
spec = importlib.util.spec_from_file_location("guard_under_test", module)
guard = importlib.util.module_from_spec(spec)
spec.loader.exec_module(guard)
folder = Path(folder)
inside, go = folder / "inside", folder / "go"
(folder / f"ready.{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.001)
lock = guard.RunLock(Path(lock_path))
held = overlaps = refused = 0
deadline = time.monotonic() + 30
while held < int(rounds) and time.monotonic() < deadline:
    try:
        lock.acquire({"env": "stress", "pipeline": "loan"})
    except guard.RunInProgressError:
        refused += 1
        continue
    held += 1
    try:
        os.close(os.open(inside, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        overlaps += 1
    else:
        time.sleep(0.001)
        os.unlink(inside)
    if dead and held % 2:
        Path(lock_path + f".dead.{os.getpid()}").write_text(dead)
        os.replace(lock_path + f".dead.{os.getpid()}", lock_path)
        lock._record = lock._held = None
    else:
        lock.release()
print(json.dumps({"held": held, "overlaps": overlaps, "refused": refused}))
"""


def race(
    module: Path, lock: Path, folder: Path, processes: int, rounds: int, dead: str = ""
) -> list[dict]:
    """Start the workers, let them go at once, return what each one saw."""
    folder.mkdir(parents=True, exist_ok=True)
    arguments = [str(module), str(lock), str(folder), str(rounds), dead]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", STRESS_WORKER, *arguments],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    deadline = time.monotonic() + 60
    while len(list(folder.glob("ready.*"))) < processes and time.monotonic() < deadline:
        time.sleep(0.01)
    (folder / "go").touch()
    outputs = [worker.communicate(timeout=90)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    return [json.loads(output.strip().splitlines()[-1]) for output in outputs]


def test_two_processes_never_hold_the_lock_at_once(tmp_path: Path):
    started = time.monotonic()
    seen = race(RUN_GUARD, tmp_path / ".run.lock", tmp_path / "stress", processes=2, rounds=400)
    assert [s["overlaps"] for s in seen] == [0, 0], seen
    assert all(s["held"] == 400 for s in seen), seen
    assert sum(s["refused"] for s in seen) > 0, f"the processes never contended: {seen}"
    assert not (tmp_path / ".run.lock").exists()
    assert time.monotonic() - started < 30


def dead_identity() -> dict[str, str]:
    """The identity of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = run_guard.process_identity(child.pid)
    child.wait()
    return identity


def test_dead_owners_locks_are_taken_over_by_one_process_at_a_time(tmp_path: Path):
    """Every other hold ends with the owner "dying": both processes then find the same dead
    lock and race to take it over (deleting it without the takeover lock gives overlaps)."""
    dead = json.dumps({**dead_identity(), "token": "dead", "env": "stress", "pipeline": "loan"})
    seen = race(RUN_GUARD, tmp_path / ".run.lock", tmp_path / "stress", 2, 200, dead)
    assert [s["overlaps"] for s in seen] == [0, 0], seen
    assert all(s["held"] == 200 for s in seen), seen


def test_the_lock_is_created_whole_and_released_only_by_its_owner(tmp_path: Path):
    lock = RunLock(tmp_path / ".run.lock")
    lock.acquire({"env": "local", "pipeline": "loan"})
    record = lock.read()
    assert record is not None and record["pid"] == str(os.getpid()) and record["token"]
    assert list(tmp_path.iterdir()) == [lock.path], "no temporary file is left behind"

    lock.annotate(mlflow_run_id="abc")
    assert lock.read() == {**record, "mlflow_run_id": "abc"}

    # Another process took the lock meanwhile (say, it judged this one dead): hands off.
    other = {**record, "pid": "1", "token": "other"}
    lock.path.write_text(json.dumps(other))
    lock.annotate(mlflow_run_id="def")
    lock.release()
    assert json.loads(lock.path.read_text()) == other


def test_an_unreadable_lock_is_held_never_deleted(tmp_path: Path):
    path = tmp_path / ".run.lock"
    path.write_text("")  # e.g. an older version's lock caught between its create and write
    started = time.monotonic()
    with pytest.raises(RunInProgressError, match="cannot be read") as refused:
        RunLock(path).acquire({"env": "local", "pipeline": "loan"})
    assert 0.8 < time.monotonic() - started < 3, "re-read for about a second"
    assert str(path) in str(refused.value) and "delete that file" in str(refused.value)
    assert path.exists() and path.read_text() == ""


def test_a_lock_being_written_is_waited_for_then_judged_by_its_owner(tmp_path: Path):
    """An older version's lock, empty for a moment, then holding a live process's record."""
    path = tmp_path / ".run.lock"
    path.write_text("")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        writer = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import json, sys, time; time.sleep(0.4); "
                "open(sys.argv[1], 'w').write(json.dumps(json.loads(sys.argv[2])))",
                str(path),
                json.dumps({**run_guard.process_identity(sleeper.pid), "env": "local"}),
            ]
        )
        with pytest.raises(RunInProgressError, match=f"pid {sleeper.pid}"):
            RunLock(path).acquire({"env": "local", "pipeline": "loan"})
        writer.wait(timeout=10)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert run_guard.is_alive(json.loads(path.read_text())) is False
    lock = RunLock(path)
    lock.acquire({"env": "local", "pipeline": "loan"})  # its owner is gone now: taken over
    assert lock.read()["pid"] == str(os.getpid())
    lock.release()
    assert not path.exists()


# Kedro's order around a run (KedroSession.run), with our hook and kedro-mlflow's part inlined.
SIGTERM_WORKER = """
import json, sys, time
from pathlib import Path
from types import SimpleNamespace
import mlflow
from loan_default.hooks import RunGuardHook
from loan_default.run_guard import RunLock

uri, lock_path = sys.argv[1:3]
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("sigterm")
hook = RunGuardHook()
hook.lock = RunLock(Path(lock_path))
training = SimpleNamespace(nodes=[SimpleNamespace(tags={"train"})])
around = hook.before_pipeline_run({"env": "local", "pipeline_names": ["loan"]}, training)
next(around)  # our wrapper: the lock is taken, SIGTERM watched
parent = mlflow.start_run()  # kedro-mlflow's before_pipeline_run
next(around, None)
try:  # the runner: a node with a nested run and a child run made through the client
    nested = mlflow.start_run(nested=True)
    child = mlflow.MlflowClient().create_run(
        parent.info.experiment_id, tags={"mlflow.parentRunId": nested.info.run_id}
    )
    print(json.dumps([parent.info.run_id, nested.info.run_id, child.info.run_id]), flush=True)
    time.sleep(60)
except Exception as error:
    while mlflow.active_run():  # kedro-mlflow's on_pipeline_error
        mlflow.end_run("FAILED")
    hook.on_pipeline_error(error)  # ours, trylast
    raise
"""


def test_sigterm_closes_the_runs_as_killed_and_releases_the_lock(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    lock = tmp_path / "data" / ".run.lock"
    worker = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_WORKER, uri, str(lock)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )
    try:
        run_ids = json.loads(worker.stdout.readline())
        assert lock.exists()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == -signal.SIGTERM, "exit status 143 in a shell"
    finally:
        worker.kill()
    client = mlflow.MlflowClient(uri)
    for run_id in run_ids:
        run = client.get_run(run_id)
        assert run.info.status == "KILLED", run_id
        assert "SIGTERM received" in run.data.tags["killed_reason"]
    assert not lock.exists()


def test_the_sigterm_handler_is_restored_after_the_run():
    before = signal.getsignal(signal.SIGTERM)
    watch = run_guard.SigtermWatch()
    watch.start()
    assert signal.getsignal(signal.SIGTERM) is not before
    watch.stop()
    assert signal.getsignal(signal.SIGTERM) == before and watch.received is None


@contextlib.contextmanager
def unwritable(*paths: Path) -> Iterator[None]:
    """Make files and folders unwritable, for root too when the file system allows it
    (immutable attribute: root bypasses permission bits), else by permission bits."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        done = chattr and subprocess.run([chattr, "+i", *paths], check=False).returncode == 0
        if not done:
            if chattr:
                subprocess.run([chattr, "-i", *paths], check=False, capture_output=True)
            pytest.skip("running as root where files cannot be made immutable (chattr +i)")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", *paths], check=True)
    else:
        modes = {path: path.stat().st_mode for path in paths}
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)


def sqlite_store(folder: Path) -> Path:
    """A SQLite file standing for an existing tracking store (the check never reads it)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mlflow.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE experiments (name TEXT)")
        connection.commit()
    return path


def test_an_unwritable_sqlite_store_fails_in_plain_words(tmp_path: Path):
    path = sqlite_store(tmp_path / "store")
    uri = f"sqlite:///{path}"
    run_guard.check_tracking_store(uri)  # writable: passes, and leaves the store as it was
    with unwritable(path, path.parent):
        started = time.monotonic()
        with pytest.raises(TrackingStoreError, match="readonly database") as failed:
            run_guard.check_tracking_store(uri)
        with pytest.raises(TrackingStoreError, match="cannot be created"):
            run_guard.check_tracking_store(f"sqlite:///{path.parent / 'new.db'}")
    assert time.monotonic() - started < 2
    message = str(failed.value)
    assert uri in message and "MLFLOW_TRACKING_URI" in message and "writable" in message
    assert "server.mlflow_tracking_uri in conf/base/mlflow.yml" in message
    with contextlib.closing(sqlite3.connect(path)) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("experiments",)]


def test_a_store_in_a_missing_folder_fails_in_plain_words(tmp_path: Path):
    with pytest.raises(TrackingStoreError, match="folder that does not exist.*MLFLOW_TRACKING"):
        run_guard.check_tracking_store(f"sqlite:///{tmp_path / 'nowhere' / 'mlflow.db'}")


@contextlib.contextmanager
def http_server(status: int, body: bytes) -> Iterator[str]:
    """A local HTTP server answering every GET with `status` and `body`; yields its URL."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_passes_when_it_answers_as_mlflow():
    with http_server(200, b'{"experiments": []}') as uri:
        run_guard.check_tracking_store(uri)
    with http_server(401, b"") as uri:  # credentials are exported later by kedro-mlflow
        run_guard.check_tracking_store(uri)
    with (
        http_server(404, b"<html>Not Found</html>") as uri,
        pytest.raises(TrackingStoreError, match="is not an MLflow server.*HTTP 404"),
    ):
        run_guard.check_tracking_store(uri)
    with (
        http_server(503, b"") as uri,
        pytest.raises(TrackingStoreError, match="answers with a server error.*MLFLOW_TRACKING_URI"),
    ):
        run_guard.check_tracking_store(uri)


def test_an_unreachable_server_fails_in_plain_words():
    started = time.monotonic()
    with pytest.raises(TrackingStoreError, match="cannot be reached") as failed:
        run_guard.check_tracking_store("http://127.0.0.1:9")
    assert time.monotonic() - started < 5
    assert "MLFLOW_TRACKING_URI" in str(failed.value) and "http://127.0.0.1:9" in str(failed.value)
