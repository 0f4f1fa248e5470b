"""report.html in a real browser: Debian's headless Chromium, driven over the DevTools
protocol on a pipe (`--remote-debugging-pipe`), so no socket is opened, not even on
loopback, and nothing beyond the standard library is needed.

No lab is built: the report comes from a hand-built outcome. The test lives here
because it needs a Debian package (chromium), and fails, never skips, without it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hvbridge.report import ReportPaths, write_reports
from tests.unit.test_report import STARTED, TEMPLATES, sample_outcome

pytestmark = pytest.mark.lab

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "artifacts"
WIDTH, HEIGHT = 1280, 900  # a laptop screen
TIMEOUT = 60.0


class DevToolsError(RuntimeError):
    pass


class Browser:
    """Chromium's DevTools protocol over its pipe: JSON messages ended by a NUL byte,
    read by the browser on fd 3 and written on fd 4."""

    def __init__(self, chromium: str, profile: Path, log: Path) -> None:
        browser_reads, self.writer = os.pipe()
        self.reader, browser_writes = os.pipe()
        # Moved out of the way of 3 and 4, so that placing one end cannot close the other.
        ends = [
            fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (browser_reads, browser_writes)
        ]
        os.close(browser_reads)
        os.close(browser_writes)

        def place_pipe_ends() -> None:
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [
                    chromium,
                    "--headless",
                    "--no-sandbox",  # root, and no user namespace for the sandbox here
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--no-default-browser-check",
                    f"--user-data-dir={profile}",
                    "--remote-debugging-pipe",
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                # Python's own descriptors are close-on-exec; only 3 and 4 are passed on.
                close_fds=False,
                preexec_fn=place_pipe_ends,
            )
        for fd in ends:
            os.close(fd)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self.writer, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise DevToolsError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            self.events.append(self._receive())

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.reader], [], [], left)[0]:
                raise DevToolsError(f"no message from chromium in {TIMEOUT:.0f}s")
            chunk = os.read(self.reader, 1 << 16)
            if not chunk:
                raise DevToolsError(f"chromium closed its pipe (exit {self.process.poll()})")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def close(self) -> None:
        with contextlib.suppress(DevToolsError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.writer)
        os.close(self.reader)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    outcome, planned = sample_outcome()
    return write_reports(
        outcome,
        tmp_path_factory.mktemp("reports"),
        inventory="inventory/seed",
        templates=TEMPLATES,
        planned_steps=planned,
        started=STARTED,
    )


@contextlib.contextmanager
def running_browser(work: Path) -> Iterator[Browser]:
    """Called from the test itself, not a fixture: a missing chromium is a failed test."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is missing: apt-get install -y chromium")
    browser = Browser(chromium, work / "profile", work / "chromium.log")
    try:
        yield browser
    finally:
        browser.close()


def problems(events: list[dict[str, Any]], session: str) -> list[str]:
    """Console errors and warnings, uncaught exceptions, and browser log errors."""
    found = []
    for event in events:
        if event.get("sessionId") != session:
            continue
        params = event.get("params", {})
        match event.get("method"):
            case "Runtime.consoleAPICalled" if params["type"] in ("error", "assert", "warning"):
                args = " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                found.append(f"console.{params['type']}: {args}")
            case "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                thrown = details.get("exception", {}).get("description", "")
                found.append(f"{details.get('text')} {thrown}".strip())
            case "Log.entryAdded" if params["entry"]["level"] in ("error", "warning"):
                entry = params["entry"]
                found.append(f"{entry['source']} {entry['level']}: {entry['text']}")
    return found


def test_report_html_loads_cleanly_with_a_row_per_host(report: ReportPaths, tmp_path: Path) -> None:
    with running_browser(tmp_path) as browser:
        check_report(browser, report)


def check_report(browser: Browser, report: ReportPaths) -> None:
    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Runtime", "Log", "Page", "Network"):
        browser.send(f"{domain}.enable", session)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        session,
        width=WIDTH,
        height=HEIGHT,
        deviceScaleFactor=1,
        mobile=False,
    )
    url = report.html.as_uri()
    navigated = browser.send("Page.navigate", session, url=url)
    assert "errorText" not in navigated, navigated
    browser.wait_for("Page.loadEventFired", session)

    def evaluate(expression: str) -> Any:
        reply = browser.send("Runtime.evaluate", session, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in reply, reply
        return reply["result"]["value"]

    assert evaluate("document.title") == "hvbridge run 20250101T120000-abc123"
    assert evaluate("document.querySelectorAll('table.status tr[data-host]').length") == 4
    assert evaluate(
        "[...document.querySelectorAll('table.status tr[data-host]')]"
        ".map(tr => tr.dataset.host + ' ' + tr.className)"
    ) == ["hv01 status-changed", "hv02 status-rolled-back", "hv03 status-failed", "hv04 status-ok"]
    # The page fits the laptop's width: only diffs may scroll sideways, inside their box.
    assert evaluate("document.documentElement.scrollWidth") <= WIDTH

    ARTIFACTS.mkdir(exist_ok=True)
    shot = browser.send("Page.captureScreenshot", session, format="png")
    (ARTIFACTS / "report.png").write_bytes(base64.b64decode(shot["data"]))
    size = browser.send("Page.getLayoutMetrics", session)["cssContentSize"]
    full = browser.send(
        "Page.captureScreenshot",
        session,
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": WIDTH, "height": size["height"], "scale": 1},
    )
    (ARTIFACTS / "report-full.png").write_bytes(base64.b64decode(full["data"]))

    requested = [
        event["params"]["request"]["url"]
        for event in browser.events
        if event.get("method") == "Network.requestWillBeSent" and event.get("sessionId") == session
    ]
    assert requested == [url], "the report loads nothing but itself"
    assert problems(browser.events, session) == []
