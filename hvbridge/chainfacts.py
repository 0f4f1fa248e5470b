"""The facts of a host's chain for reports: every device's kind and MTU, the bonds and
VLANs, IPv6 and DNS, from a NetState read with its chain (hvbridge.chainstate)."""

from __future__ import annotations

from typing import Any

from hvbridge.chainstate import ChainState
from hvbridge.netstate import NetState


def device_kind(name: str, kind: str | None, state: NetState, chain: ChainState) -> str:
    """bridge, bond or vlan by what the kernel lists them in (an old ip names no kind);
    else ip's kind (veth, tun, ...), and `nic` for a device with none."""
    if any(bridge.name == name for bridge in state.bridges):
        return "bridge"
    if name in chain.bonds:
        return "bond"
    if name in chain.vlans or kind == "vlan":
        return "vlan"
    return kind or "nic"


def chain_facts(state: NetState, chain: ChainState) -> dict[str, Any]:
    addresses6: dict[str, list[str]] = {}
    for address in chain.addresses6:
        # Link-local addresses are on every device and say nothing about the host.
        if address.scope == "global":
            addresses6.setdefault(address.device, []).append(str(address.ip))
    defaults = [route for route in chain.routes6 if route.dst == "default"]
    route6 = min(defaults, key=lambda route: route.metric, default=None)
    resolver = chain.resolver
    return {
        "devices": {
            link.name: {
                "kind": device_kind(link.name, link.kind, state, chain),
                "mtu": link.mtu,
                "master": link.master,
                "state": link.state,
            }
            for link in state.links
            if link.name != "lo"
        },
        "bonds": {
            name: {
                "mode": bond.mode,
                "miimon": bond.miimon,
                "slaves": {slave.name: "up" if slave.mii_up else "down" for slave in bond.slaves},
                "active": bond.working_slaves(),
            }
            for name, bond in chain.bonds.items()
        },
        "vlans": {
            name: {"id": vlan.id, "parent": vlan.parent} for name, vlan in chain.vlans.items()
        },
        "addresses6": addresses6,
        "default_route6": None
        if route6 is None
        else {
            "gateway": None if route6.gateway is None else str(route6.gateway),
            "device": route6.device,
            "metric": route6.metric,
        },
        "dns": None
        if resolver is None
        else {
            "file": resolver.path,
            "servers": list(resolver.servers),
            "search": list(resolver.search),
        },
    }
