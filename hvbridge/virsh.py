"""virsh on a host: the few commands hvbridge needs, and parsers for what they print.

Only options that libvirt 0.10 (EL6) already has are used; parsers read the
plain text virsh has printed since then.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass

from hvbridge.errors import HostError
from hvbridge.platforms import Platform
from hvbridge.ssh import Connection, SSHError

QEMU_DIR = "/etc/libvirt/qemu"


class VirshError(HostError):
    pass


@dataclass(frozen=True)
class NetInfo:
    name: str
    active: bool
    persistent: bool
    autostart: bool
    bridge: str | None


@dataclass(frozen=True)
class DomainInterface:
    """A row of `virsh domiflist`: the tap (`vnet0`) is `-` while the guest is off."""

    target: str
    type: str
    source: str
    model: str
    mac: str


def virsh(conn: Connection, *args: str, timeout: float | None = None) -> str:
    command = "virsh " + " ".join(shlex.quote(a) for a in args)
    result = conn.run(command, timeout=timeout)
    if not result.ok:
        message = (result.stderr or result.stdout).strip().replace("\n", " ")
        raise VirshError(f"{conn.label}: {command} failed: {message}")
    return result.stdout


def parse_net_info(text: str) -> NetInfo:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    if "name" not in fields:
        raise VirshError(f"cannot read `virsh net-info` output: {text.strip()!r}")
    return NetInfo(
        name=fields["name"],
        active=fields.get("active") == "yes",
        persistent=fields.get("persistent") == "yes",
        autostart=fields.get("autostart") == "yes",
        bridge=fields.get("bridge") or None,
    )


def parse_domiflist(text: str) -> list[DomainInterface]:
    rows = []
    for line in text.splitlines():
        fields = line.split()
        # Header (`Interface Type Source Model MAC`) and the dashed rule are skipped.
        if len(fields) != 5 or fields[0] == "Interface" or set(line.strip()) == {"-"}:
            continue
        target, kind, source, model, mac = fields
        rows.append(DomainInterface(target, kind, source, model, mac.lower()))
    return rows


def parse_net_list(text: str) -> list[str]:
    """Network names from `virsh net-list --all` (header, rule, then a row each)."""
    names = []
    for line in text.splitlines()[2:]:
        fields = line.split()
        if fields:
            names.append(fields[0])
    return names


def net_names(conn: Connection) -> list[str]:
    return parse_net_list(virsh(conn, "net-list", "--all"))


def net_info(conn: Connection, name: str) -> NetInfo | None:
    """None when the network does not exist."""
    result = conn.run(f"virsh net-info {shlex.quote(name)}")
    if not result.ok:
        if "no network with matching name" in result.stderr.lower():
            return None
        raise VirshError(f"{conn.label}: virsh net-info {name}: {result.stderr.strip()}")
    return parse_net_info(result.stdout)


def domain_names(conn: Connection, *, running_only: bool = False) -> list[str]:
    args = ["list", "--name"] if running_only else ["list", "--all", "--name"]
    return [line.strip() for line in virsh(conn, *args).splitlines() if line.strip()]


def dumpxml(conn: Connection, name: str) -> str:
    return virsh(conn, "dumpxml", "--inactive", name)


def domiflist(conn: Connection, name: str) -> list[DomainInterface]:
    return parse_domiflist(virsh(conn, "domiflist", name))


def domain_state(conn: Connection, name: str) -> str:
    return virsh(conn, "domstate", name).strip()


def check_running(conn: Connection, platform: Platform) -> None:
    """libvirtd answers; else a clear error naming the host and what to do (the commands
    are the platform's)."""
    result = conn.run("virsh -q version")
    if result.ok:
        return
    status_command = platform.service_command("libvirtd", "status")
    status = conn.run(status_command)
    said = (status.stdout + status.stderr).strip() or f"exit {status.exit_status}"
    start = platform.service_command("libvirtd", "start")
    raise VirshError(
        f"{conn.label}: libvirtd does not answer ({result.stderr.strip()});"
        f" {status_command}: {said}. Start it (`{start}`) and run again;"
        " nothing was changed on this host"
    )


def wait_ready(conn: Connection, timeout: float) -> float:
    """Seconds until virsh answered again after a restart."""
    started = time.monotonic()
    while True:
        try:
            if conn.run("virsh -q version", timeout=10).ok:
                return time.monotonic() - started
        except SSHError:
            pass
        if time.monotonic() - started > timeout:
            raise VirshError(f"{conn.label}: libvirtd did not answer within {timeout:.0f}s")
        time.sleep(0.3)
