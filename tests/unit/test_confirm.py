"""hvbridge.apply's commit-confirmed logic against a scripted host and a fake clock:
`_confirm`, `_await_revert` and `guarded_restart`'s outcomes, every branch, no sleeping."""

from __future__ import annotations

import pytest
from nornir.core.task import Result

from hvbridge import apply, gateways, guard
from hvbridge.events import Event
from hvbridge.hostrun import HostRun
from hvbridge.hoststate import parse_state
from hvbridge.netstate import NetState
from hvbridge.ssh import SSHError
from tests.unit.guard_fakes import (
    EPOCH,
    GATEWAY,
    LABEL,
    TASK,
    Clock,
    Conn,
    Reach,
    host_run,
    looked,
    ok,
    state_text,
)

RUN_DIR = "/var/lib/hvbridge/runs/run-1"
LOST = SSHError(f"{LABEL}: cannot connect: [Errno 113] No route to host")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(apply, "time", fake)
    monkeypatch.setattr(guard, "time", fake)
    return fake


def before() -> NetState:
    return parse_state(LABEL, state_text("unbridged"))


def _confirm(
    ctx: HostRun,
    answered: set[str] | None = None,
    deadline: float = 60.0,
    lost: str | None = None,
) -> apply.Confirmation:
    armed = guard.Armed(EPOCH + deadline, RUN_DIR, lost)
    plan = gateways.planned(ctx.model)
    probed = (GATEWAY, {GATEWAY} if answered is None else answered)
    return apply._confirm(TASK, ctx, armed, plan, probed, deadline)


# _confirm


def test_confirm_verified_at_the_first_reconnection(clock: Clock) -> None:
    conn = Conn({"look": [looked(rc=0)]})
    reach = Reach(clock, [conn])
    seen = _confirm(host_run(reach))
    assert (seen.problem, seen.connected, seen.armed, seen.warnings) == (None, True, True, ())
    assert seen.state is not None and "br0" in [b.name for b in seen.state.bridges]
    assert conn.kinds() == ["look"]
    assert clock.slept == []


def test_confirm_retries_a_failed_reconnection_then_verifies(clock: Clock) -> None:
    conn = Conn({"look": [looked(rc=0)]})
    reach = Reach(clock, [LOST, LOST, conn])
    seen = _confirm(host_run(reach))
    assert (seen.problem, seen.connected) == (None, True)
    assert reach.attempts == 3
    assert clock.slept == [apply.RETRY_EVERY, apply.RETRY_EVERY]
    # Each attempt gets only the time left before the deadline.
    assert reach.timeouts == [60.0, 60.0 - 2 - 1, 60.0 - 2 * (2 + 1)]


def test_confirm_retries_a_connection_lost_while_looking(clock: Clock) -> None:
    dies = Conn({"look": [SSHError(f"{LABEL}: connection closed mid-command")]})
    reach = Reach(clock, [dies, Conn({"look": [looked(rc=0)]})])
    assert _confirm(host_run(reach)).problem is None
    assert reach.attempts == 2


def test_confirm_never_reconnected_before_the_deadline_keeps_the_last_error(
    clock: Clock,
) -> None:
    reach = Reach(clock, [LOST])
    seen = _confirm(host_run(reach), deadline=20.0)
    assert seen == apply.Confirmation(None, False, last_error=str(LOST))
    assert clock.now >= 20.0


def test_confirm_never_reconnected_says_why_the_arming_session_was_lost(clock: Clock) -> None:
    reach = Reach(clock, [LOST])
    clock.now = 30.0  # the wait for the restart took the time there was
    lost = "the session that armed the guard was lost: connection closed"
    seen = _confirm(host_run(reach), deadline=20.0, lost=lost)
    assert seen == apply.Confirmation(None, False, last_error=lost)
    assert reach.attempts == 0


def test_confirm_guard_never_armed(clock: Clock) -> None:
    reach = Reach(clock, [Conn({"look": [looked(guard.NOT_ARMED)]})])
    seen = _confirm(host_run(reach))
    assert (seen.problem, seen.connected, seen.armed) == ("the guard was never armed", True, False)


@pytest.mark.parametrize("state", ["reverted", "firing"])
def test_confirm_guard_no_longer_armed_the_host_reverted(clock: Clock, state: str) -> None:
    reach = Reach(clock, [LOST, Conn({"look": [looked(state)]})])
    seen = _confirm(host_run(reach))
    # What is seen now is the old state: not verified, and not connected to the new one.
    assert seen == apply.Confirmation(None, False, last_error=str(LOST))


def test_confirm_restart_not_finished(clock: Clock) -> None:
    reach = Reach(clock, [Conn({"look": [looked(rc=None)]})])
    seen = _confirm(host_run(reach))
    assert (seen.problem, seen.connected) == (
        "service network restart did not finish in time", True,
    )  # fmt: skip


@pytest.mark.parametrize("rc", [1, 6])
def test_confirm_restart_failed_says_its_status_and_log_tail(clock: Clock, rc: int) -> None:
    log = "".join(f"line {n}\n" for n in range(1, 7))
    reach = Reach(clock, [Conn({"look": [looked(rc=rc, log=log)]})])
    seen = _confirm(host_run(reach))
    assert seen.problem == (
        f"service network restart failed (exit {rc}): line 3 | line 4 | line 5 | line 6"
    )
    assert seen.connected


def test_confirm_verification_problems(clock: Clock) -> None:
    # The restart ended well, but the host is as before: no bridge.
    reach = Reach(clock, [Conn({"look": [looked(rc=0, scenario="unbridged")]})])
    seen = _confirm(host_run(reach))
    assert seen.connected
    assert seen.problem is not None
    assert seen.problem.startswith("br0: bridge is missing (brctl show: no bridges); ")
    assert "default route" in seen.problem


def test_confirm_a_gateway_that_answered_before_and_not_after(clock: Clock) -> None:
    reach = Reach(clock, [Conn({"look": [looked(rc=0, silent=[GATEWAY])]})])
    seen = _confirm(host_run(reach))
    assert seen.problem == f"gateway {GATEWAY} answered ping before the change, not after"


def test_confirm_a_gateway_silent_before_and_after_is_a_warning(clock: Clock) -> None:
    reach = Reach(clock, [Conn({"look": [looked(rc=0, silent=[GATEWAY])]})])
    seen = _confirm(host_run(reach), answered=set())
    assert seen.problem is None
    assert seen.warnings == (
        f"gateway {GATEWAY} answered no ping, neither before nor after the restart",
    )


def test_confirm_a_silent_gateway_not_verified_is_a_warning(clock: Clock) -> None:
    reach = Reach(clock, [Conn({"look": [looked(rc=0, silent=[GATEWAY])]})])
    seen = _confirm(host_run(reach, verify_gateway=False))
    assert seen.problem is None
    assert seen.warnings == (
        f"gateway {GATEWAY} does not answer ping after the restart"
        " (not checked: verify_gateway is false for br0)",
    )


# _await_revert


def _await(clock: Clock, reach: Reach) -> apply.Reverted:
    armed = guard.Armed(EPOCH + 60, RUN_DIR)
    return apply._await_revert(TASK, host_run(reach), armed, before())


def _back(scenario: str, rc: str = "0\n") -> Conn:
    return Conn({
        "reverted": [ok(status=0)],
        "restart_status": [ok(rc)],
        "state": [ok(state_text(scenario))],
    })  # fmt: skip


def test_await_revert_confirms_the_host_is_as_before(clock: Clock) -> None:
    back = _await(clock, Reach(clock, [_back("unbridged", "1\nbr0: no such device\n")]))
    assert back == apply.Reverted(
        "reverted: addresses and default route are as before", 1, "br0: no such device\n"
    )


def test_await_revert_waits_until_the_host_has_reverted(clock: Clock) -> None:
    not_yet = Conn({"reverted": [ok(status=1)]})
    reach = Reach(clock, [LOST, not_yet, _back("unbridged")])
    back = _await(clock, reach)
    assert back.outcome == "reverted: addresses and default route are as before"
    assert reach.attempts == 3
    assert clock.slept == [apply.RETRY_EVERY, apply.RETRY_EVERY]


def test_await_revert_says_how_the_host_differs(clock: Clock) -> None:
    back = _await(clock, Reach(clock, [_back("bridged")]))
    assert back.outcome == (
        "reverted, but not as before: missing default via 198.18.128.1 dev eth0;"
        " missing eth0 198.18.129.1/17; unexpected br0 198.18.129.1/17;"
        " unexpected default via 198.18.128.1 dev br0"
    )
    assert back.restart_rc == 0


def test_await_revert_never_seen_back(clock: Clock) -> None:
    back = _await(clock, Reach(clock, [LOST]))
    assert back == apply.Reverted(
        f"NOT confirmed back within {apply.REVERT_GRACE:.0f}s after the deadline: {LOST}"
    )
    # It gave up only after the deadline (60 s from now) and the grace after it.
    assert clock.now >= 60 + apply.REVERT_GRACE


# guarded_restart: how the pieces add up


class Events:
    """The host's event sink."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    def emit(self, event: Event) -> None:
        self.seen.append(event)

    def close(self) -> None:
        pass


def _restart(clock: Clock, reach: Reach) -> tuple[Result, HostRun]:
    ctx = host_run(reach)
    events = Events()
    ctx.sink = events
    result = apply.guarded_restart(TASK, ctx, 60, before())
    # The wait is announced with the time the host reverts at, and its end too.
    waits = [(e["what"], e.get("until")) for e in events.seen if e["event"] == "waiting"]
    assert waits == [("revert unless confirmed", EPOCH + 60), (None, None)]
    return result, ctx


def _first(arm: object = None, **more: list[object]) -> Conn:
    """The session that probes the gateways and arms the guard."""
    replies = {"probe": [ok()], "arm": [arm or ok("armed\nrestarted\n")], **more}
    return Conn(replies)  # type: ignore[arg-type]


def test_guarded_restart_verified_and_cancelled(clock: Clock) -> None:
    first = _first()
    second = Conn({"look": [looked(rc=0)], "cancel": [ok("cancelled\n")]})
    result, ctx = _restart(clock, Reach(clock, [first, second]))
    assert (result.changed, result.failed) == (True, False)
    assert str(result.result).startswith("network restarted and verified in ")
    assert str(result.result).endswith("s; revert cancelled")
    assert first.kinds() == ["probe", "arm"]
    assert second.kinds() == ["look", "cancel"]
    # The state verified is what the next read-only steps use.
    assert ctx.network.state is not None and ctx.changes.rolled_back is None


def test_guarded_restart_says_its_warnings(clock: Clock) -> None:
    first = _first(probe=[ok(f"{GATEWAY}\n")])
    second = Conn({"look": [looked(rc=0, silent=[GATEWAY])], "cancel": [ok("cancelled\n")]})
    result, _ = _restart(clock, Reach(clock, [first, second]))
    assert str(result.result).endswith(
        f"; warning: gateway {GATEWAY} answered no ping, neither before nor after the restart"
    )


def test_guarded_restart_cancel_loses_the_race(clock: Clock) -> None:
    second = Conn({"look": [looked(rc=0)], "cancel": [ok("firing\n")]})
    reach = Reach(clock, [_first(), second, _back("unbridged")])
    result, ctx = _restart(clock, reach)
    assert (result.changed, result.failed) == (True, True)
    assert ctx.changes.rolled_back == "verified, but the revert had already started at the deadline"
    assert result.result == (
        "rolled back: verified, but the revert had already started at the deadline;"
        " reverted: addresses and default route are as before"
    )


def test_guarded_restart_reverts_at_once_when_verification_fails(clock: Clock) -> None:
    second = Conn({"look": [looked(rc=0, silent=[GATEWAY])], "revert_now": [ok()]})
    reach = Reach(clock, [_first(), second, _back("unbridged")])
    result, ctx = _restart(clock, reach)
    assert second.kinds() == ["look", "revert_now"]
    assert (
        ctx.changes.rolled_back == f"gateway {GATEWAY} answered ping before the change, not after"
    )
    assert result.failed
    # Reverted now, not at the deadline: no sleeping on the fake clock.
    assert clock.slept == []


def test_guarded_restart_guard_never_armed(clock: Clock) -> None:
    first = _first(arm=SSHError(f"{LABEL}: connection lost"))
    second = Conn({"look": [looked(guard.NOT_ARMED)]})
    result, ctx = _restart(clock, Reach(clock, [first, second]))
    assert (result.changed, result.failed) == (False, True)
    assert result.result == (
        "the session was lost while arming the revert: the guard is not armed and the"
        " network was not restarted (the new files are written; run again)"
    )
    assert ctx.changes.rolled_back is None


def test_guarded_restart_reverted_alone_after_the_restart_failed(clock: Clock) -> None:
    # The session that armed died under the restart; the host stayed out of reach until
    # after its own revert at the deadline (60 s), which kept the restart's failure.
    first = _first(arm=SSHError(f"{LABEL}: connection closed mid-command"))
    back = _back("unbridged", "1\nbr0: no such device\n")
    result, ctx = _restart(clock, Reach(clock, [first, back], down=(3.0, 70.0, LOST)))
    assert ctx.changes.rolled_back == "service network restart failed (exit 1): br0: no such device"
    assert result.result == (
        "rolled back: service network restart failed (exit 1): br0: no such device;"
        " reverted: addresses and default route are as before"
    )


def test_guarded_restart_reverted_alone_says_the_last_connection_error(clock: Clock) -> None:
    reach = Reach(clock, [_first(), _back("unbridged")], down=(3.0, 70.0, LOST))
    _, ctx = _restart(clock, reach)
    assert ctx.changes.rolled_back == f"could not reconnect and verify in time: {LOST}"


def test_guarded_restart_reverted_alone_before_the_restart_finished(clock: Clock) -> None:
    # Back only after the host's revert, with no connection error kept: the restart had
    # written no status by the deadline.
    reverted = Conn({"look": [looked("reverted")]})
    reach = Reach(clock, [_first(), reverted, _back("unbridged", "none\n")])
    _, ctx = _restart(clock, reach)
    assert ctx.changes.rolled_back == "service network restart had not finished at the deadline"


def test_guarded_restart_reverted_alone_otherwise(clock: Clock) -> None:
    reverted = Conn({"look": [looked("reverted")]})
    result, ctx = _restart(clock, Reach(clock, [_first(), reverted, _back("unbridged")]))
    assert ctx.changes.rolled_back == (
        "the host reverted at the deadline before the controller could verify it"
    )
    assert result.failed


def test_guarded_restart_never_seen_back(clock: Clock) -> None:
    result, ctx = _restart(clock, Reach(clock, [_first(), LOST]))
    assert ctx.changes.rolled_back == f"could not reconnect and verify in time: {LOST}"
    assert str(result.result).endswith(
        f"; NOT confirmed back within {apply.REVERT_GRACE:.0f}s after the deadline: {LOST}"
    )
