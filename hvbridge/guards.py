"""Guards other runs left on a host, resolved under the lock before this run changes it.

A guard still `armed` under our lock belongs to a run that is gone (a live run holds
the lock until it has cancelled or fired its guard): the host is in a change nobody
confirmed, and that guard would revert it at its deadline, under whatever this run
did since. So it fires now (its own revert script, which wins or loses the same
`armed` -> `firing` rename as the guard), and this run waits for the revert and goes
on from the restored state, re-applying normally. A `firing` guard is waited for. A
guard is never cancelled by a run that did not arm it.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass

from nornir.core.task import Task

from hvbridge import guard
from hvbridge.hostrun import HostRun
from hvbridge.remote import STATE_DIR, run_dir
from hvbridge.ssh import SSHError

RUNS = f"{STATE_DIR}/runs"
# How long a revert (network stop, files back, network start) may take to finish.
REVERT_WAIT = 180.0
RETRY_EVERY = 1.0
# How long a restart left running by the gone run may still take.
RESTART_WAIT = 120.0


class GuardError(SSHError):
    """Another run's guard could not be resolved: reported like a connection failure,
    in one line, and the host is left alone."""


@dataclass(frozen=True)
class OtherGuard:
    run_id: str
    state: str  # armed or firing
    directory: str


def parse_found(text: str, own: str) -> list[OtherGuard]:
    """`STATE DIRECTORY/` lines, as FIND prints them; this run's own left out."""
    found = []
    for line in text.splitlines():
        state, _, directory = line.partition(" ")
        directory = directory.rstrip("/")
        if state in ("armed", "firing") and directory and directory != own:
            found.append(OtherGuard(directory.rsplit("/", 1)[-1], state, directory))
    return found


# A guard that has `reverted` is done, whatever else its directory holds.
FIND = (
    f'for d in {shlex.quote(RUNS)}/*/; do [ -e "$d/reverted" ] && continue;'
    ' for s in firing armed; do [ -e "$d/$s" ] && { echo "$s $d"; break; }; done; done; true'
)


def resolve(task: Task, ctx: HostRun) -> list[str]:
    """Each other run's live guard resolved, one note each for the host's outcome.
    Check mode changes nothing: it only says what a real run would do."""
    conn = ctx.connect(task)
    found = conn.run(FIND)
    if not found.ok:
        raise GuardError(
            f"{task.host.name}: cannot look for other runs' guards: {found.stderr.strip()}"
        )
    others = parse_found(found.stdout, run_dir(ctx.run_id))
    notes = []
    for other in others:
        if ctx.check:
            notes.append(
                f"run {other.run_id} left its guard {other.state} on this host: it reverts the"
                " host to before that run; a real run waits for it (firing it first if armed)"
            )
            continue
        if other.state == "armed":
            armed = guard.Armed(0.0, other.directory)
            # A restart of that run still going would race the revert's stop and start.
            guard.wait_for_restart(conn, armed, RESTART_WAIT)
            # Its own script: the rename inside decides against the sleeping guard.
            guard.revert_now(conn, armed)
            how = f"run {other.run_id} is gone and left its guard armed: fired it now"
        else:
            how = f"run {other.run_id}'s guard was reverting this host: waited for it"
        _wait_reverted(task, ctx, other)
        notes.append(
            f"{how}; the host was reverted by run {other.run_id} to its state before that run"
            " (this run applies from there)"
        )
    return notes


def _wait_reverted(task: Task, ctx: HostRun, other: OtherGuard) -> None:
    """Until the revert is done; the network restarts under it, so connections may drop."""
    until = time.time() + REVERT_WAIT
    ctx.emit("waiting", what=f"revert by run {other.run_id}'s guard", until=until)
    give_up = time.monotonic() + REVERT_WAIT
    last_error = ""
    try:
        while time.monotonic() < give_up:
            try:
                if guard.reverted(ctx.connect(task), other.directory):
                    return
            except SSHError as exc:
                last_error = f": {exc}"
                ctx.disconnect(task)
            time.sleep(RETRY_EVERY)
    finally:
        ctx.emit("waiting", what=None)
    raise GuardError(
        f"{task.host.name}: the guard of run {other.run_id} did not finish its revert within"
        f" {REVERT_WAIT:.0f}s (see {other.directory}/revert.log){last_error}"
    )
