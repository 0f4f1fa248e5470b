"""hvbridge.jumps: one jump chain per key for the threads of a run, opened once."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from hvbridge import jumps
from hvbridge.hops import Hop
from hvbridge.ssh import Connection, HostKeyError, SSHOptions


class FakeClient:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def close(self) -> None:
        self.closed = True


def alive(clients: Sequence[jumps.Client]) -> bool:
    return all(isinstance(c, FakeClient) and not c.closed for c in clients)


def test_threads_asking_at_once_share_one_opening() -> None:
    pool = jumps.JumpPool()
    opened: list[list[FakeClient]] = []
    release = threading.Event()

    def open_chain() -> list[FakeClient]:
        release.wait(5)
        chain = [FakeClient("jump1"), FakeClient("jump2")]
        opened.append(chain)
        return chain

    got: list[Sequence[jumps.Client]] = []

    def ask(who: str) -> None:
        got.append(pool.clients("k", who, open_chain, alive)[0])

    threads = [threading.Thread(target=ask, args=(f"hv{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(opened) == 1
    assert len(got) == 8 and all(chain is opened[0] for chain in got)
    assert pool.opened == 1
    pool.close()
    assert [c.closed for c in opened[0]] == [True, True]


def test_different_keys_are_different_chains() -> None:
    pool = jumps.JumpPool()
    a, _ = pool.clients("a", "hv1", lambda: [FakeClient("a")], alive)
    b, _ = pool.clients("b", "hv2", lambda: [FakeClient("b")], alive)
    again, who = pool.clients("a", "hv3", lambda: [FakeClient("other")], alive)
    assert a is again and a is not b
    assert who == "hv1"


def test_a_waiter_gets_the_openers_failure_and_the_next_caller_tries_again() -> None:
    pool = jumps.JumpPool()
    started, release = threading.Event(), threading.Event()

    def failing() -> list[FakeClient]:
        started.set()
        release.wait(5)
        raise ValueError("hv1 (root@a via jump): jump host jump: host key unknown")

    errors: dict[str, BaseException] = {}

    def ask(who: str) -> None:
        try:
            pool.clients("k", who, failing, alive)
        except BaseException as exc:
            errors[who] = exc

    opener = threading.Thread(target=ask, args=("hv1",))
    opener.start()
    started.wait(5)
    waiter = threading.Thread(target=ask, args=("hv2",))
    waiter.start()
    # The waiter is blocked on the first attempt, not opening one of its own.
    waiter.join(0.2)
    assert waiter.is_alive()
    release.set()
    opener.join(5)
    waiter.join(5)
    assert isinstance(errors["hv1"], ValueError)
    failed = errors["hv2"]
    assert isinstance(failed, jumps.ChainFailed)
    assert failed.opener == "hv1" and failed.error is errors["hv1"]
    # A later caller does not inherit the old failure: it opens the chain again.
    chain, who = pool.clients("k", "hv3", lambda: [FakeClient("j")], alive)
    assert who == "hv3" and alive(chain)


def test_a_chain_found_dead_is_closed_and_opened_again() -> None:
    pool = jumps.JumpPool()
    first, _ = pool.clients("k", "hv1", lambda: [FakeClient("j")], alive)
    first[0].close()
    second, who = pool.clients("k", "hv2", lambda: [FakeClient("j")], alive)
    assert second is not first and who == "hv2" and pool.opened == 2


def test_a_closed_pool_opens_nothing() -> None:
    pool = jumps.JumpPool()
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.clients("k", "hv1", lambda: [FakeClient("j")], alive)


def test_shared_blocks_share_one_pool_closed_by_the_last() -> None:
    assert jumps.active() is None
    with jumps.shared() as outer:
        chain, _ = outer.clients("k", "hv1", lambda: [FakeClient("j")], alive)
        with jumps.shared() as inner:
            assert inner is outer and jumps.active() is outer
        assert alive(chain)
    assert jumps.active() is None
    assert not alive(chain)


def test_a_failure_another_host_met_on_the_jump_host_is_told_as_this_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jump = Hop("198.18.0.1")
    options = SSHOptions(known_hosts=Path("/nonexistent"), jump=(jump,), name="hv2")
    conn = Connection(Hop("198.18.0.2"), options)
    first = "hv1 (root@198.18.0.3 via root@198.18.0.1:22)"
    why = ": jump host root@198.18.0.1:22: host key unknown"
    pool = jumps.JumpPool()

    def failed(*_: object) -> None:
        raise jumps.ChainFailed(first, HostKeyError(first + why))

    monkeypatch.setattr(pool, "clients", failed)
    monkeypatch.setattr(jumps, "active", lambda: pool)
    with pytest.raises(HostKeyError) as raised:
        conn.open()
    assert str(raised.value) == f"{conn.label}{why}"
    assert conn.label == "hv2 (root@198.18.0.2 via root@198.18.0.1:22)"
