"""The run's trace: everything at debug level to a file, secrets masked, library records
kept off the terminal."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from hvbridge import trace


def test_the_trace_masks_every_secret_in_messages_and_tracebacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HVBRIDGE_SSH_PASSWORD", "env-pw-123")
    path = tmp_path / "trace.log"
    with trace.tracing(path, ["inv-pw-456", None]):
        logging.getLogger("hvbridge.ssh").debug("sudo with inv-pw-456 and %s", "env-pw-123")
        try:
            raise ValueError("leaked inv-pw-456")
        except ValueError:
            logging.getLogger("nornir.core.task").exception("task failed")
    text = path.read_text()
    assert "sudo with ******** and ********" in text
    assert "ValueError: leaked ********" in text and "Traceback" in text
    assert "inv-pw-456" not in text and "env-pw-123" not in text


def test_library_records_go_to_the_trace_never_to_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    trace.keep_libraries_off_the_terminal()
    library = logging.getLogger("paramiko.transport")
    library.warning("outside any run")
    path = tmp_path / "trace.log"
    with trace.tracing(path):
        library.info("Connected (version 2.0, client OpenSSH_9.2p1)")
        library.warning("refused channel")
    assert capfd.readouterr().err == ""
    text = path.read_text()
    assert "paramiko.transport: Connected (version 2.0" in text
    assert "refused channel" in text and "outside any run" not in text


def test_debug_shows_the_trace_on_stderr_and_levels_come_back(tmp_path: Path) -> None:
    engine = logging.getLogger("hvbridge")
    before = (engine.level, logging.getLogger("paramiko").level)
    stream = io.StringIO()
    with trace.to_stderr(stream), trace.tracing(tmp_path / "trace.log", ["pw-789"]):
        logging.getLogger("hvbridge.ssh").debug("hv01: run rc=0 in 0.003s: echo pw-789")
    assert "hvbridge.ssh: hv01: run rc=0 in 0.003s: echo ********" in stream.getvalue()
    assert (engine.level, logging.getLogger("paramiko").level) == before
    logging.getLogger("hvbridge.ssh").debug("after the run")
    assert "after the run" not in stream.getvalue()
