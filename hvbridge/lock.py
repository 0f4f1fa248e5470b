"""A lock on each host for the whole run, so two runs never work on one host at once.

The lock is a directory (`mkdir` is atomic on every filesystem EL6 has) holding a
`holder` file: run id, user, controller host, controller PID, since. The run
touches it after each step (its heartbeat). A lock is stale when its heartbeat is
older than STALE_AFTER, or when it was taken from this controller by a process
that no longer exists. A held lock refuses the run with who holds it and since
when; `--break-lock` removes it first, saying whose it was.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shlex
import socket
import time
from dataclasses import dataclass

import paramiko

from hvbridge.errors import HostError
from hvbridge.ssh import Connection, SSHError

LOCK_DIR = "/var/lock/hvbridge.lock"
HOLDER = f"{LOCK_DIR}/holder"
STALE_AFTER = 900.0


class LockError(HostError):
    pass


@dataclass(frozen=True)
class Holder:
    run_id: str
    user: str
    controller: str
    pid: int
    since: float

    @classmethod
    def me(cls, run_id: str) -> Holder:
        return cls(run_id, getpass.getuser(), socket.gethostname(), os.getpid(), time.time())

    def line(self) -> str:
        return f"{self.run_id} {self.user} {self.controller} {self.pid} {self.since:.0f}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        fields = text.split()
        if len(fields) != 5 or not fields[3].isdigit():
            return None
        try:
            since = float(fields[4])
        except ValueError:
            return None
        return cls(fields[0], fields[1], fields[2], int(fields[3]), since)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"run {self.run_id} ({self.user}@{self.controller}, pid {self.pid}) since {when}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staleness(holder: Holder | None, heartbeat_age: float) -> str | None:
    """Why the lock is stale, or None when its run may still be alive."""
    if holder is None:
        return "its holder file is unreadable"
    if heartbeat_age > STALE_AFTER:
        return f"no heartbeat for {heartbeat_age:.0f}s"
    if holder.controller == socket.gethostname() and not _pid_alive(holder.pid):
        return f"process {holder.pid} on {holder.controller} is gone"
    return None


def acquire(conn: Connection, me: Holder, *, break_lock: bool = False) -> str | None:
    """Take the lock; returns a note when a lock was broken. LockError when held."""
    if _take_over_sftp(conn, me):
        return None
    d, parent = shlex.quote(LOCK_DIR), shlex.quote(os.path.dirname(LOCK_DIR))
    take = (
        f"{{ [ -d {parent} ] || mkdir -p {parent}; }} && if mkdir {d} 2>/dev/null; then"
        f" echo {shlex.quote(me.line())} > {d}/holder && echo TAKEN; else"
        f" echo HELD; cat {d}/holder 2>/dev/null; echo; echo AGE $(( $(date +%s) -"
        f" $(stat -c %Y {d}/holder 2>/dev/null || stat -c %Y {d}) )); fi"
    )
    first = conn.run(take)
    if first.stdout.startswith("TAKEN"):
        return None
    lines = first.stdout.splitlines()
    holder = Holder.parse(lines[1]) if len(lines) > 1 else None
    age = next((float(line.split()[1]) for line in lines if line.startswith("AGE ")), 0.0)
    whose = holder.describe() if holder else "an unknown run"
    stale = staleness(holder, age)
    # Certainly dead (its process is gone from this very controller): taken over without
    # --break-lock, so that a rerun after a killed controller resolves what it left.
    dead_here = (
        holder is not None
        and holder.controller == socket.gethostname()
        and not _pid_alive(holder.pid)
    )
    if not (break_lock or dead_here):
        state = f"stale: {stale}" if stale else "it may still be running"
        raise LockError(
            f"{conn.label}: locked by {whose} ({state}); if that run is dead, run again"
            f" with --break-lock"
        )
    conn.run(f"rm -rf {d}")
    if not conn.run(take).stdout.startswith("TAKEN"):
        raise LockError(f"{conn.label}: another run took the lock just after it was broken")
    verb = "broke" if break_lock else "took over"
    return f"{verb} the lock of {whose}" + (f" ({stale})" if stale else "")


def heartbeat(conn: Connection, me: Holder) -> None:
    d = shlex.quote(LOCK_DIR)
    conn.run(f"{_holds(me)} && touch {d}/holder")


def release(conn: Connection, me: Holder) -> None:
    """Remove the lock only if it is still this run's."""
    if _release_over_sftp(conn, me):
        return
    d = shlex.quote(LOCK_DIR)
    conn.run(f"{_holds(me)} && rm -rf {d}")


# Root's sessions take a free lock and release it over SFTP: mkdir is as atomic there,
# and no program starts on the host (each costs milliseconds of CPU on a busy one).
# Anything else (a held lock, no /var/lock, a sudo user, whose SFTP is not root) goes
# the shell's way, which also says who holds the lock and since when.


def _sftp(conn: Connection) -> paramiko.SFTPClient | None:
    """root's SFTP session, or None (a sudo user, or a host that offers no SFTP)."""
    if conn.uses_sudo:
        return None
    try:
        return conn.sftp()
    except SSHError:
        return None


def _take_over_sftp(conn: Connection, me: Holder) -> bool:
    sftp = _sftp(conn)
    if sftp is None:
        return False
    try:
        sftp.mkdir(LOCK_DIR, 0o755)
    except OSError:
        return False
    try:
        with sftp.open(HOLDER, "w") as handle:
            handle.write(me.line() + "\n")
    except OSError as exc:
        with contextlib.suppress(OSError):
            sftp.rmdir(LOCK_DIR)
        raise LockError(f"{conn.label}: cannot write {HOLDER}: {exc}") from exc
    return True


def _release_over_sftp(conn: Connection, me: Holder) -> bool:
    """True when done: released, or not this run's to release."""
    sftp = _sftp(conn)
    if sftp is None:
        return False
    try:
        with sftp.open(HOLDER, "r") as handle:
            holder = Holder.parse(handle.read().decode(errors="replace"))
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if holder is None or holder.run_id != me.run_id:
        return True
    try:
        sftp.remove(HOLDER)
        sftp.rmdir(LOCK_DIR)
    except OSError:
        return False
    return True


def _holds(me: Holder) -> str:
    """Shell: true when the lock's holder is this run (`read`, a builtin: no process)."""
    d = shlex.quote(LOCK_DIR)
    return f'read -r run rest 2>/dev/null < {d}/holder && [ "$run" = {shlex.quote(me.run_id)} ]'
