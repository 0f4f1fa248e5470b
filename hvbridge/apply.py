"""Apply network changes like `commit confirmed`: restart guarded, verify, or roll back.

1. Read the state and the probes that pass now (only those count afterwards).
2. Arm the revert on the host (hvbridge.guard), restart the network detached, and
   wait on the same session for the restart to end.
3. Reconnect with a new connection (proof that the host is reachable as it is now),
   wait for the restart to finish if it had not, verify.
4. Verified in time: cancel the revert. Otherwise: revert now if reachable, or
   let the host revert by itself at the deadline; then reconnect, check the old
   state is back, and report the host failed and rolled back, with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from nornir.core.task import Result, Task

from hvbridge import guard
from hvbridge.hostrun import HostRun
from hvbridge.hoststate import expected_bridges, read_netstate, read_netstate_and_probes
from hvbridge.netstate import NetState, verify
from hvbridge.ssh import SSHError

RETRY_EVERY = 1.0
# How long after the deadline the controller keeps trying to see the host back.
REVERT_GRACE = 60.0


@dataclass(frozen=True)
class Confirmation:
    problem: str | None  # None: verified
    connected: bool
    state: NetState | None = None  # the state verified
    armed: bool = True  # False: the session died before the guard was armed


def _margin(timeout: int) -> float:
    """Time kept before the deadline to cancel the revert in."""
    return min(5.0, timeout * 0.2)


def gateways(model: object) -> list[str]:
    bridges = getattr(model, "bridges", {})
    return [str(b.gateway) for b in bridges.values() if b.gateway is not None and b.defroute]


def _confirm(
    task: Task, ctx: HostRun, armed: guard.Armed, probes: list[str], deadline: float
) -> Confirmation:
    last_error = "no attempt"
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            conn = ctx.reconnect(task, timeout=remaining)
            seen = guard.look(conn, armed, max(0.0, deadline - time.monotonic()), probes)
        except SSHError as exc:
            last_error = str(exc)
            ctx.disconnect(task)
            time.sleep(RETRY_EVERY)
            continue
        if seen.guard == guard.NOT_ARMED:
            return Confirmation("the guard was never armed", True, armed=False)
        if seen.guard != "armed":
            # Reached only after the host's own revert: what is seen now is the old state.
            return Confirmation(f"could not reconnect and verify in time: {last_error}", False)
        if seen.restart_rc is None or seen.state is None:
            return Confirmation("service network restart did not finish in time", True)
        if seen.restart_rc != 0:
            tail = " | ".join(seen.restart_log.strip().splitlines()[-4:])
            return Confirmation(
                f"service network restart failed (exit {seen.restart_rc}): {tail}", True
            )
        problems = verify(expected_bridges(ctx.model), seen.state)
        problems += [
            f"gateway {gw} answered ping before the change, not after"
            for gw in seen.silent_gateways
        ]
        return Confirmation("; ".join(problems) or None, True, seen.state)
    return Confirmation(f"could not reconnect and verify in time: {last_error}", False)


def _same_addresses(before: NetState, after: NetState) -> list[str]:
    def view(state: NetState) -> set[str]:
        addrs = {f"{a.device} {a.ip}" for a in state.addresses if a.device != "lo"}
        routes = {
            f"default via {r.gateway} dev {r.device}" for r in state.routes if r.dst == "default"
        }
        return addrs | routes

    old, new = view(before), view(after)
    return [f"missing {item}" for item in sorted(old - new)] + [
        f"unexpected {item}" for item in sorted(new - old)
    ]


def _await_revert(task: Task, ctx: HostRun, armed: guard.Armed, before: NetState) -> str:
    """Reconnect after the host's revert and say whether it is as it was."""
    give_up = time.monotonic() + max(0.0, armed.deadline - time.time()) + REVERT_GRACE
    last_error = ""
    while time.monotonic() < give_up:
        try:
            conn = ctx.reconnect(task)
            if guard.reverted(conn, armed.run_dir):
                differences = _same_addresses(before, read_netstate(conn))
                if differences:
                    return "reverted, but not as before: " + "; ".join(differences)
                return "reverted: addresses and default route are as before"
        except SSHError as exc:
            last_error = str(exc)
            ctx.disconnect(task)
        time.sleep(RETRY_EVERY)
    return f"NOT confirmed back within {REVERT_GRACE:.0f}s after the deadline: {last_error}"


def guarded_restart(task: Task, ctx: HostRun, timeout: int) -> Result:
    conn = ctx.connect(task)
    # Only probes that pass now count after the change.
    before, probes = read_netstate_and_probes(conn, gateways(ctx.model))
    started = time.monotonic()
    # Waiting for the restart takes half the time at most: the rest is for
    # reconnecting, verifying and cancelling.
    armed = guard.arm_and_restart(conn, ctx.run_id, timeout, wait=timeout / 2)
    ctx.disconnect(task)
    confirmation = _confirm(task, ctx, armed, probes, started + timeout - _margin(timeout))
    problem = confirmation.problem
    if not confirmation.armed:
        # The session died before the guard was armed, and the restart starts only after.
        return Result(
            host=task.host,
            failed=True,
            result="the session was lost while arming the revert: the guard is not armed and"
            " the network was not restarted (the new files are written; run again)",
        )
    if problem is None:
        if guard.cancel(ctx.connect(task), armed):
            # Verified as it is after the restart: the steps that only read may use it.
            if confirmation.state is not None:
                ctx.remember_netstate(confirmation.state)
            took = time.monotonic() - started
            return Result(
                host=task.host,
                changed=True,
                result=f"network restarted and verified in {took:.1f}s; revert cancelled",
            )
        problem = "verified, but the revert had already started at the deadline"
    elif confirmation.connected:
        guard.revert_now(ctx.connect(task), armed)
    outcome = _await_revert(task, ctx, armed, before)
    ctx.rolled_back = problem
    return Result(
        host=task.host, changed=True, failed=True, result=f"rolled back: {problem}; {outcome}"
    )
