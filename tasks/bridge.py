"""Check the host's bridges against the inventory."""

from __future__ import annotations

from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun
from hvbridge.hoststate import expected_bridges
from hvbridge.hosttask import read_only
from hvbridge.netstate import verify as verify_state
from hvbridge.results import Problems, Said, Verified


@read_only
def verify(task: Task, ctx: HostRun) -> Result:
    """Each bridge has its ports, holds the address (not the port), carries the default route.

    When the step before read the network state (a guarded restart reads it last, after
    the restart) and only read-only steps came between, that state is the one checked."""
    if ctx.check and (ctx.changes.network_files or ctx.changes.network_would_restart):
        said = "check mode: not verified (nothing was applied)"
        return Result(host=task.host, result=Said(said))
    state, read_by = ctx.network_state(task)
    problems = verify_state(expected_bridges(ctx.model, ctx.platform), state)
    if problems:
        return Result(host=task.host, failed=True, result=Problems.of(problems))
    source = f" (network state as read by '{read_by}')" if read_by else ""
    said = f"verified {', '.join(ctx.model.bridges)}{source}"
    return Result(host=task.host, result=Verified(said, tuple(ctx.model.bridges), read_by))
