"""One training run at a time per environment, and MLflow runs of dead processes closed.

A run takes a lock file in its environment's data folder (pid, host, start time, MLflow run).
A second run stops at once and names the run in progress; a lock left by a process that no
longer exists (killed, machine rebooted) is taken over with a warning. MLflow runs carry the
same process identity as tags, so runs left RUNNING by a dead process can be marked KILLED.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

import mlflow

logger = logging.getLogger(__name__)

PID_TAG, HOST_TAG, START_TAG = "process.pid", "process.host", "process.start_ticks"


class RunInProgressError(RuntimeError):
    """Another run of the same environment holds the lock."""


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


class RunLock:
    """An exclusive lock file for one environment's runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held = False

    def acquire(self, details: dict[str, Any]) -> None:
        """Create the lock, take over a dead process's lock, or raise RunInProgressError."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            **process_identity(),
            "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            **details,
        }
        for _ in range(3):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.read()
                # This very process cannot be running another session: a lock of its own is
                # left over from a session that failed before it could release it.
                own = holder is not None and holder.get("pid") == str(os.getpid())
                if holder is not None and not own and is_alive(holder):
                    raise RunInProgressError(self._busy_message(holder)) from None
                logger.warning(
                    "Taking over the lock %s left by a process that no longer runs: %s",
                    self.path,
                    holder,
                )
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as handle:
                json.dump(record, handle)
            self._held = True
            return
        raise RunInProgressError(f"Could not take the run lock {self.path}; try again.")

    def annotate(self, **details: str) -> None:
        """Add details (e.g. the MLflow run id) to a lock this process holds."""
        if self._held:
            record = self.read() or {}
            self.path.write_text(json.dumps({**record, **details}))

    def release(self) -> None:
        """Remove the lock if this process holds it."""
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False

    def read(self) -> dict[str, str] | None:
        """The lock's record, or None when it is missing or unreadable (a half-written lock)."""
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

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
        client.set_tag(run_id, "killed_reason", reason)
        client.set_terminated(run_id, "KILLED")
        logger.warning("MLflow run %s was left RUNNING by a dead process: marked KILLED", run_id)
    return sorted(dead)
