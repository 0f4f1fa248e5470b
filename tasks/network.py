"""Restart the network when a network file changed, guarded by an on-host revert."""

from __future__ import annotations

from typing import Annotated

from nornir.core.task import Result, Task
from pydantic import Field

from hvbridge.apply import guarded_restart
from hvbridge.hostrun import HostRun


def apply(
    task: Task,
    ctx: HostRun,
    timeout: Annotated[int, Field(ge=10, le=3600)] = 120,
    force: bool = False,
) -> Result:
    """`service network restart` only if this run changed a network file (or force).

    `timeout`: seconds the host waits for the controller to reconnect and verify
    before it reverts by itself.
    """
    if not (ctx.network_changed or force or ctx.force):
        return Result(host=task.host, result="no network file changed: not restarted")
    if ctx.check:
        return Result(
            host=task.host,
            changed=True,
            result=f"check mode: would restart the network (guarded, {timeout}s)",
        )
    return guarded_restart(task, ctx, timeout)
