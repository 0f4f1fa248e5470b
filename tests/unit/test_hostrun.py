"""HostRun: what a host carries from step to step; here, the network state it reuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hvbridge import hostrun
from hvbridge.hostrun import HostRun, files_only, is_read_only, keeps_network_state, read_only
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
    return done


def ctx() -> HostRun:
    return HostRun(run_id="r", project=Path("."), model=None)


def test_only_marked_tasks_are_read_only() -> None:
    def plain(task: Any, ctx: HostRun) -> None:
        pass

    @read_only
    def marked(task: Any, ctx: HostRun) -> None:
        pass

    assert is_read_only(marked) and not is_read_only(plain)


def test_a_step_that_writes_files_only_keeps_the_network_state() -> None:
    """network.push writes files, not the running network: apply after it reuses the
    state push read instead of reading it again (one round trip less per host)."""

    def plain(task: Any, ctx: HostRun) -> None:
        pass

    @files_only
    def writes(task: Any, ctx: HostRun) -> None:
        pass

    @read_only
    def reads(task: Any, ctx: HostRun) -> None:
        pass

    assert keeps_network_state(writes) and not is_read_only(writes)
    assert keeps_network_state(reads) and not keeps_network_state(plain)


def test_a_read_only_step_uses_the_state_read_by_the_step_before(reads: list[NetState]) -> None:
    run = ctx()
    run.begin_step("restart", 60)
    run.remember_netstate(BEFORE)
    run.begin_step("verify", 60, read_only=True)
    assert run.network_state(task=None) == (BEFORE, "restart")  # type: ignore[arg-type]
    run.begin_step("facts", 60, read_only=True)
    assert run.network_state(task=None) == (BEFORE, "restart")  # type: ignore[arg-type]
    assert reads == []


def test_a_step_that_may_change_the_host_forgets_the_state(reads: list[NetState]) -> None:
    run = ctx()
    run.begin_step("restart", 60)
    run.remember_netstate(BEFORE)
    run.begin_step("custom change", 60)
    assert run.netstate is None
    assert run.network_state(task=None) == (AFTER, None)  # type: ignore[arg-type]
    assert len(reads) == 1


def test_a_step_reads_afresh_what_it_read_itself(reads: list[NetState]) -> None:
    run = ctx()
    run.begin_step("verify", 60, read_only=True)
    assert run.network_state(task=None) == (AFTER, None)  # type: ignore[arg-type]
    assert run.network_state(task=None) == (AFTER, None)  # type: ignore[arg-type]
    assert len(reads) == 2
    run.begin_step("facts", 60, read_only=True)
    assert run.network_state(task=None) == (AFTER, "verify")  # type: ignore[arg-type]
    assert len(reads) == 2
