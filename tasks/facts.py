"""What the host looks like now: bridges, addresses, default route, libvirt."""

from __future__ import annotations

from typing import Any

from nornir.core.task import Result, Task

from hvbridge import remote
from hvbridge.domainxml import interfaces
from hvbridge.hostrun import HostRun
from hvbridge.hosttask import read_only
from hvbridge.netstate import facts
from hvbridge.results import Facts
from hvbridge.ssh import Connection, SSHError
from hvbridge.virsh import domain_names, domain_state, dumpxml, net_info, net_names

# Where virsh finds qemu:///system: the monolithic libvirtd (EL6, EL7), or the modular
# virtqemud of later releases.
LIBVIRT_SOCKETS = ("/var/run/libvirt/libvirt-sock", "/var/run/libvirt/virtqemud-sock")


@read_only
def collect(task: Task, ctx: HostRun) -> Result:
    """Read-only: `brctl show` and `ip` parsed (as an earlier step read them when only
    read-only steps came since), and libvirt's networks and domains."""
    state, _ = ctx.network_state(task)
    found = facts(state)
    found["libvirt"] = libvirt_facts(ctx.connect(task))
    ctx.facts = found
    return Result(host=task.host, result=Facts(summary(found), state, found))


def libvirt_facts(conn: Connection) -> dict[str, Any] | None:
    """None when the host has no libvirtd answering (a plain host, or libvirtd down).
    Without a libvirt socket nothing can answer, and virsh is not started at all."""
    if not _libvirt_socket(conn):
        return None
    if not conn.run("command -v virsh >/dev/null && virsh -q version >/dev/null").ok:
        return None
    networks = {}
    for name in net_names(conn):
        info = net_info(conn, name)
        if info is not None:
            networks[name] = {
                "active": info.active,
                "autostart": info.autostart,
                "persistent": info.persistent,
                "bridge": info.bridge,
            }
    domains = {}
    for name in domain_names(conn):
        domains[name] = {
            "state": domain_state(conn, name),
            "interfaces": [
                {"type": i.type, "source": i.source, "mac": i.mac, "model": i.model}
                for i in interfaces(dumpxml(conn, name))
            ],
        }
    return {"networks": networks, "domains": domains}


def _libvirt_socket(conn: Connection) -> bool:
    """False only when no socket is there; a stat refused (permissions) is no answer."""
    try:
        return any(remote.is_socket(conn, path) for path in LIBVIRT_SOCKETS)
    except SSHError:
        return True


def summary(found: dict[str, Any]) -> str:
    """One line an operator reads: bridges with ports and addresses, the default route."""
    parts = []
    for name, bridge in found["bridges"].items():
        addresses = ", ".join(found["addresses"].get(name, [])) or "no address"
        parts.append(f"{name} [{' '.join(bridge['ports']) or 'no ports'}] {addresses}")
    route = found.get("default_route")
    parts.append(
        f"default via {route['gateway']} dev {route['device']}" if route else "no default route"
    )
    libvirt = found.get("libvirt")
    if libvirt is not None:
        parts.append(f"networks: {', '.join(libvirt['networks']) or 'none'}")
        guests = ", ".join(f"{n} {d['state']}" for n, d in libvirt["domains"].items())
        parts.append(f"guests: {guests or 'none'}")
    return "; ".join(parts)
