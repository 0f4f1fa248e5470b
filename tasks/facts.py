"""What the host looks like now: bridges, addresses, default route."""

from __future__ import annotations

from typing import Any

from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun
from hvbridge.hoststate import read_netstate
from hvbridge.netstate import facts


def collect(task: Task, ctx: HostRun) -> Result:
    """Read-only: parse `brctl show` and `ip` into facts for the report."""
    ctx.facts = facts(read_netstate(ctx.connect(task)))
    return Result(host=task.host, result=summary(ctx.facts))


def summary(found: dict[str, Any]) -> str:
    """One line an operator reads: bridges with ports and addresses, the default route."""
    parts = []
    for name, bridge in found["bridges"].items():
        addresses = ", ".join(found["addresses"].get(name, [])) or "no address"
        parts.append(f"{name} [{' '.join(bridge['ports']) or 'no ports'}] {addresses}")
    route = found.get("default_route")
    parts.append(
        f"default via {route['gateway']} dev {route['device']}" if route else "no default route"
    )
    return "; ".join(parts)
