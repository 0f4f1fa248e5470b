"""Where each run keeps its state on the controller: `STATE_DIR/runs/<run-id>/`.

`state.json` says what was run (runbook, inventory) and, for each host, its status
and the last step it finished. It is rewritten (temp file, then rename) after every
step of every host, so a controller killed at any moment leaves a state that says
how far each host got: a host whose status is still null was in flight or never
reached. `events.jsonl` is the event log.

`--retry-failed` folds every state of the same runbook and inventory, oldest first,
so that each host has the status of the newest run that included it, and runs the
hosts whose status is not ok or changed. A host left out of a retry by `--limit`
keeps the status it had, and the next `--retry-failed` takes it again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvbridge.status import DONE


@dataclass
class HostState:
    # None: the host had not finished when this state was written (in flight, or not
    # reached yet); after a killed controller, it was never finished.
    status: str | None = None
    step: str | None = None  # the last step the host finished


@dataclass
class RunState:
    run_id: str
    runbook: str
    inventory: str
    check: bool
    hosts: dict[str, HostState]
    stopped: str | None = None
    # False until the run ends on its own or by a signal; a state that stays False
    # belongs to a controller that was killed.
    finished: bool = False
    interrupted: str | None = None  # SIGINT, SIGTERM
    retrying: str | None = None  # the newest earlier run, when this run was a retry

    @property
    def unfinished(self) -> list[str]:
        return [name for name, host in self.hosts.items() if host.status not in DONE]


def runs_dir(state_dir: Path) -> Path:
    return state_dir / "runs"


def run_path(state_dir: Path, run_id: str) -> Path:
    return runs_dir(state_dir) / run_id


def save(state_dir: Path, state: RunState) -> Path:
    """Write `state` atomically: a reader (or the next run after a SIGKILL) sees the old
    file or the new one, never half of one."""
    return _write(state_dir, state.run_id, _text(state))


def _text(state: RunState) -> str:
    """state.json's text. Built by hand and on one line: the file is rewritten after every
    step of every host, so its cost grows with the square of the fleet; dataclasses'
    asdict (a deep copy) and json's indenting encoder (pure Python) made it 7 ms a write
    at 500 hosts, 43 ms of controller CPU per host; this is about 1 ms."""
    document: dict[str, Any] = {
        **{name: value for name, value in vars(state).items() if name != "hosts"},
        # A host given as a bare status (as load() still reads) is written as given.
        "hosts": {
            name: {"status": h.status, "step": h.step} if isinstance(h, HostState) else h
            for name, h in state.hosts.items()
        },
    }
    return json.dumps(document, sort_keys=True) + "\n"


def _write(state_dir: Path, run_id: str, text: str) -> Path:
    directory = run_path(state_dir, run_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "state.json"
    tmp = path.with_name(".state.json.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def load(path: Path) -> RunState:
    raw: dict[str, Any] = json.loads(path.read_text())
    hosts = {
        # A state written before per-step records kept only the status.
        name: HostState(status=value) if isinstance(value, str) else HostState(**value)
        for name, value in raw.pop("hosts").items()
    }
    return RunState(hosts=hosts, **raw)


def runs_of(state_dir: Path, runbook: Path, inventory: Path) -> list[RunState]:
    """The real (not check-mode) runs of this runbook on this inventory, oldest first."""
    found = []
    for state_file in runs_dir(state_dir).glob("*/state.json"):
        try:
            state = load(state_file)
        except (ValueError, TypeError, KeyError, OSError):
            continue
        same = state.runbook == str(runbook.resolve()) and state.inventory == str(
            inventory.resolve()
        )
        if same and not state.check:
            found.append(state)
    # Run ids start with a sortable timestamp.
    return sorted(found, key=lambda s: s.run_id)


def last_run(state_dir: Path, runbook: Path, inventory: Path) -> RunState | None:
    """The newest real run of this runbook on this inventory, with every host any of
    them ran: each with its status in the newest run that included it."""
    runs = runs_of(state_dir, runbook, inventory)
    if not runs:
        return None
    hosts: dict[str, HostState] = {}
    for state in runs:
        hosts.update(state.hosts)
    newest = runs[-1]
    return RunState(
        newest.run_id, newest.runbook, newest.inventory, newest.check, hosts, newest.stopped,
        newest.finished, newest.interrupted, newest.retrying,
    )  # fmt: skip


@dataclass
class StateWriter:
    """The run's state.json, rewritten as each host finishes a step; thread-safe, as
    hosts finish their steps in Nornir's worker threads."""

    state_dir: Path
    state: RunState
    # `_lock` guards the state and the change counters; `_writing` orders the writes.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _writing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _changes: int = field(default=0, repr=False)
    _saved: int = field(default=0, repr=False)
    # Files written, for the tests: fewer than the changes when threads' changes shared one.
    writes: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self._changed(lambda: None)

    def step_finished(self, host: str, step: str) -> None:
        def change() -> None:
            self.state.hosts[host].step = step

        self._changed(change)

    def host_finished(self, host: str, status: str) -> None:
        def change() -> None:
            self.state.hosts[host].status = status

        self._changed(change)

    def finish(
        self, statuses: dict[str, str], stopped: str | None, interrupted: str | None
    ) -> None:
        def change() -> None:
            for host, status in statuses.items():
                self.state.hosts[host].status = status
            self.state.stopped, self.state.interrupted = stopped, interrupted
            self.state.finished = True

        self._changed(change)

    def _changed(self, change: Callable[[], None]) -> None:
        """Apply `change`, and return once a file that holds it is written. Threads whose
        changes arrive while another writes share the next write: one file for all of
        them, each returning with its change on disk (as when each wrote its own)."""
        with self._lock:
            change()
            self._changes += 1
            mine = self._changes
        with self._writing:
            if self._saved >= mine:
                return
            with self._lock:
                text, upto = _text(self.state), self._changes
            _write(self.state_dir, self.state.run_id, text)
            self._saved = upto
            self.writes += 1
