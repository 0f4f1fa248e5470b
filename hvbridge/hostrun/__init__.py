"""What one host carries from step to step: `HostRun`, made of its parts.

- `clock`: where the host is and the running step's deadline (hostrun.clock)
- `lock`: the host lock this run holds, other runs' guards found (hostrun.lockstate)
- `network`: the network state last read, while still true (hostrun.netcache)
- `changes`: what this run changed or would change (hostrun.changes)
- `tally`: how the host's steps went so far (hostrun.tally)

The runner makes one per host for a run; a plain Nornir script gets one per host from
hvbridge.context. Nothing here is shared between hosts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir.core.task import Task

from hvbridge import platforms, shipped
from hvbridge.events import Sink, event
from hvbridge.hostrun.changes import Changes
from hvbridge.hostrun.clock import StepClock
from hvbridge.hostrun.lockstate import LockState
from hvbridge.hostrun.netcache import NetStateCache
from hvbridge.hostrun.tally import Tally
from hvbridge.hoststate import read_netstate
from hvbridge.inventory import HostModel
from hvbridge.netstate import NetState
from hvbridge.platforms import Platform
from hvbridge.ssh import CONNECTION_NAME, Connection, SSHError

__all__ = ["Changes", "HostRun", "LockState", "NetStateCache", "StepClock", "Tally"]


@dataclass
class HostRun:
    run_id: str
    model: HostModel
    # The project whose templates/ come before the shipped ones; None: the shipped only.
    project: Path | None = None
    check: bool = False
    force: bool = False
    # The runner's resolved connection parameters; None: Nornir's own for the host.
    connection_params: dict[str, Any] | None = None
    # Where the host's events go (the run's log and the terminal); None: nowhere.
    sink: Sink | None = None
    # The network files rendered for the host: full path -> content.
    rendered: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] | None = None
    clock: StepClock = field(default_factory=StepClock)
    lock: LockState = field(default_factory=LockState)
    network: NetStateCache = field(default_factory=NetStateCache)
    changes: Changes = field(default_factory=Changes)
    tally: Tally = field(default_factory=Tally)

    @property
    def name(self) -> str:
        return self.model.name

    def emit(self, kind: str, **fields: Any) -> None:
        """An event about this host, e.g. `waiting` (what it waits for, `until` a time)."""
        if self.sink is not None:
            self.sink.emit(event(kind, host=self.name, **fields))

    def remember_netstate(self, state: NetState) -> None:
        self.network.remember(state)

    def network_state(self, task: Task) -> tuple[NetState, str | None]:
        """The host's network state, and the step that read it when that was an earlier
        one (None: read just now). Only steps that keep it have run since."""
        earlier = self.network.earlier()
        if earlier is not None:
            return earlier
        state = read_netstate(self.connect(task), self.platform)
        self.network.remember(state)
        return state, None

    def network_state_at_start(self, task: Task) -> tuple[NetState, str | None]:
        """For a step that may change the network, before it changes anything: the state
        the steps before it left (only steps that keep it ran since it was read), else read
        now. Not for after a change: `network_state` reads afresh then."""
        opening = self.network.opening
        if opening is not None:
            return opening
        return self.network_state(task)

    @property
    def templates(self) -> Path:
        return self.project / "templates" if self.project is not None else shipped.templates()

    @property
    def platform(self) -> Platform:
        return platforms.get(self.model.platform)

    def connect(self, task: Task, timeout: float | None = None) -> Connection:
        """The host's open connection, opened if needed with the runner's parameters, else
        with Nornir's for the host; `timeout` caps the connect timeout (a guarded restart
        has a deadline to keep)."""
        host = task.host
        if self.clock.timed_out:
            raise SSHError(self.clock.timed_out)
        if CONNECTION_NAME not in host.connections:
            if self.connection_params is None and timeout is None:
                connection: Connection = host.get_connection(CONNECTION_NAME, task.nornir.config)
                return connection
            params = dict(self.connection_params or {})
            if timeout is not None:
                given = params.get("extras")
                if given is None:
                    given = host.get_connection_parameters(CONNECTION_NAME).extras
                extras = dict(given or {})
                configured = float(extras.get("connect_timeout", timeout))
                extras["connect_timeout"] = max(1.0, min(configured, timeout))
                params["extras"] = extras
            host.open_connection(CONNECTION_NAME, configuration=task.nornir.config, **params)
        opened: Connection = host.connections[CONNECTION_NAME].connection
        return opened

    def reconnect(self, task: Task, timeout: float | None = None) -> Connection:
        """A new connection: the old one may have died with the network restart."""
        self.disconnect(task)
        return self.connect(task, timeout)

    def disconnect(self, task: Task) -> None:
        if CONNECTION_NAME in task.host.connections:
            task.host.close_connection(CONNECTION_NAME)
