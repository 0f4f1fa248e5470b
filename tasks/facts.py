"""What the host looks like now: bridges, addresses, default route."""

from __future__ import annotations

from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun
from hvbridge.hoststate import read_netstate
from hvbridge.netstate import facts


def collect(task: Task, ctx: HostRun) -> Result:
    """Read-only: parse `brctl show` and `ip` into facts for the report."""
    ctx.facts = facts(read_netstate(ctx.connect(task)))
    return Result(host=task.host, result=ctx.facts)
