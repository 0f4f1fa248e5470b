"""A bridge's chain as one line for reports: `eth1, eth2 -> bond0 (active-backup) ->
bond0.100 (VLAN 100) -> br100 -> guests v1`, read from a host's facts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _lower(name: str, found: Mapping[str, Any], seen: frozenset[str]) -> str:
    """The path up to `name`: a VLAN's parent's first, a bond's slaves' first."""
    if name in seen:
        # The kernel refuses loops; facts that claim one still print.
        return name
    seen = seen | {name}
    vlan = found.get("vlans", {}).get(name)
    if vlan is not None:
        return f"{_lower(vlan['parent'], found, seen)} -> {name} (VLAN {vlan['id']})"
    bond = found.get("bonds", {}).get(name)
    if bond is not None:
        slaves = ", ".join(_lower(slave, found, seen) for slave in bond["slaves"]) or "no slaves"
        return f"{slaves} -> {name} ({bond['mode']})"
    return name


def guests_on(bridge: str, found: Mapping[str, Any]) -> list[str]:
    libvirt = found.get("libvirt") or {}
    return sorted(
        name
        for name, domain in libvirt.get("domains", {}).items()
        if any(nic.get("source") == bridge for nic in domain.get("interfaces", []))
    )


def chain_line(bridge: str, found: Mapping[str, Any]) -> str:
    """Guests' own ports (tun/tap devices) show as the guests at the end, not as uplinks."""
    devices = found.get("devices", {})
    ports = found.get("bridges", {}).get(bridge, {}).get("ports", [])
    uplinks = [
        _lower(port, found, frozenset({bridge}))
        for port in ports
        if devices.get(port, {}).get("kind") != "tun"
    ]
    line = f"{' + '.join(uplinks) or 'no ports'} -> {bridge}"
    guests = guests_on(bridge, found)
    return f"{line} -> guests {', '.join(guests)}" if guests else line
