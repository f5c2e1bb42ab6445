"""One training run at a time per environment, MLflow runs of dead processes closed, and a
tracking store checked before anything runs.

The run lock (`RunLock`) is a file in the environment's data folder holding one JSON record: pid,
host, kernel start time, a random token, the pipeline and later the MLflow run. It guarantees:

- **Created whole.** The record is written to a temporary file in the same folder, then
  hard-linked to the lock's name (`os.link` is atomic and fails when the name exists). No reader
  ever sees an empty or half-written lock made by this code.
- **Stale only when its owner is dead.** A lock whose process is alive (or runs on another
  host) refuses the run with `RunInProgressError`. A lock that cannot be read (an older version
  wrote it in two steps, or someone edited it) is re-read for about a second and then treated
  as held: it is never deleted automatically; the message says to delete it if nothing runs.
- **Taken over by one process only.** See `RunLock._take_over`.
- **Released and annotated only by its owner.** `release()` and `annotate()` first check that
  the file still holds this process's record (pid, start time and token).

A SIGTERM during a run closes its MLflow runs as KILLED and releases the lock (`SigtermWatch`,
`close_killed_runs`), then ends the process with the signal's usual status (143);
runs left RUNNING by a process killed harder (kill -9, power loss) are marked KILLED by the
next run of the environment (`close_dead_runs`), which recognises them by the same process
identity, kept as tags.

`check_tracking_store` fails in seconds, naming MLFLOW_TRACKING_URI, when the MLflow store
cannot be written or reached, before any lock is taken or output written.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import signal
import socket
import sqlite3
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import mlflow

logger = logging.getLogger(__name__)

PID_TAG, HOST_TAG, START_TAG = "process.pid", "process.host", "process.start_ticks"
UNREADABLE_READS, UNREADABLE_PAUSE = 5, 0.25  # an unreadable lock is re-read for ~1 s
STORE_TIMEOUT = 3.0  # seconds for the tracking store's preflight (server answer, SQLite lock)


class RunInProgressError(RuntimeError):
    """Another run of the same environment holds the lock."""


class TrackingStoreError(RuntimeError):
    """The MLflow tracking store cannot be written or reached."""


def process_identity(pid: int | None = None) -> dict[str, str]:
    """pid, host and kernel start time of a process (start time tells a reused pid apart)."""
    pid = os.getpid() if pid is None else pid
    return {"pid": str(pid), "host": socket.gethostname(), "start_ticks": _start_ticks(pid) or ""}


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after the command name


def _start_ticks(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[19] if fields else None


def is_alive(identity: dict[str, str]) -> bool:
    """Whether the process is still running. Another host's process is assumed alive."""
    if identity.get("host") != socket.gethostname():
        return True
    try:
        pid = int(identity["pid"])
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (KeyError, ValueError):
        return False
    except PermissionError:
        pass
    fields = _proc_stat(pid)
    if fields is None:  # Linux: it exited meanwhile; without /proc, trust os.kill
        return not Path("/proc/self").exists()
    if fields[0] in {"Z", "X"}:  # zombie: exited, not yet reaped by its parent
        return False
    started = identity.get("start_ticks")
    return not started or started == fields[19]


def _parse(text: str) -> dict[str, str] | None:
    """A lock record, or None for anything that is not one (empty, cut short, no pid)."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "pid" in record else None


class RunLock:
    """An exclusive lock file for one environment's runs (guarantees: see the module)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._record: dict[str, str] | None = None  # what this process wrote, while it holds it

    @property
    def held(self) -> bool:
        return self._record is not None

    def acquire(self, details: dict[str, Any]) -> None:
        """Create the lock, take over a dead process's lock, or raise RunInProgressError."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            **process_identity(),
            "token": secrets.token_hex(8),
            "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            **{key: str(value) for key, value in details.items()},
        }
        temp = self._write_temp(record)
        try:
            for _ in range(5):
                try:
                    os.link(temp, self.path)
                except FileExistsError:
                    holder = self._read_settled()
                    if holder is None:  # released meanwhile: try again
                        continue
                    if self._owner_alive(holder):
                        raise RunInProgressError(self._busy_message(holder)) from None
                    self._take_over(holder)
                    continue
                self._record = record
                return
        finally:
            temp.unlink(missing_ok=True)
        raise RunInProgressError(f"Could not take the run lock {self.path}; try again.")

    def annotate(self, **details: str) -> None:
        """Add details (e.g. the MLflow run id) to the lock, if this process still holds it."""
        if self._record is None or not self._is_own(self.read()):
            return
        updated = {**self._record, **details}
        os.replace(self._write_temp(updated), self.path)  # readers see the old or the new record
        self._record = updated

    def release(self) -> None:
        """Remove the lock if it still holds this process's record; never another's lock."""
        if self._record is None:
            return
        if self._is_own(self.read()):
            self.path.unlink(missing_ok=True)
        else:
            logger.warning("The run lock %s is no longer this run's: left in place.", self.path)
        self._record = None

    def read(self) -> dict[str, str] | None:
        """The lock's record, or None when it is missing or unreadable."""
        try:
            return _parse(self.path.read_text())
        except OSError:
            return None

    def _is_own(self, record: dict[str, str] | None) -> bool:
        mine = self._record
        keys = ("pid", "start_ticks", "token")
        return bool(record and mine) and all(record.get(k) == mine.get(k) for k in keys)

    def _write_temp(self, record: dict[str, str]) -> Path:
        """The record in a new file next to the lock (not fsynced: a lock emptied by a power cut
        is unreadable, so held until deleted by hand, never taken for a free one)."""
        descriptor, name = tempfile.mkstemp(
            prefix=f"{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        with os.fdopen(descriptor, "w") as handle:
            os.fchmod(descriptor, 0o644)
            json.dump(record, handle)
        return Path(name)

    def _read_settled(self) -> dict[str, str] | None:
        """The holder's record; None if the lock is gone. Unreadable for ~1 s: held."""
        for attempt in range(UNREADABLE_READS):
            try:
                record = _parse(self.path.read_text())
            except FileNotFoundError:
                return None
            except OSError:
                record = None
            if record is not None:
                return record
            if attempt + 1 < UNREADABLE_READS:
                time.sleep(UNREADABLE_PAUSE)
        raise RunInProgressError(
            f"The run lock {self.path} cannot be read (empty or not a lock record), so another "
            "run may be in progress (an older version of this project writes its lock in two "
            "steps). If no run of this environment is in progress, delete that file and run again."
        )

    @staticmethod
    def _owner_alive(holder: dict[str, str]) -> bool:
        """Whether the holder still runs. This very process cannot be running another session:
        a lock of its own is left over from a session that failed before releasing it."""
        me = process_identity()
        own = holder.get("pid") == me["pid"] and holder.get("start_ticks") == me["start_ticks"]
        return not own and is_alive(holder)

    def _take_over(self, dead: dict[str, str]) -> None:
        """Delete the lock of a dead owner, so that exactly one waiting process may link its own.

        Unlinking the path straight away would race: A and B both read the dead record, A
        deletes it and links its own lock, then B deletes A's live lock. Renaming it away first
        has the same hole (B renames A's lock, finds it is not the dead one, and while B puts it
        back a third process can link the free name). So deleting a lock happens under a second,
        short lock: an exclusive `flock` on `<lock>.takeover` (kept beside the lock, never
        deleted, released by the kernel even if its holder dies). Under it the record is read
        again and deleted only if it is still the dead record judged above; since the dead owner
        cannot release it and nobody else deletes locks outside this section, it cannot have
        been replaced meanwhile. Afterwards the waiting processes race on `os.link` as usual,
        and exactly one wins.
        """
        guard = self.path.with_name(f"{self.path.name}.takeover")
        with guard.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
            if self.read() == dead:
                logger.warning(
                    "Taking over the lock %s left by a process that no longer runs: %s",
                    self.path,
                    dead,
                )
                self.path.unlink()

    def _busy_message(self, holder: dict[str, str]) -> str:
        run = holder.get("mlflow_run_id")
        return (
            f"Another run of environment '{holder.get('env')}' is in progress: "
            f"`kedro run --pipeline {holder.get('pipeline')}`, pid {holder.get('pid')} on "
            f"{holder.get('host')}, started {holder.get('started_at')}"
            + (f", MLflow run {run}" if run else "")
            + f". Runs of one environment share its data folder, so they run one at a time; "
            f"wait for it to finish or stop it (lock file: {self.path})."
        )


def close_dead_runs(experiment_id: str, client: mlflow.MlflowClient | None = None) -> list[str]:
    """Mark KILLED the RUNNING runs whose process no longer exists (and their child runs)."""
    import mlflow  # noqa: PLC0415 (imported when used: `kedro` starts without MLflow)

    client = client or mlflow.MlflowClient()
    running = client.search_runs([experiment_id], "attributes.status = 'RUNNING'")
    dead = {
        run.info.run_id
        for run in running
        if PID_TAG in run.data.tags
        and not is_alive(
            {
                "pid": run.data.tags[PID_TAG],
                "host": run.data.tags.get(HOST_TAG, ""),
                "start_ticks": run.data.tags.get(START_TAG, ""),
            }
        )
    }
    dead |= {run.info.run_id for run in running if run.data.tags.get("mlflow.parentRunId") in dead}
    for run_id in sorted(dead):
        tags = client.get_run(run_id).data.tags
        reason = (
            f"closed by a later run: process {tags.get(PID_TAG, '(its parent run)')} on "
            f"{tags.get(HOST_TAG, 'this host')} no longer exists (killed or crashed)"
        )
        _mark_killed(client, run_id, reason)
        logger.warning("MLflow run %s was left RUNNING by a dead process: marked KILLED", run_id)
    return sorted(dead)


def _mark_killed(client: Any, run_id: str, reason: str) -> None:
    """Close one MLflow run as KILLED, saying why in its `killed_reason` tag."""
    client.set_tag(run_id, "killed_reason", reason)
    client.set_terminated(run_id, "KILLED")


class RunTerminated(RuntimeError):
    """Raised in the main thread by the SIGTERM handler of `SigtermWatch`, so that whatever the
    run was doing unwinds (an MLflow write in progress is rolled back) before it is closed."""

    def __init__(self, run_id: str | None, previous: Any) -> None:
        super().__init__("SIGTERM received: the run was stopped")
        self.run_id = run_id  # the MLflow run active when the signal came
        self.previous = previous  # the SIGTERM handler before this run's

    def pass_on(self) -> None:
        """Let SIGTERM do what it would have done without this run: call the handler that was
        there, or end the process as the signal's default action does (exit status 143)."""
        if callable(self.previous):
            self.previous(signal.SIGTERM, None)
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


class SigtermWatch:
    """While started, SIGTERM raises RunTerminated in the main thread and is remembered in
    `received` (libraries may wrap the exception, e.g. in an MlflowException).

    The handler only raises: closing MLflow runs inside it would wait forever on the SQLite
    write lock that the interrupted code may hold. The hooks close the runs once it has unwound.
    A second SIGTERM gets the previous handler at once. Only the main thread can set handlers;
    elsewhere, and when SIGTERM is ignored, nothing changes. A forked child process that
    inherits the handler gets the previous behaviour.
    """

    def __init__(self) -> None:
        self.received: RunTerminated | None = None
        self._handler: Callable[[int, Any], None] | None = None
        self._previous: Any = signal.SIG_DFL

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        previous = signal.SIG_DFL if previous is None else previous  # None: set outside Python
        if previous == signal.SIG_IGN:
            return
        owner = os.getpid()
        import mlflow  # noqa: PLC0415 (here, not in the handler: no import inside a signal)

        def handle(signum: int, frame: Any) -> None:
            signal.signal(signal.SIGTERM, previous)
            active = mlflow.active_run()  # no store access: it is kept in memory
            terminated = RunTerminated(active.info.run_id if active else None, previous)
            if os.getpid() != owner:
                terminated.pass_on()
                return
            self.received = terminated
            raise terminated

        self._previous, self._handler = previous, handle
        signal.signal(signal.SIGTERM, handle)

    def stop(self) -> None:
        """Put the previous handler back (if this one is still in place)."""
        if self._handler is not None and signal.getsignal(signal.SIGTERM) is self._handler:
            signal.signal(signal.SIGTERM, self._previous)
        self._handler = None


def close_killed_runs(run_id: str | None, reason: str) -> list[str]:
    """Close as KILLED, tagged `killed_reason`: this process's MLflow runs still open, the run
    that was active at the signal with its parent runs (kedro-mlflow may already have closed
    them as FAILED), and their child runs still RUNNING."""
    import mlflow  # noqa: PLC0415 (imported when used: `kedro` starts without MLflow)

    client = mlflow.MlflowClient()
    while mlflow.active_run() is not None:
        run_id = run_id or mlflow.active_run().info.run_id
        mlflow.end_run("KILLED")
    chain: list[str] = []
    while run_id and run_id not in chain:
        chain.append(run_id)
        run_id = client.get_run(run_id).data.tags.get("mlflow.parentRunId")
    killed = list(chain)
    for parent in chain:
        experiment = client.get_run(parent).info.experiment_id
        children = client.search_runs(
            [experiment], f"tags.mlflow.parentRunId = '{parent}' and attributes.status = 'RUNNING'"
        )
        killed += [child.info.run_id for child in children if child.info.run_id not in killed]
    for killed_id in killed:
        _mark_killed(client, killed_id, reason)
    return killed


# --- the tracking store, checked before anything runs ---------------------------------------

_WHERE = (
    "The store is set by the environment variable MLFLOW_TRACKING_URI, or else by "
    "server.mlflow_tracking_uri in conf/base/mlflow.yml (default sqlite:///mlflow.db in the "
    "folder the run starts from)."
)


def check_tracking_store(uri: str) -> None:
    """Raise TrackingStoreError, within seconds, when MLflow could not record a run at `uri`:
    a SQLite store that cannot be written, or an http(s) server that does not answer.
    Other kinds of store (databricks, file) are left to MLflow."""
    if uri.startswith("sqlite:"):
        _check_sqlite(uri)
    elif uri.startswith(("http://", "https://")):
        _check_server(uri)


def _store_error(uri: str, problem: str, fix: str) -> TrackingStoreError:
    return TrackingStoreError(
        f"The MLflow tracking store {uri} {problem}, so this run could not be recorded; nothing "
        f"was run. {fix} {_WHERE}"
    )


def _check_sqlite(uri: str) -> None:
    from sqlalchemy.engine import make_url  # noqa: PLC0415 (imported when used)

    url = make_url(uri)
    database = url.database
    if not database or database == ":memory:":
        return
    as_uri = str(url.query.get("uri", "")).lower() == "true"
    path = None if as_uri else Path(database).absolute()
    fix = (
        f"Make {path or database} and its folder writable for this user, or point "
        "MLFLOW_TRACKING_URI at a writable SQLite file or a reachable MLflow server."
    )
    if path is not None and not path.exists():
        folder = path.parent
        if not folder.is_dir():
            raise _store_error(uri, f"is in a folder that does not exist ({folder})", fix)
        try:  # os.access is no proof for root: create a file for real
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as error:
            raise _store_error(uri, f"cannot be created in {folder} ({error})", fix) from None
        return
    try:  # a real write, rolled back: it needs the file and a journal next to it
        connection = sqlite3.connect(
            database, uri=as_uri, timeout=STORE_TIMEOUT, isolation_level=None
        )
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("CREATE TABLE loan_default_preflight (x INTEGER)")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise _store_error(
            uri, f"cannot be written ({type(error).__name__}: {error})", fix
        ) from None


def _check_server(uri: str) -> None:
    fix = (
        "Start the server, check the address and the network, or point MLFLOW_TRACKING_URI at "
        "a reachable MLflow server or a local SQLite file (e.g. sqlite:///mlflow.db)."
    )
    path = "/api/2.0/mlflow/experiments/search"
    try:
        with urllib.request.urlopen(
            f"{uri.rstrip('/')}{path}?max_results=1", timeout=STORE_TIMEOUT
        ):
            return
    except urllib.error.HTTPError as error:
        # Credentials are set later (kedro-mlflow exports credentials.yml); MLflow's own
        # refusals carry an error_code. Anything else is not an MLflow server at this address.
        if error.code in {401, 403} or (error.code < 500 and b"error_code" in error.read(4096)):
            return
        kind = "answers with a server error" if error.code >= 500 else "is not an MLflow server"
        problem = f"{kind} (HTTP {error.code} {error.reason} for {path})"
    except urllib.error.URLError as error:
        if isinstance(error.reason, ssl.SSLError):  # it answers; MLflow has its own TLS settings
            return
        problem = f"cannot be reached ({error.reason})"
    except (TimeoutError, OSError) as error:
        problem = f"cannot be reached ({error or type(error).__name__})"
    raise _store_error(uri, problem, fix)
