"""state.json's writes at fleet scale: the same document as before, and threads whose
changes arrive during a write share the next one, each returning with its change on disk."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from hvbridge import rundir
from hvbridge.rundir import HostState, RunState, StateWriter


def fleet(count: int) -> RunState:
    return RunState(
        "20260101T000000-aaaaaa", "/p/runbooks/b.yaml", "/p/inventory", False,
        {f"hv{i:03d}": HostState(None) for i in range(count)}, retrying="20251231T000000-bbbbbb",
    )  # fmt: skip


def test_the_file_holds_what_the_state_holds(tmp_path: Path) -> None:
    state = fleet(3)
    state.hosts["hv001"] = HostState("changed", "verify bridges")
    path = rundir.save(tmp_path, state)
    assert json.loads(path.read_text()) == asdict(state)
    assert rundir.load(path) == state


def test_changes_made_during_a_write_share_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = StateWriter(tmp_path, fleet(4))
    assert writer.writes == 1
    real = rundir._write
    entered, release = threading.Event(), threading.Event()
    written: list[str] = []

    def slow_write(state_dir: Path, run_id: str, text: str) -> Path:
        written.append(text)
        if len(written) == 1:
            entered.set()
            release.wait(5)
        return real(state_dir, run_id, text)

    monkeypatch.setattr(rundir, "_write", slow_write)
    path = tmp_path / "runs" / "20260101T000000-aaaaaa" / "state.json"
    seen: dict[str, dict[str, str | None]] = {}

    def finish(host: str) -> None:
        writer.host_finished(host, "changed")
        # On return, this host's change is on disk, whoever wrote it.
        seen[host] = json.loads(path.read_text())["hosts"][host]

    first = threading.Thread(target=finish, args=("hv000",))
    first.start()
    assert entered.wait(5)
    others = [threading.Thread(target=finish, args=(f"hv00{i}",)) for i in (1, 2, 3)]
    for thread in others:
        thread.start()
    # All three changes made; their threads wait for the write in progress.
    deadline = time.monotonic() + 10
    while writer._changes < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer._changes == 5
    release.set()
    for thread in (first, *others):
        thread.join(5)
    assert len(written) == 2 and writer.writes == 3
    assert seen == {f"hv00{i}": {"status": "changed", "step": None} for i in range(4)}
