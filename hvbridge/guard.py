"""The commit-confirmed guard around a network restart, on the host itself.

Before the restart, `arm()` starts a detached process (its own session, so the
SSH session dying does not end it) that sleeps until the deadline and then
reverts: the platform's network stop with the new files (so a new bridge goes
down), the files of `before/` put back and the ones the run created removed,
its network start. `cancel()` disarms it once the controller has
reconnected and verified. Whoever renames `armed` first wins: the guard
(`armed` -> `firing`) or the controller (`armed` -> `cancelled`), so the two
can never both act. EL6 has no systemd, so this is plain POSIX sh; the commands
that stop, start and restart the network are the platform's (hvbridge.platforms).
A platform whose network service can undo itself (NetworkManager's checkpoints) adds
that undo inside the guard: created just before the restart, rolled back first in the
revert, destroyed before the guard is cancelled.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass

from hvbridge.hoststate import PROBES, parse_state, probe_command
from hvbridge.netstate import NetState
from hvbridge.platforms import Platform
from hvbridge.platforms.base import Checkpoint, own_view
from hvbridge.remote import run_dir
from hvbridge.ssh import Connection, SSHError

LOG_MARK = "@@hvbridge-log@@"
VIEW_MARK = "@@hvbridge-view@@"
# What `look` sees where no guard was armed for the run (none of its files exist).
NOT_ARMED = "unknown"


@dataclass(frozen=True)
class Armed:
    # The controller's clock (time.time()), taken before arming: the host reverts no
    # earlier than this; `look` finds whether it was armed at all.
    deadline: float
    run_dir: str
    # The error of the session that armed it, when that session was lost (under the
    # restart, or before): the first thing to say if the controller never gets back.
    lost: str | None = None
    # Shell that ends the network service's own undo before the guard is cancelled.
    destroy_checkpoint: str = ""


def revert_script(
    directory: str,
    platform: Platform,
    checkpoint: Checkpoint | None = None,
    new_devices: Sequence[str] = (),
) -> str:
    """Every path quoted: the run directory may hold any character a path can, and the
    files listed in `created` and `saved` are read whole lines (`IFS= read -r`).
    `checkpoint`: the network service's own undo, run first (NetworkManager's).
    `new_devices`: the bridges, VLANs and bonds this run makes that the host did not have,
    top down: deleted after the network stop if they are still there (a network service
    need not remove a virtual device when it stops, and an old file of a slave NIC cannot
    come up while a leftover bond holds it)."""
    d = shlex.quote(directory)
    stop, start = platform.revert_commands()
    rollback = f"\n    {checkpoint.rollback}" if checkpoint else ""
    if new_devices:
        stop += "\n    " + _delete_devices(new_devices)
    return f"""#!/bin/sh
# hvbridge: put the files back as they were before this run, and restart the network.
mv {d}/armed {d}/firing 2>/dev/null || exit 0
{{
    echo "revert started $(date '+%F %T')"{rollback}
    {stop}
    if [ -f {d}/created ]; then
        while IFS= read -r path; do rm -f -- "$path" && echo "removed $path"; done < {d}/created
    fi
    # Each file back where it was kept from: network files and domain files alike.
    if [ -f {d}/saved ]; then
        while IFS= read -r path; do
            cp -p -- {d}/before"$path" "$path" && echo "restored $path"
        done < {d}/saved
    fi
    {start}
    rc=$?
    echo "revert finished $(date '+%F %T') rc=$rc"
}} >> {d}/revert.log 2>&1
touch {d}/reverted
"""


def _delete_devices(names: Sequence[str]) -> str:
    """Shell: delete each device that still exists; a bridge with brctl where an old
    kernel's `ip link` cannot (EL6's 2.6.32), a bond through the bonding driver's file."""
    listed = " ".join(shlex.quote(name) for name in names)
    return (
        f"for dev in {listed}; do"
        ' ip link show dev "$dev" > /dev/null 2>&1 || continue;'
        ' ip link set dev "$dev" down 2>/dev/null;'
        ' if ip link delete dev "$dev" 2>/dev/null || brctl delbr "$dev" 2>/dev/null'
        ' || echo "-$dev" > /sys/class/net/bonding_masters 2>/dev/null;'
        ' then echo "deleted $dev"; else echo "could not delete $dev"; fi;'
        " done"
    )


def guard_script(directory: str, seconds: int) -> str:
    d = shlex.quote(directory)
    return f"""#!/bin/sh
# hvbridge guard: revert unless cancelled within {seconds}s.
sleep {seconds}
exec sh {d}/revert.sh
"""


def arm_and_restart(
    conn: Connection,
    run_id: str,
    seconds: int,
    wait: float,
    platform: Platform,
    new_devices: Sequence[str] = (),
) -> Armed:
    """In one round trip: write the revert and the guard, start the guard, and only then
    start the platform's network restart, detached, its output and status in the run dir;
    then wait, on this same session, up to `wait` seconds for the restart to end.

    Waiting here rather than reconnecting at once: a SYN sent while the restart moves
    the address is lost, and TCP resends it only a second later; this session mostly
    survives the restart (the address stays on the host). When the session dies under
    the restart, whether the guard was armed is read after reconnecting (`look`).
    `new_devices`: what the revert deletes if the network stop leaves it (revert_script)."""
    directory = run_dir(run_id)
    checkpoint = platform.checkpoint(directory, seconds)
    armed = Armed(
        time.time() + seconds,
        directory,
        destroy_checkpoint=checkpoint.destroy if checkpoint else "",
    )
    d, q = shlex.quote(directory), shlex.quote
    restart = restart_command(directory, platform, checkpoint)
    stale = " ".join(f"{d}/{name}" for name in ("cancelled", "firing", "reverted", "restart.rc"))
    try:
        # Shell builtins where they do: on a busy host each program started costs
        # milliseconds of CPU (measured: about 10 ms in the lab).
        started = conn.run(
            # No umask here: the restart and the guard's revert inherit this shell's,
            # and what the network service writes (resolv.conf, leases) must not change.
            f"[ -d {d}/before ] || mkdir -p {d}/before || exit 1; "
            f'for f in {stale}; do [ -e "$f" ] && rm -f "$f"; done; '
            f"printf %s {q(revert_script(directory, platform, checkpoint, new_devices))}"
            f" > {d}/revert.sh"
            " || exit 1; "
            f"printf %s {q(guard_script(directory, seconds))} > {d}/guard.sh || exit 1; "
            # `: > armed || exit` stays a separate command: `a && b &` would background
            # the pair in a subshell that keeps this session's output open until the
            # guard ends.
            f": > {d}/armed || exit 1; "
            f"setsid sh {d}/guard.sh < /dev/null > /dev/null 2>&1 & "
            f"echo $! > {d}/guard.pid; echo armed; "
            # Locked here, before the restart starts, so a waiter can never take it first.
            f"exec 9> {d}/restart.lock && flock -w 5 9 || exit 1; "
            f"setsid sh -c {q(restart)} < /dev/null > /dev/null 2>&1 & "
            f"exec 9>&-; {_wait_for_restart(armed, wait)}; "
            # Not `[ ] && echo`: a restart still running when the wait ends is no error.
            f"if [ -s {d}/restart.rc ]; then echo restarted; fi",
            timeout=wait + 10,
        )
    except SSHError as exc:
        # Lost under the restart, or before: `look` tells which.
        return dataclasses.replace(armed, lost=f"the session that armed the guard was lost: {exc}")
    if not started.stdout.startswith("armed"):
        raise SSHError(f"{conn.label}: cannot arm the revert: {started.stderr.strip()}")
    if not started.ok:
        raise SSHError(
            f"{conn.label}: the revert is armed but the restart could not start"
            f" ({started.stderr.strip()}): the host puts the old files back at the deadline"
        )
    return armed


def restart_command(directory: str, platform: Platform, checkpoint: Checkpoint | None) -> str:
    """Shell: the platform's network restart, its output in restart.log and its status in
    restart.rc, run detached by `arm_and_restart`.

    The restart holds restart.lock (fd 9) until its status is written: a waiter's shared
    flock returns when it ends, without polling. The service itself, and what it starts,
    must not inherit the lock. The command is one brace group, so that the log and the
    lock's closing cover each of its parts (`ifdown ...; ifup ...`, `a && b`), not only the
    last."""
    d = shlex.quote(directory)
    diagnostics = platform.restart_diagnostics
    explain = f" [ $rc = 0 ] || {diagnostics} >> {d}/restart.log 2>&1 9>&-;" if diagnostics else ""
    apply = platform.network_command("restart")
    if checkpoint:
        # No checkpoint, no change: the restart fails, and the guard reverts.
        apply = f"{checkpoint.create} && {apply}"
    return f"{{ {apply}; }} > {d}/restart.log 2>&1 9>&-; rc=$?;{explain} echo $rc > {d}/restart.rc"


def wait_for_restart(conn: Connection, armed: Armed, wait: float) -> None:
    """Until the restart (if one was started) has ended, `wait` seconds at most."""
    d = shlex.quote(armed.run_dir)
    conn.run(
        f"[ -s {d}/restart.rc ] || [ ! -e {d}/restart.lock ] || {_wait_for_restart(armed, wait)}",
        timeout=wait + 30,
    )


def _wait_for_restart(armed: Armed, wait: float) -> str:
    """Shell: block until the restart has written its status (it then lets go of its
    lock), for `wait` seconds at most; whole seconds, as EL6's flock takes them."""
    d = shlex.quote(armed.run_dir)
    return f"{{ flock -s -w {max(1, math.ceil(wait))} 9; }} 9< {d}/restart.lock"


@dataclass(frozen=True)
class Seen:
    """What the controller sees after reconnecting, read in one round trip."""

    guard: str  # armed, cancelled, firing, reverted, or NOT_ARMED
    restart_rc: int | None  # None: the restart had not finished
    restart_log: str
    state: NetState | None
    silent_gateways: list[str]
    # What the network service's own view printed (the platform's `verify_command`), or
    # None for a platform without one.
    own_view: str | None = None


def look(
    conn: Connection, armed: Armed, wait: float, gateways: list[str], platform: Platform
) -> Seen:
    """The guard's state first; then, on the host, wait for the restart to finish, and
    read its status, its log, the network state (the kernel's, and the network service's
    own where the platform has one) and which gateways stay silent."""
    d = shlex.quote(armed.run_dir)
    viewer = own_view(platform)
    # The service's own view in the same round trip, after the kernel's.
    view = f"echo {VIEW_MARK}; {viewer.verify_command}; " if viewer else ""
    result = conn.run(
        f"s={NOT_ARMED}; for x in reverted firing cancelled armed; do"
        f" [ -e {d}/$x ] && {{ s=$x; break; }}; done; echo $s; "
        f'[ "$s" = armed ] || exit 0; '
        f"[ -s {d}/restart.rc ] || {_wait_for_restart(armed, wait)}; "
        f"rc=none; [ -s {d}/restart.rc ] && read -r rc < {d}/restart.rc; echo $rc; "
        # The log only matters when the restart failed.
        f'echo {LOG_MARK}; [ "$rc" = 0 ] || cat {d}/restart.log 2>/dev/null; echo {LOG_MARK}; '
        f"{platform.state_command}; {view}echo {PROBES}; {probe_command(gateways)}",
        timeout=wait + 30,
    )
    first, _, rest = result.stdout.partition("\n")
    if first.strip() != "armed":
        return Seen(first.strip(), None, "", None, [])
    rc_text, _, rest = rest.partition(f"{LOG_MARK}\n")
    log, _, rest = rest.partition(f"{LOG_MARK}\n")
    if not rc_text.strip().isdigit():
        return Seen("armed", None, log, None, [])
    state_text, _, silent = rest.partition(f"{PROBES}\n")
    view_text: str | None = None
    if viewer:
        state_text, _, view_text = state_text.partition(f"{VIEW_MARK}\n")
    state = parse_state(conn.label, state_text)
    return Seen("armed", int(rc_text.strip()), log, state, silent.split(), view_text)


def _kill_guard(armed: Armed) -> str:
    """Its whole process group (setsid made the guard a group leader): the guard's
    `sleep` child would otherwise outlive it by the full timeout. Its PID is read on the
    host, and checked to still be the guard's."""
    d = shlex.quote(armed.run_dir)
    return (
        f"read -r pid < {d}/guard.pid && grep -q guard.sh /proc/$pid/cmdline 2>/dev/null"
        f" && kill -- -$pid"
    )


def cancel(conn: Connection, armed: Armed) -> bool:
    """Disarm; False when the guard had already started to revert. The network service's
    own undo (a checkpoint) ends first: one left behind would undo the change later, and
    one that cannot end keeps the guard armed."""
    d = shlex.quote(armed.run_dir)
    destroy = (
        f"[ -e {d}/armed ] && {armed.destroy_checkpoint} && " if armed.destroy_checkpoint else ""
    )
    result = conn.run(
        f"if {destroy}mv {d}/armed {d}/cancelled 2>/dev/null; then "
        f"{_kill_guard(armed)}; echo cancelled; "
        f"else echo firing; fi"
    )
    return result.stdout.strip().endswith("cancelled")


def revert_now(conn: Connection, armed: Armed) -> None:
    """Revert at once (verification failed) instead of waiting for the deadline."""
    d = shlex.quote(armed.run_dir)
    conn.run(f"{_kill_guard(armed)}; setsid sh {d}/revert.sh < /dev/null > /dev/null 2>&1 &")


def restart_status(conn: Connection, directory: str) -> tuple[int | None, str]:
    """The restart's exit status (None: it never finished) and its log, as kept on the
    host: after a revert at the deadline they still say why the change failed."""
    d = shlex.quote(directory)
    result = conn.run(
        f"rc=none; [ -s {d}/restart.rc ] && read -r rc < {d}/restart.rc; echo $rc;"
        f" cat {d}/restart.log 2>/dev/null"
    )
    rc_text, _, log = result.stdout.partition("\n")
    return (int(rc_text) if rc_text.strip().isdigit() else None), log


def reverted(conn: Connection, directory: str) -> bool:
    return conn.run(f"test -e {shlex.quote(directory)}/reverted").ok
