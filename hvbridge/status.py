"""How a host ends a run, and what the run's exit status says: one definition for the
runner, the live output, the recap and the reports.

Each exit bit stands for exactly one host status, so the exit status and the counts
of a report always agree: bit 2 is set exactly when `counts.changed` > 0, and so on.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OK = "ok"  # nothing needed changing
    CHANGED = "changed"  # changed, and verified
    FAILED = "failed"  # stopped at a failed step; not rolled back
    ROLLED_BACK = "rolled back"  # a guarded change failed and the host is back as before
    NOT_RUN = "not run"  # never started: the failure budget or an interrupt stopped the run
    INTERRUPTED = "interrupted"  # started, then stopped between steps by SIGINT or SIGTERM

    @property
    def key(self) -> str:
        """The status as a JSON key or identifier: `rolled_back`, `not_run`."""
        return self.value.replace(" ", "_")


# Statuses a `--retry-failed` leaves alone: the host ended as the runbook wants it.
DONE = frozenset({Status.OK, Status.CHANGED})

EXIT_OK = 0
EXIT_INPUT = 1  # input or usage error: nothing was touched
EXIT_CHANGED = 2
EXIT_FAILED = 4
EXIT_ROLLED_BACK = 8
EXIT_STOPPED = 16  # the failure budget stopped the rollout
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

# The bit each host status sets; ok, not run and interrupted set none.
STATUS_BITS: dict[Status, int] = {
    Status.CHANGED: EXIT_CHANGED,
    Status.FAILED: EXIT_FAILED,
    Status.ROLLED_BACK: EXIT_ROLLED_BACK,
}
