"""What one host carries from step to step during a run.

Each host gets its own `HostRun`, made by the runner; tasks read the validated
model from it and leave what later steps need (rendered files, the network
files changed, a rollback). Nothing here is shared between hosts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nornir.core.task import Task

from hvbridge import platforms
from hvbridge.events import Sink, event
from hvbridge.hoststate import read_netstate
from hvbridge.lock import Holder
from hvbridge.netstate import NetState
from hvbridge.platforms import Platform
from hvbridge.ssh import CONNECTION_NAME, Connection, SSHError

F = TypeVar("F", bound=Callable[..., Any])
_READ_ONLY = "hvbridge_read_only"


def read_only(func: F) -> F:
    """Marks a task that changes nothing on the host: the network state read by the
    steps before it stays true, and it may use it instead of reading it again."""
    setattr(func, _READ_ONLY, True)
    return func


def is_read_only(func: Callable[..., Any]) -> bool:
    return bool(getattr(func, _READ_ONLY, False))


_FILES_ONLY = "hvbridge_files_only"


def files_only(func: F) -> F:
    """Marks a task that writes files on the host but leaves its running network as it
    was (network.push): the network state read before it stays true."""
    setattr(func, _FILES_ONLY, True)
    return func


def keeps_network_state(func: Callable[..., Any]) -> bool:
    """Whether the network state read before the task is still true after it."""
    return is_read_only(func) or bool(getattr(func, _FILES_ONLY, False))


@dataclass
class HostRun:
    run_id: str
    project: Path
    model: Any
    check: bool = False
    force: bool = False
    connection_params: dict[str, Any] = field(default_factory=dict)
    rendered: dict[str, str] = field(default_factory=dict)
    network_changed: list[str] = field(default_factory=list)
    # Check mode: network.apply would restart (files changed, or the host does not run them).
    network_would_restart: bool = False
    # Domains whose definition this run changed, and why libvirtd must restart.
    guests_changed: list[str] = field(default_factory=list)
    libvirtd_restart_for: list[str] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    holder: Holder | None = None
    break_lock: bool = False
    locked: bool = False
    heartbeat_at: float = 0.0
    lock_note: str | None = None
    # What became of other runs' guards found on the host (hvbridge.guards).
    guard_notes: list[str] = field(default_factory=list)
    # Where the host is (connect, lock host, a step's name), for a failure outside steps.
    phase: str = "connect"
    step_name: str | None = None
    step_deadline: float | None = None
    step_timeout: float = 0.0
    timed_out: str | None = None
    timed_out_step: str | None = None
    rolled_back: str | None = None
    facts: dict[str, Any] | None = None
    # How the host's steps went so far: its status in state.json as it runs.
    step_failed: bool = False
    step_changed: bool = False
    # The steps that changed network files: a rollback restores what they wrote.
    network_file_steps: list[str] = field(default_factory=list)
    # A signal stopped the run before this host started, or between two of its steps.
    not_started: bool = False
    interrupted: bool = False
    # The host's network state as last read, and by which step; forgotten when a step
    # that may change the host begins (see `read_only`).
    netstate: NetState | None = None
    netstate_read_by: str | None = None
    netstate_step: int = 0
    steps_begun: int = 0
    # Where the host's events go (the run's log and the terminal); None: nowhere.
    sink: Sink | None = None

    @property
    def name(self) -> str:
        return str(getattr(self.model, "name", "?"))

    def emit(self, kind: str, **fields: Any) -> None:
        """An event about this host, e.g. `waiting` (what it waits for, `until` a time)."""
        if self.sink is not None:
            self.sink.emit(event(kind, host=self.name, **fields))

    def begin_step(self, name: str, timeout: float, read_only: bool = False) -> None:
        """`read_only`: the step keeps the running network as it is (`keeps_network_state`)."""
        self.step_name, self.step_timeout = name, timeout
        self.step_deadline = time.monotonic() + timeout
        self.steps_begun += 1
        if not read_only:
            self.forget_netstate()

    def remember_netstate(self, state: NetState) -> None:
        self.netstate, self.netstate_read_by = state, self.step_name
        self.netstate_step = self.steps_begun

    def forget_netstate(self) -> None:
        self.netstate, self.netstate_read_by = None, None

    def network_state(self, task: Task) -> tuple[NetState, str | None]:
        """The host's network state, and the step that read it when that was an earlier
        one (None: read just now). Only steps that keep it have run since."""
        if self.netstate is not None and self.netstate_step < self.steps_begun:
            return self.netstate, self.netstate_read_by
        state = read_netstate(self.connect(task), self.platform)
        self.remember_netstate(state)
        return state, None

    def end_step(self) -> None:
        self.step_deadline = None

    def overran(self) -> bool:
        """True once, when the running step has passed its deadline."""
        deadline = self.step_deadline
        if deadline is None or self.timed_out or time.monotonic() <= deadline:
            return False
        self.timed_out_step = self.step_name
        self.timed_out = f"step '{self.step_name}' timed out after {self.step_timeout:g}s"
        return True

    @property
    def templates(self) -> Path:
        return self.project / "templates"

    @property
    def platform(self) -> Platform:
        return platforms.get(str(getattr(self.model, "platform", platforms.DEFAULT)))

    def connect(self, task: Task, timeout: float | None = None) -> Connection:
        """The host's open connection, opened with the run's resolved parameters if needed;
        `timeout` caps the connect timeout (a guarded restart has a deadline to keep)."""
        host = task.host
        if self.timed_out:
            raise SSHError(self.timed_out)
        if CONNECTION_NAME not in host.connections:
            params = dict(self.connection_params)
            if timeout is not None:
                extras = dict(params.get("extras") or {})
                configured = float(extras.get("connect_timeout", timeout))
                extras["connect_timeout"] = max(1.0, min(configured, timeout))
                params["extras"] = extras
            host.open_connection(CONNECTION_NAME, configuration=task.nornir.config, **params)
        plugin = host.connections[CONNECTION_NAME]
        connection: Connection = plugin.connection
        return connection

    def reconnect(self, task: Task, timeout: float | None = None) -> Connection:
        """A new connection: the old one may have died with the network restart."""
        self.disconnect(task)
        return self.connect(task, timeout)

    def disconnect(self, task: Task) -> None:
        if CONNECTION_NAME in task.host.connections:
            task.host.close_connection(CONNECTION_NAME)
