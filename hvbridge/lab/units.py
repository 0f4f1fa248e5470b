"""EL7's systemd as an el7 lab host shows it: the units, their states and the journal's text.

Pure: `hvbridge.lab.systemctl` does the I/O (runs the init scripts, keeps the state and
the journal) and prints what these functions write. The wording is systemd 219's, the
version EL7 ships; docs/lab-network-service.md says what is emulated.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from hvbridge.lab import networkd
from hvbridge.lab.networkmanager import PIDFILE as NM_PIDFILE
from hvbridge.lab.networkmanager import SCRIPT_PATH as NM_SCRIPT

ActiveState = Literal["active", "inactive", "failed"]


@dataclass(frozen=True)
class Unit:
    name: str
    description: str
    # What `Loaded:` says in parentheses: the unit file, its enablement, its preset.
    loaded: str
    docs: tuple[str, ...]
    # The lab's script that does the work, called with start or stop, below the lab's root.
    script: str
    exec_start: str
    exec_stop: str
    # The journal's name for what the script prints.
    identifier: str
    # A daemon's pid file, below the lab's root: the unit is active while that pid lives.
    # None: a SysV service that stays `active (exited)` after its script succeeded.
    pidfile: str | None = None
    # A SysV service: `is-enabled` asks chkconfig, and says so.
    sysv: bool = False


NETWORK = Unit(
    name="network.service",
    description="LSB: Bring up/down networking",
    loaded="/etc/rc.d/init.d/network; bad; vendor preset: disabled",
    docs=("man:systemd-sysv-generator(8)",),
    script="/etc/init.d/network",
    exec_start="/etc/rc.d/init.d/network start",
    exec_stop="/etc/rc.d/init.d/network stop",
    identifier="network",
    sysv=True,
)
LIBVIRTD = Unit(
    name="libvirtd.service",
    description="Virtualization daemon",
    loaded="/usr/lib/systemd/system/libvirtd.service; enabled; vendor preset: enabled",
    docs=("man:libvirtd(8)", "https://libvirt.org"),
    # EL7 has no /etc/init.d/libvirtd: the lab keeps its starter out of `service`'s sight.
    script="/etc/hvbridge-lab/libvirtd.init",
    exec_start="/usr/sbin/libvirtd $LIBVIRTD_ARGS",
    exec_stop="/bin/kill -TERM $MAINPID",
    identifier="libvirtd",
    pidfile="/run/libvirtd.pid",
)
NETWORKMANAGER = Unit(
    name="NetworkManager.service",
    description="Network Manager",
    loaded="/usr/lib/systemd/system/NetworkManager.service; enabled; vendor preset: enabled",
    docs=("man:NetworkManager(8)",),
    # Real NetworkManager, in a mount namespace of its own (hvbridge.lab.networkmanager).
    script=NM_SCRIPT,
    exec_start="/usr/sbin/NetworkManager --no-daemon",
    exec_stop="/bin/kill -TERM $MAINPID",
    identifier="NetworkManager",
    pidfile=NM_PIDFILE,
)
# EL9 runs libvirt as modular daemons; Debian 12 ships only the monolithic libvirtd. An el9
# lab host's one libvirtd (both drivers) stands in for both units: `virtqemud` starts and
# stops it, `virtnetworkd` is active while it runs and starts it when it does not.
VIRTQEMUD = dataclasses.replace(
    LIBVIRTD,
    name="virtqemud.service",
    description="Virtualization qemu daemon",
    loaded="/usr/lib/systemd/system/virtqemud.service; enabled; vendor preset: enabled",
    docs=("man:virtqemud(8)", "https://libvirt.org"),
    exec_start="/usr/sbin/virtqemud $VIRTQEMUD_ARGS",
    identifier="virtqemud",
)
VIRTNETWORKD_SCRIPT = "/etc/hvbridge-lab/virtnetworkd.init"
VIRTNETWORKD_INITSCRIPT = f"""#!/bin/sh
# virtnetworkd of an el9 hvbridge lab host: the lab's libvirtd serves the network driver
case "$1" in
    start) exec {LIBVIRTD.script} start ;;
    stop) exit 0 ;;
    *) exec {LIBVIRTD.script} "$@" ;;
esac
"""
VIRTNETWORKD = dataclasses.replace(
    VIRTQEMUD,
    name="virtnetworkd.service",
    description="Virtualization network daemon",
    loaded="/usr/lib/systemd/system/virtnetworkd.service; enabled; vendor preset: enabled",
    docs=("man:virtnetworkd(8)", "https://libvirt.org"),
    script=VIRTNETWORKD_SCRIPT,
    exec_start="/usr/sbin/virtnetworkd $VIRTNETWORKD_ARGS",
    identifier="virtnetworkd",
)
# Real systemd-networkd, in a mount namespace of its own (hvbridge.lab.networkd).
SYSTEMD_NETWORKD = Unit(
    name="systemd-networkd.service",
    description="Network Configuration",
    loaded="/lib/systemd/system/systemd-networkd.service; enabled; preset: enabled",
    docs=("man:systemd-networkd.service(8)",),
    script=networkd.SCRIPT_PATH,
    exec_start="/lib/systemd/systemd-networkd",
    exec_stop="/bin/kill -TERM $MAINPID",
    identifier="systemd-networkd",
    pidfile=networkd.PIDFILE,
)
# What `netplan apply` starts after networkd: Open vSwitch's cleanup, nothing to do without
# Open vSwitch (its unit's condition fails on Ubuntu too).
NETPLAN_OVS_CLEANUP = Unit(
    name="netplan-ovs-cleanup.service",
    description="OpenVSwitch configuration for cleanup",
    loaded="/run/systemd/system/netplan-ovs-cleanup.service; enabled-runtime; preset: enabled",
    docs=(),
    script=networkd.NOOP_SCRIPT,
    exec_start="/usr/sbin/netplan apply --only-ovs-cleanup",
    exec_stop="",
    identifier="netplan",
)
UNITS: dict[str, Unit] = {
    unit.name: unit
    for unit in (
        NETWORK, LIBVIRTD, NETWORKMANAGER, VIRTQEMUD, VIRTNETWORKD, SYSTEMD_NETWORKD,
        NETPLAN_OVS_CLEANUP,
    )
}  # fmt: skip
# The units that run libvirt on each platform the lab's systemctl serves.
LIBVIRT_UNITS: dict[str, tuple[str, ...]] = {
    "el7": ("libvirtd",),
    "el8": ("libvirtd",),
    "el9": ("virtqemud", "virtnetworkd"),
    # Debian 12 runs the monolithic libvirtd.
    "debian": ("libvirtd",),
    "proxmox": ("libvirtd",),
    "ubuntu": ("libvirtd",),
}


def unit_name(argument: str) -> str:
    """`network` and `network.service` both name network.service, as systemctl mangles."""
    return argument if "." in argument else f"{argument}.service"


@dataclass(frozen=True)
class Process:
    """The unit's last control process (its script), as `Process:` shows it."""

    pid: int
    action: Literal["start", "stop"]
    status: int


@dataclass(frozen=True)
class UnitState:
    active: ActiveState = "inactive"
    since: float | None = None
    process: Process | None = None


@dataclass(frozen=True)
class JournalEntry:
    time: float
    unit: str
    identifier: str
    pid: int
    message: str


def job_failed(unit: str) -> str:
    return (
        f"Job for {unit} failed because the control process exited with error code."
        f' See "systemctl status {unit}" and "journalctl -xe" for details.'
    )


def starting(unit: Unit) -> str:
    return f"Starting {unit.description}..."


def started(unit: Unit) -> str:
    return f"Started {unit.description}."


def stopping(unit: Unit) -> str:
    return f"Stopping {unit.description}..."


def stopped(unit: Unit) -> str:
    return f"Stopped {unit.description}."


def failed_lines(unit: Unit, action: Literal["start", "stop"], status: int) -> list[str]:
    """What systemd 219 logs when a unit's start or stop script fails."""
    lines = [f"{unit.name}: control process exited, code=exited status={status}"]
    lines.append(f"Failed to start {unit.description}." if action == "start" else stopped(unit))
    return [*lines, f"Unit {unit.name} entered failed state.", f"{unit.name} failed."]


def status_text(
    unit: Unit,
    state: UnitState,
    main_pid: int | None,
    entries: Sequence[JournalEntry],
    *,
    host: str,
    now: float,
) -> str:
    """`systemctl status UNIT`: the unit's state, then its last journal lines."""
    lines = [
        f"\N{BLACK CIRCLE} {unit.name} - {unit.description}",
        f"   Loaded: loaded ({unit.loaded})",
        f"   Active: {_active(state, main_pid, now)}",
    ]
    for index, doc in enumerate(unit.docs):
        lines.append(("     Docs: " if index == 0 else "           ") + doc)
    if state.process is not None:
        process = state.process
        command = unit.exec_start if process.action == "start" else unit.exec_stop
        key = "ExecStart" if process.action == "start" else "ExecStop"
        lines.append(
            f"  Process: {process.pid} {key}={command} (code=exited, status={_status(process)})"
        )
    if main_pid is not None:
        lines.append(f" Main PID: {main_pid} ({unit.identifier})")
    if entries:
        lines += ["", *(journal_line(entry, host) for entry in entries)]
    return "\n".join(lines) + "\n"


def journal_line(entry: JournalEntry, host: str) -> str:
    stamp = time.strftime("%b %d %H:%M:%S", time.localtime(entry.time))
    return f"{stamp} {host} {entry.identifier}[{entry.pid}]: {entry.message}"


def journal_text(entries: Sequence[JournalEntry], *, host: str, header: bool) -> str:
    """`journalctl`'s output: EL7's header line, then one line per entry."""
    if not entries:
        return "-- No entries --\n"
    lines = [journal_line(entry, host) for entry in entries]
    if header:
        first, last = _timestamp(entries[0].time), _timestamp(entries[-1].time)
        lines.insert(0, f"-- Logs begin at {first}, end at {last}. --")
    return "\n".join(lines) + "\n"


def _active(state: UnitState, main_pid: int | None, now: float) -> str:
    since = (
        "" if state.since is None else f" since {_timestamp(state.since)}; {ago(now - state.since)}"
    )
    if state.active == "active":
        return f"active ({'running' if main_pid is not None else 'exited'}){since}"
    if state.active == "failed":
        return f"failed (Result: exit-code){since}"
    return f"inactive (dead){since}"


def _status(process: Process) -> str:
    return f"{process.status}/{'SUCCESS' if process.status == 0 else 'FAILURE'}"


def _timestamp(seconds: float) -> str:
    return time.strftime("%a %Y-%m-%d %H:%M:%S %Z", time.localtime(seconds))


def ago(seconds: float) -> str:
    """systemd's relative time (format_timestamp_relative), down to milliseconds."""
    whole = int(max(seconds, 0.0))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 2:
        return f"{days} days ago"
    if days == 1:
        return f"1 day {hours}h ago"
    if hours >= 6:
        return f"{hours}h ago"
    if hours:
        return f"{hours}h {minutes}min ago"
    if minutes >= 5:
        return f"{minutes}min ago"
    if minutes:
        return f"{minutes}min {secs}s ago"
    if secs:
        return f"{secs}s ago"
    millis = int(max(seconds, 0.0) * 1000)
    return f"{millis}ms ago" if millis else "now"
