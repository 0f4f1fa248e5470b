"""hvbridge's tasks as Nornir tasks: `task` first, their arguments after, as Nornir calls
them (`nr.run(task=hvbridge.tasks.network.render)`, `task.run(...)` in a runbook step).

A task body takes its host's context too, `(task, ctx, ...)`; the decorators here give
Nornir the `(task, ...)` it calls, find the context (hvbridge.context), and mark what the
task leaves of the network state read before it (hvbridge.hostrun.netcache):
`host_task` may change the host's network, `files_only` writes files but leaves the
running network as it was (network.push), `read_only` changes nothing on the host.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from nornir.core.task import Result, Task

from hvbridge import context
from hvbridge.hostrun import HostRun

P = ParamSpec("P")
_KEEPS = "hvbridge_keeps"
CHANGES, FILES, NOTHING = "network", "files", "nothing"


def _wrap(
    func: Callable[Concatenate[Task, HostRun, P], Result], keeps: str
) -> Callable[Concatenate[Task, P], Result]:
    @functools.wraps(func)
    def run(task: Task, /, *args: P.args, **kwargs: P.kwargs) -> Result:
        # Nornir's convention: `dry_run` overrides the run's (`task.is_dry_run(dry_run)`).
        dry_run = kwargs.pop("dry_run", None)
        ctx = context.of(task, None if dry_run is None else bool(dry_run))
        ctx.network.step_begins(task.name, keeps_network=keeps != CHANGES)
        return func(task, ctx, *args, **kwargs)

    # What Nornir's users, runbook checks and `hvbridge tasks` see: no `ctx` (and
    # `dry_run`, as every Nornir task takes it, is not a runbook argument).
    params = list(inspect.signature(func).parameters.values())
    signature = inspect.signature(func).replace(parameters=[params[0], *params[2:]])
    setattr(run, "__signature__", signature)  # noqa: B010 - mypy: functions have no such attribute
    setattr(run, _KEEPS, keeps)
    return run


def host_task(
    func: Callable[Concatenate[Task, HostRun, P], Result],
) -> Callable[Concatenate[Task, P], Result]:
    """A task that may change the host's running network."""
    return _wrap(func, CHANGES)


def files_only(
    func: Callable[Concatenate[Task, HostRun, P], Result],
) -> Callable[Concatenate[Task, P], Result]:
    """A task that writes files on the host but leaves its running network as it was."""
    return _wrap(func, FILES)


def read_only(
    func: Callable[Concatenate[Task, HostRun, P], Result],
) -> Callable[Concatenate[Task, P], Result]:
    """A task that changes nothing on the host."""
    return _wrap(func, NOTHING)


def is_read_only(func: Callable[..., Any]) -> bool:
    return getattr(func, _KEEPS, None) == NOTHING


def keeps_network_state(func: Callable[..., Any]) -> bool:
    """Whether the network state read before the task is still true after it."""
    return getattr(func, _KEEPS, None) in (FILES, NOTHING)


def is_host_task(func: Callable[..., Any]) -> bool:
    """Made by one of the decorators here (else a plain Nornir task of a project's)."""
    return hasattr(func, _KEEPS)
