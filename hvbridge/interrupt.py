"""SIGINT and SIGTERM during a run: stop starting steps, finish the ones under way.

The first signal only asks: the runner starts no new batch and no host starts a new
step, but a step under way runs to its end, so a host inside a guarded restart
confirms or reverts (never left mid-change); then each host releases its lock and
the run writes its state and reports, and the command exits 130 (SIGINT) or 143
(SIGTERM). A second signal exits at once, naming the hosts that may still hold a lock.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from hvbridge.status import EXIT_SIGINT, EXIT_SIGTERM

EXIT_CODES: dict[int, int] = {signal.SIGINT: EXIT_SIGINT, signal.SIGTERM: EXIT_SIGTERM}


class Interrupt:
    """Whether a signal asked the run to stop; set from a signal handler, read by the
    runner's worker threads."""

    def __init__(self) -> None:
        self._asked = threading.Event()
        self.signum: int | None = None
        # The hosts that hold a lock right now; the runner sets it for its run.
        self.locked_hosts: Callable[[], list[str]] = list

    @property
    def requested(self) -> bool:
        return self._asked.is_set()

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else EXIT_CODES.get(self.signum, 128 + self.signum)

    def request(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
        self._asked.set()

    @contextmanager
    def handling(self) -> Iterator[Interrupt]:
        """SIGINT and SIGTERM handled as above for the duration (main thread only)."""
        previous = {signum: signal.signal(signum, self._handle) for signum in EXIT_CODES}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not self.requested:
            self.request(signum)
            _say(
                f"\n{name}: no new step starts; steps under way finish (a guarded restart"
                " confirms or reverts), then locks are released and state and reports"
                f" written. {name} again to exit at once.\n"
            )
            return
        hosts = sorted(self.locked_hosts())
        held = (
            "these hosts may still hold a hvbridge lock (the next run sees it stale,"
            f" or use --break-lock): {', '.join(hosts)}"
            if hosts
            else "no host holds a lock of this run"
        )
        _say(f"\n{name} again: exiting now; {held}\n")
        os._exit(EXIT_CODES.get(signum, 128 + signum))


def _say(text: str) -> None:
    # os.write, not sys.stderr: the handler may run while the main thread is inside a
    # write to stderr, and buffered streams are not reentrant.
    os.write(2, text.encode())
