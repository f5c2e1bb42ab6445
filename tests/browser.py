"""Open pages in Debian's headless Chromium (driven by Playwright) and keep a screenshot."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / ".ci" / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port nobody listens on, below 49152 (kedro viz refuses ephemeral-range ports)."""
    for port in random.Random().sample(range(20_000, 49_000), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port between 20000 and 49000")


def start_server(command: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """Start a server whose output goes to `log` (a pipe nobody reads would block it), in a
    process group of its own so that `stop_server` ends the workers it spawns too."""
    handle = log.open("w")
    return subprocess.Popen(
        command, stdout=handle, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        **kwargs,
    )  # fmt: skip


def stop_server(process: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a server started by `start_server` and every process of its group (kedro viz and
    mlflow spawn their workers, which outlived a plain terminate())."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers that ignored SIGTERM


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    """Wait until `url` answers 200, failing early if the server process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see its log file")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def post_json(url: str, payload: dict) -> dict:
    """POST a JSON body and decode the JSON answer."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def render_page(
    url: str,
    expected_texts: Iterable[str],
    screenshot_name: str,
    local_storage: dict[str, str] | None = None,
    timeout_ms: int = 60_000,
) -> str:
    """Open `url`, wait until every expected text is on the page, save a screenshot.

    Returns the page's visible text. Raises if a text never appears.
    """
    return inspect_page(url, expected_texts, screenshot_name, local_storage, timeout_ms)[0]


def inspect_page(
    url: str,
    expected_texts: Iterable[str],
    screenshot_name: str,
    local_storage: dict[str, str] | None = None,
    timeout_ms: int = 60_000,
    script: str = "null",
    width: int = 1440,
) -> tuple[str, object]:
    """Like `render_page`, and also returns what the JavaScript expression `script` evaluates to."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            if local_storage:
                setup = "".join(
                    f"window.localStorage.setItem({json.dumps(key)}, {json.dumps(value)});"
                    for key, value in local_storage.items()
                )
                page.add_init_script(setup)
            page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
            for text in expected_texts:
                page.get_by_text(text, exact=False).first.wait_for(
                    state="attached", timeout=timeout_ms
                )
            page.wait_for_timeout(500)
            page.screenshot(path=str(SCREENSHOTS / f"{screenshot_name}.png"), full_page=True)
            return page.inner_text("body"), page.evaluate(script)
        finally:
            browser.close()
