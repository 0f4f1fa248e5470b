"""Check the host's bridges against the inventory."""

from __future__ import annotations

from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun
from hvbridge.hoststate import expected_bridges, read_netstate
from hvbridge.netstate import verify as verify_state


def verify(task: Task, ctx: HostRun) -> Result:
    """Each bridge has its ports, holds the address (not the port), carries the default route."""
    if ctx.check and ctx.network_changed:
        return Result(host=task.host, result="check mode: not verified (nothing was applied)")
    problems = verify_state(expected_bridges(ctx.model), read_netstate(ctx.connect(task)))
    if problems:
        return Result(host=task.host, failed=True, result="\n".join(problems))
    return Result(host=task.host, result=f"verified {', '.join(ctx.model.bridges)}")
