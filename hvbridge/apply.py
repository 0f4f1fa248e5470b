"""Apply network changes like `commit confirmed`: restart guarded, verify, or roll back.

1. Read which gateways answer now (hvbridge.gateways says what their silence
   after the restart means).
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

from hvbridge import gateways, guard
from hvbridge.hostrun import HostRun
from hvbridge.hoststate import answering, expected_bridges, read_netstate
from hvbridge.inventory.models import HostModel
from hvbridge.netstate import NetState, verify
from hvbridge.platforms import Platform, devices
from hvbridge.platforms.base import own_view
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
    warnings: tuple[str, ...] = ()
    # The last reconnection's error, when the host was not seen armed in time.
    last_error: str | None = None
    # Whether the network service's own view was verified too (the platform has one).
    own_view: bool = False


def _margin(timeout: int) -> float:
    """Time kept before the deadline to cancel the revert in."""
    return min(5.0, timeout * 0.2)


def _log_tail(log: str) -> str:
    return " | ".join(log.strip().splitlines()[-4:])


def _restart_failure(platform: Platform, rc: int, log: str) -> str:
    return f"{platform.network_command('restart')} failed (exit {rc}): {_log_tail(log)}"


def _confirm(
    task: Task,
    ctx: HostRun,
    armed: guard.Armed,
    plan: list[gateways.Planned],
    probed: tuple[str | None, set[str]],
    deadline: float,
) -> Confirmation:
    old, answered_before = probed
    last_error = armed.lost
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            conn = ctx.reconnect(task, timeout=remaining)
            wait = max(0.0, deadline - time.monotonic())
            seen = guard.look(conn, armed, wait, [p.gateway for p in plan], ctx.platform)
        except SSHError as exc:
            last_error = str(exc)
            ctx.disconnect(task)
            time.sleep(RETRY_EVERY)
            continue
        if seen.guard == guard.NOT_ARMED:
            return Confirmation("the guard was never armed", True, armed=False)
        if seen.guard != "armed":
            # Reached only after the host's own revert: what is seen now is the old state.
            return Confirmation(None, False, last_error=last_error)
        if seen.restart_rc is None or seen.state is None:
            restart = ctx.platform.network_command("restart")
            return Confirmation(f"{restart} did not finish in time", True)
        if seen.restart_rc != 0:
            failure = _restart_failure(ctx.platform, seen.restart_rc, seen.restart_log)
            return Confirmation(failure, True)
        problems = verify(expected_bridges(ctx.model), seen.state)
        viewer = own_view(ctx.platform)
        if viewer and seen.own_view is not None:
            problems += viewer.verify_problems(seen.own_view, ctx.model)
        verdict = gateways.judge(plan, old, answered_before, set(seen.silent_gateways))
        problems += verdict.problems
        return Confirmation(
            "; ".join(problems) or None,
            True,
            seen.state,
            warnings=tuple(verdict.warnings),
            own_view=seen.own_view is not None,
        )
    return Confirmation(None, False, last_error=last_error)


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


@dataclass(frozen=True)
class Reverted:
    outcome: str  # whether the host is back as before
    restart_rc: int | None = None  # the restart's status, as kept on the host
    restart_log: str = ""


def _await_revert(task: Task, ctx: HostRun, armed: guard.Armed, before: NetState) -> Reverted:
    """Reconnect after the host's revert and say whether it is as it was."""
    give_up = time.monotonic() + max(0.0, armed.deadline - time.time()) + REVERT_GRACE
    last_error = ""
    while time.monotonic() < give_up:
        try:
            conn = ctx.reconnect(task)
            if guard.reverted(conn, armed.run_dir):
                rc, log = guard.restart_status(conn, armed.run_dir)
                differences = _same_addresses(before, read_netstate(conn, ctx.platform))
                if differences:
                    outcome = "reverted, but not as before: " + "; ".join(differences)
                else:
                    outcome = "reverted: addresses and default route are as before"
                return Reverted(outcome, rc, log)
        except SSHError as exc:
            last_error = str(exc)
            ctx.disconnect(task)
        time.sleep(RETRY_EVERY)
    return Reverted(
        f"NOT confirmed back within {REVERT_GRACE:.0f}s after the deadline: {last_error}"
    )


def _reverted_alone(platform: Platform, confirmation: Confirmation, back: Reverted) -> str:
    """Why a host reverted by itself at the deadline: the restart's own failure (its status
    and log are kept on the host), else the last connection error."""
    if back.restart_rc is not None and back.restart_rc != 0:
        return _restart_failure(platform, back.restart_rc, back.restart_log)
    if confirmation.last_error:
        return f"could not reconnect and verify in time: {confirmation.last_error}"
    if back.restart_rc is None and back.outcome.startswith("reverted"):
        return f"{platform.network_command('restart')} had not finished at the deadline"
    return "the host reverted at the deadline before the controller could verify it"


def _new_devices(model: HostModel, before: NetState) -> list[str]:
    """The bridges, VLANs and bonds the new files make that the host does not have now, top
    down: what a revert removes if the network stop leaves them."""
    present = {link.name for link in before.links}
    return [name for name in devices.virtual(model) if name not in present]


def guarded_restart(
    task: Task, ctx: HostRun, timeout: int, before: NetState, why: str | None = None
) -> Result:
    """`before`: the state just read; `why`: said when the restart is not for changed files."""
    ctx.emit("waiting", what="revert unless confirmed", until=time.time() + timeout)
    try:
        return _guarded_restart(task, ctx, timeout, before, why)
    finally:
        ctx.emit("waiting", what=None)


def _guarded_restart(
    task: Task, ctx: HostRun, timeout: int, before: NetState, why: str | None
) -> Result:
    conn = ctx.connect(task)
    plan = gateways.planned(ctx.model)
    old = gateways.old_default(before)
    # Only gateways that answer now oblige after the change (see hvbridge.gateways).
    answered = set(answering(conn, gateways.to_probe(plan, old)))
    started = time.monotonic()
    # Waiting for the restart takes half the time at most: the rest is for
    # reconnecting, verifying and cancelling.
    armed = guard.arm_and_restart(
        conn, ctx.run_id, timeout, timeout / 2, ctx.platform, _new_devices(ctx.model, before)
    )
    ctx.disconnect(task)
    deadline = started + timeout - _margin(timeout)
    confirmation = _confirm(task, ctx, armed, plan, (old, answered), deadline)
    problem = confirmation.problem
    if not confirmation.armed:
        # The session died before the guard was armed, and the restart starts only after.
        return Result(
            host=task.host,
            failed=True,
            result="the session was lost while arming the revert: the guard is not armed and"
            " the network was not restarted (the new files are written; run again)",
        )
    if problem is None and confirmation.connected:
        if guard.cancel(ctx.connect(task), armed):
            # Verified as it is after the restart: the steps that only read may use it.
            if confirmation.state is not None:
                ctx.remember_netstate(confirmation.state)
            took = time.monotonic() - started
            views = " (the kernel's view and the network service's own)"
            verified = views if confirmation.own_view else ""
            said = [f"network restarted and verified{verified} in {took:.1f}s; revert cancelled"]
            said += [f"restarted because {why}"] if why else []
            said += [f"warning: {warning}" for warning in confirmation.warnings]
            return Result(host=task.host, changed=True, result="; ".join(said))
        problem = "verified, but the revert had already started at the deadline"
    elif problem is not None and confirmation.connected:
        guard.revert_now(ctx.connect(task), armed)
    back = _await_revert(task, ctx, armed, before)
    if problem is None:
        problem = _reverted_alone(ctx.platform, confirmation, back)
    ctx.changes.rolled_back = problem
    return Result(
        host=task.host, changed=True, failed=True, result=f"rolled back: {problem}; {back.outcome}"
    )
