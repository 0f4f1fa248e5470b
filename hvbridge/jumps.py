"""One SSH login to a jump host per run, shared by every hypervisor reached through it.

Without sharing, each connection to a hypervisor logs in to every jump hop again: two
logins per host per run (the second after the network restart), each a key exchange on
the jump host and on the controller. Inside `shared()` (the runner wraps a run in it),
the hops of a jump chain are opened once and every hypervisor's `direct-tcpip` channel
rides the last hop's transport (OpenSSH's ControlMaster does the same; paramiko's
transport is thread-safe for opening channels). Host keys are still checked: each hop's
when it is opened, and each hypervisor's by its own client inside its channel.

Opening is coalesced: threads asking for a chain while it is being opened wait for that
one attempt and share its result, a failure included (as a failure of their own host,
named as such). A chain found closed (the jump host dropped it) or that failed before is
opened again by the next thread that asks. Outside `shared()` nothing is shared: each
connection opens its own hops, as a plain Nornir script or the lab expects.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hvbridge.errors import HostError

log = logging.getLogger("hvbridge.ssh")


class Client(Protocol):
    """What the pool needs of a hop's client (paramiko.SSHClient)."""

    def close(self) -> None: ...


@dataclass
class _Chain:
    """One attempt at opening a jump chain, then its clients (first hop first)."""

    opener: str
    done: threading.Event = field(default_factory=threading.Event)
    clients: Sequence[Client] = ()
    error: BaseException | None = None


class JumpPool:
    """Open jump chains by key; `close()` closes every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chains: dict[Hashable, _Chain] = {}
        self._closed = False
        # Chains opened, for the trace and the tests: one per key unless one was lost.
        self.opened = 0

    def clients(
        self,
        key: Hashable,
        who: str,
        open_chain: Callable[[], Sequence[Client]],
        alive: Callable[[Sequence[Client]], bool],
    ) -> tuple[Sequence[Client], str]:
        """The chain's clients, opened by `open_chain` unless open and `alive` already.
        Returns them with who opened them. A failure of the attempt this call waited
        for is raised as `ChainFailed` (the opener's error and its name)."""
        stale: Sequence[Client] = ()
        with self._lock:
            if self._closed:
                raise RuntimeError("the jump pool is closed")
            chain = self._chains.get(key)
            mine = chain is None or (
                chain.done.is_set() and (chain.error is not None or not alive(chain.clients))
            )
            if mine:
                if chain is not None:
                    stale = chain.clients
                chain = _Chain(opener=who)
                self._chains[key] = chain
            assert chain is not None
        close_all(stale)
        if not mine:
            chain.done.wait()
            if chain.error is not None:
                raise ChainFailed(chain.opener, chain.error)
            return chain.clients, chain.opener
        try:
            chain.clients = open_chain()
        except BaseException as exc:
            chain.error = exc
            raise
        finally:
            chain.done.set()
        with self._lock:
            self.opened += 1
            closed = self._closed
        if closed:
            # Closed while this chain was being opened: it must not outlive the pool.
            close_all(chain.clients)
            raise RuntimeError("the jump pool is closed")
        log.debug("%s: jump chain opened, shared by every host through it", who)
        return chain.clients, who

    def close(self) -> None:
        with self._lock:
            self._closed = True
            chains = list(self._chains.values())
            self._chains.clear()
        for chain in chains:
            if chain.done.is_set():
                close_all(chain.clients)


class ChainFailed(HostError):
    """The attempt another host made at opening the chain this host needs failed
    (hvbridge.ssh tells it again as that host's own failure)."""

    def __init__(self, opener: str, error: BaseException) -> None:
        super().__init__(f"{opener}: {error}")
        self.opener = opener
        self.error = error


def close_all(clients: Sequence[Client]) -> None:
    # Last hop first: each hop carries the one after it.
    for client in reversed(clients):
        with contextlib.suppress(Exception):
            client.close()


_POOL: JumpPool | None = None
_USERS = 0
_POOL_LOCK = threading.Lock()


def active() -> JumpPool | None:
    """The pool of the run(s) in progress, if any. A process-wide value, not a context
    variable: Nornir's worker threads do not inherit the caller's context."""
    with _POOL_LOCK:
        return _POOL


@contextlib.contextmanager
def shared() -> Iterator[JumpPool]:
    """Share jump chains until the block ends, then close them. Blocks that overlap
    (nested, or runs in several threads) share one pool, closed when the last ends."""
    global _POOL, _USERS
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = JumpPool()
        pool = _POOL
        _USERS += 1
    try:
        yield pool
    finally:
        with _POOL_LOCK:
            _USERS -= 1
            last = _USERS == 0
            if last:
                _POOL = None
        if last:
            pool.close()
