"""Restart the network, guarded by an on-host revert, when a network file changed or the
host does not run what its files describe."""

from __future__ import annotations

from typing import Annotated

from nornir.core.task import Result, Task
from pydantic import Field

from hvbridge.apply import guarded_restart
from hvbridge.hostrun import HostRun
from hvbridge.hoststate import expected_bridges, mac_mismatches, read_netstate
from hvbridge.netstate import verify


def apply(
    task: Task,
    ctx: HostRun,
    timeout: Annotated[int, Field(ge=10, le=3600)] = 120,
    force: bool = False,
) -> Result:
    """`service network restart` when this run changed a network file, when the running
    state differs from the files (a rerun after a failure between push and apply), or
    with force; never when a NIC's MAC is not the inventory's `hwaddr`.

    `timeout`: seconds the host waits for the controller to reconnect and verify
    before it reverts by itself.
    """
    # Decided from the host itself, not from this run's history: the files are as
    # rendered (ifcfg.push came before), so what the inventory plans is what they say.
    state = read_netstate(ctx.connect(task))
    mismatches = mac_mismatches(task.host.name, ctx.model, state)
    if mismatches:
        return Result(host=task.host, failed=True, result="\n".join(mismatches))
    why = None
    if ctx.network_changed:
        reason = f"{', '.join(ctx.network_changed)} {'would change' if ctx.check else 'changed'}"
    elif force or ctx.force:
        reason = "forced"
    else:
        differences = verify(expected_bridges(ctx.model), state)
        if not differences:
            ctx.remember_netstate(state)
            return Result(host=task.host, result="no network file changed: not restarted")
        why = "the host does not run its network files: " + "; ".join(differences)
        reason = why
    if ctx.check:
        ctx.network_would_restart = True
        return Result(
            host=task.host,
            changed=True,
            result=f"check mode: would restart the network (guarded, {timeout}s): {reason}",
        )
    return guarded_restart(task, ctx, timeout, state, why)
