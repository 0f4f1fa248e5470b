"""The commit-confirmed guard around a network restart, on the host itself.

Before the restart, `arm()` starts a detached process (its own session, so the
SSH session dying does not end it) that sleeps until the deadline and then
reverts: `service network stop` with the new files (so a new bridge goes
down), the files of `before/` put back and the ones the run created removed,
`service network start`. `cancel()` disarms it once the controller has
reconnected and verified. Whoever renames `armed` first wins: the guard
(`armed` -> `firing`) or the controller (`armed` -> `cancelled`), so the two
can never both act. EL6 has no systemd, so this is plain POSIX sh.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from hvbridge.remote import run_dir, upload
from hvbridge.ssh import Connection, SSHError

SCRIPTS_DIR = "/etc/sysconfig/network-scripts"


@dataclass(frozen=True)
class Armed:
    pid: int
    deadline: float  # the host's clock, seconds since the epoch
    run_dir: str


def revert_script(directory: str) -> str:
    d = shlex.quote(directory)
    return f"""#!/bin/sh
# hvbridge: put the network files back as they were before this run, and restart.
mv {d}/armed {d}/firing 2>/dev/null || exit 0
{{
    echo "revert started $(date '+%F %T')"
    service network stop
    if [ -f {d}/created ]; then
        while read -r path; do rm -f -- "$path"; done < {d}/created
    fi
    for saved in {d}/before/*; do
        [ -e "$saved" ] && cp -p -- "$saved" {SCRIPTS_DIR}/
    done
    service network start
    echo "revert finished $(date '+%F %T') rc=$?"
}} >> {d}/revert.log 2>&1
touch {d}/reverted
"""


def guard_script(directory: str, seconds: int) -> str:
    d = shlex.quote(directory)
    return f"""#!/bin/sh
# hvbridge guard: revert unless cancelled within {seconds}s.
sleep {seconds}
exec sh {d}/revert.sh
"""


def arm(conn: Connection, run_id: str, seconds: int) -> Armed:
    directory = run_dir(run_id)
    d = shlex.quote(directory)
    made = conn.run(f"mkdir -p {d}/before && rm -f {d}/cancelled {d}/firing {d}/reverted")
    if not made.ok:
        raise SSHError(f"{conn.target.host}: cannot prepare {directory}: {made.stderr.strip()}")
    upload(conn, f"{directory}/revert.sh", revert_script(directory), 0o700)
    upload(conn, f"{directory}/guard.sh", guard_script(directory, seconds), 0o700)
    started = conn.run(
        # `touch ... || exit` stays a separate command: `a && b &` would background the
        # pair in a subshell that keeps this session's output open until the guard ends.
        f"touch {d}/armed || exit 1; "
        f"setsid sh {d}/guard.sh < /dev/null > /dev/null 2>&1 & "
        f"pid=$!; now=$(date +%s); echo $pid > {d}/guard.pid; "
        f"echo $((now + {seconds})) > {d}/guard.deadline; echo $pid $((now + {seconds}))"
    )
    fields = started.stdout.split()
    if not started.ok or len(fields) != 2:
        raise SSHError(f"{conn.target.host}: cannot arm the revert: {started.stderr.strip()}")
    return Armed(int(fields[0]), float(fields[1]), directory)


def restart_detached(conn: Connection, run_id: str) -> None:
    """`service network restart`, in its own session, output and status in the run dir."""
    d = shlex.quote(run_dir(run_id))
    inner = f"service network restart > {d}/restart.log 2>&1; echo $? > {d}/restart.rc"
    result = conn.run(
        f"rm -f {d}/restart.rc; setsid sh -c {shlex.quote(inner)} < /dev/null > /dev/null 2>&1 &"
    )
    if not result.ok:
        raise SSHError(f"{conn.target.host}: cannot start the restart: {result.stderr.strip()}")


def restart_outcome(conn: Connection, run_id: str, wait: float) -> tuple[int, str] | None:
    """The restart's exit status and log once it has finished; None if still running."""
    d = shlex.quote(run_dir(run_id))
    # The host waits for it, in one round trip, rather than the controller polling.
    ticks = max(1, int(wait / 0.2))
    result = conn.run(
        f"i=0; while [ ! -s {d}/restart.rc ] && [ $i -lt {ticks} ]; do sleep 0.2; i=$((i+1));"
        f" done; cat {d}/restart.rc 2>/dev/null && cat {d}/restart.log",
        timeout=wait + 30,
    )
    if result.ok and result.stdout.strip():
        rc, _, log = result.stdout.partition("\n")
        return int(rc.strip()), log
    return None


def _kill_guard(armed: Armed) -> str:
    """Its whole process group (setsid made the guard a group leader): the guard's
    `sleep` child would otherwise outlive it by the full timeout."""
    return f"grep -q guard.sh /proc/{armed.pid}/cmdline 2>/dev/null && kill -- -{armed.pid}"


def cancel(conn: Connection, armed: Armed) -> bool:
    """Disarm; False when the guard had already started to revert."""
    d = shlex.quote(armed.run_dir)
    result = conn.run(
        f"if mv {d}/armed {d}/cancelled 2>/dev/null; then "
        f"{_kill_guard(armed)}; echo cancelled; "
        f"else echo firing; fi"
    )
    return result.stdout.strip().endswith("cancelled")


def revert_now(conn: Connection, armed: Armed) -> None:
    """Revert at once (verification failed) instead of waiting for the deadline."""
    d = shlex.quote(armed.run_dir)
    conn.run(f"{_kill_guard(armed)}; setsid sh {d}/revert.sh < /dev/null > /dev/null 2>&1 &")


def state(conn: Connection, directory: str) -> str:
    """armed, cancelled, firing (reverting) or reverted."""
    d = shlex.quote(directory)
    result = conn.run(
        f"for s in reverted firing cancelled armed; do "
        f"[ -e {d}/$s ] && {{ echo $s; exit 0; }}; done; echo unknown"
    )
    return result.stdout.strip()


def reverted(conn: Connection, directory: str) -> tuple[bool, str]:
    d = shlex.quote(directory)
    result = conn.run(f"test -e {d}/reverted && cat {d}/revert.log")
    return result.ok, result.stdout
