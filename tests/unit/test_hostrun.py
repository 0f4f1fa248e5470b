"""HostRun: what a host carries from step to step; here, the network state it reuses."""

from __future__ import annotations

from typing import Any

import pytest

from hvbridge import hostrun
from hvbridge.hostrun import HostRun
from hvbridge.hosttask import files_only, host_task, is_read_only, keeps_network_state, read_only
from hvbridge.netstate import NetState

BEFORE = NetState(bridges=(), links=(), addresses=(), routes=())
AFTER = NetState(bridges=(), links=(), addresses=(), routes=(), bridges_from="ip link")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[NetState]:
    """Each read of the host's state returns the next of `AFTER`, and is counted."""
    done: list[NetState] = []

    def read(_conn: object, _platform: object) -> NetState:
        done.append(AFTER)
        return AFTER

    monkeypatch.setattr(hostrun, "read_netstate", read)
    monkeypatch.setattr(HostRun, "connect", lambda self, task, timeout=None: object())
    monkeypatch.setattr(HostRun, "platform", None)
    return done


def ctx() -> HostRun:
    return HostRun(run_id="r", model=None)  # type: ignore[arg-type]


def test_only_marked_tasks_are_read_only() -> None:
    def plain(task: Any) -> None:
        pass

    @read_only
    def marked(task: Any, ctx: HostRun) -> Any:
        pass

    @host_task
    def changes(task: Any, ctx: HostRun) -> Any:
        pass

    assert is_read_only(marked) and not is_read_only(plain) and not is_read_only(changes)


def test_a_step_that_writes_files_only_keeps_the_network_state() -> None:
    """network.push writes files, not the running network: apply after it reuses the
    state push read instead of reading it again (one round trip less per host)."""

    def plain(task: Any) -> None:
        pass

    @files_only
    def writes(task: Any, ctx: HostRun) -> Any:
        pass

    @read_only
    def reads(task: Any, ctx: HostRun) -> Any:
        pass

    @host_task
    def changes(task: Any, ctx: HostRun) -> Any:
        pass

    assert keeps_network_state(writes) and not is_read_only(writes)
    assert keeps_network_state(reads) and not keeps_network_state(plain)
    assert not keeps_network_state(changes)


def test_a_read_only_step_uses_the_state_read_by_the_step_before(reads: list[NetState]) -> None:
    run = ctx()
    run.network.step_begins("restart", keeps_network=False)
    run.remember_netstate(BEFORE)
    run.network.step_begins("verify", keeps_network=True)
    assert run.network_state(task=None) == (BEFORE, "restart")  # type: ignore[arg-type]
    run.network.step_begins("facts", keeps_network=True)
    assert run.network_state(task=None) == (BEFORE, "restart")  # type: ignore[arg-type]
    assert reads == []


def test_a_step_that_may_change_the_host_forgets_the_state(reads: list[NetState]) -> None:
    run = ctx()
    run.network.step_begins("restart", keeps_network=False)
    run.remember_netstate(BEFORE)
    run.network.step_begins("custom change", keeps_network=False)
    assert run.network.state is None
    assert run.network_state(task=None) == (AFTER, None)  # type: ignore[arg-type]
    assert len(reads) == 1


def test_a_changing_step_decides_from_the_state_the_steps_before_left(
    reads: list[NetState],
) -> None:
    """network.apply after network.push: the state push read (files only since) is what the
    network is when apply begins; apply asks for it by name, and once it may have changed
    the network, `network_state` reads afresh. A state left by a changing step is not
    offered to the next."""
    run = ctx()
    run.network.step_begins("push", keeps_network=False)
    assert run.network_state(task=None) == (AFTER, None)  # type: ignore[arg-type]
    run.network.step_begins("push", keeps_network=True)
    run.remember_netstate(BEFORE)
    run.network.step_begins("apply", keeps_network=False)
    assert run.network_state_at_start(task=None) == (BEFORE, "push")  # type: ignore[arg-type]
    assert len(reads) == 1
    assert run.network_state(task=None) == (AFTER, None)  # type: ignore[arg-type]
    assert len(reads) == 2
    run.network.step_begins("custom change", keeps_network=False)
    assert run.network_state_at_start(task=None) == (AFTER, "apply")  # type: ignore[arg-type]
    run.network.step_begins("another change", keeps_network=False)
    run.network.step_begins("yet another", keeps_network=False)
    assert run.network_state_at_start(task=None) == (AFTER, None)  # type: ignore[arg-type]
    assert len(reads) == 3


def test_a_step_reads_afresh_what_it_read_itself(reads: list[NetState]) -> None:
    run = ctx()
    run.network.step_begins("verify", keeps_network=True)
    assert run.network_state(task=None) == (AFTER, None)  # type: ignore[arg-type]
    assert run.network_state(task=None) == (AFTER, None)  # type: ignore[arg-type]
    assert len(reads) == 2
    run.network.step_begins("facts", keeps_network=True)
    assert run.network_state(task=None) == (AFTER, "verify")  # type: ignore[arg-type]
    assert len(reads) == 2


def test_the_step_clock_overruns_once() -> None:
    run = ctx()
    run.clock.begin("apply", -1.0)
    assert run.clock.overran() and not run.clock.overran()
    assert run.clock.timed_out == "step 'apply' timed out after -1s"
    assert run.clock.timed_out_step == "apply"
