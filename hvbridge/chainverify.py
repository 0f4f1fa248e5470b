"""The checks of a bridge's whole chain (NIC -> bond -> VLAN -> bridge), its STP settings,
IPv6 and the resolver, against what the model asks: the part of hvbridge.netstate.verify
beyond a bridge over one NIC. One sentence per problem, naming the bridge, then the device.
"""

from __future__ import annotations

from hvbridge import bonding
from hvbridge.chainstate import VLAN_CONFIG, ChainState, Vlan, vlans_seen
from hvbridge.netstate import ExpectedBond, ExpectedBridge, ExpectedVlan, Link, NetState


def _needs_chain(want: ExpectedBridge) -> bool:
    return bool(
        want.bonds
        or want.vlans
        or want.forward_delay is not None
        or want.ipv6_address is not None
        or want.ipv6_gateway is not None
        or want.dns is not None
    )


def check_chain(want: ExpectedBridge, state: NetState) -> list[str]:
    links = {link.name: link for link in state.links}
    problems = _check_mtus(want, links)
    problems += _check_stp(want, state)
    if not _needs_chain(want):
        return problems
    chain = state.chain
    if chain is None:
        return [
            *problems,
            f"{want.name}: the network state was read without bonds, VLANs, bridge settings,"
            " IPv6 and the resolver",
        ]
    for bond in want.bonds:
        problems += _check_bond(want.name, bond, chain, links)
    vlans = vlans_seen(chain, state.links)
    for vlan in want.vlans:
        problems += _check_vlan(want.name, vlan, vlans)
    problems += _check_forward_delay(want, chain, state)
    problems += _check_ipv6_address(want, chain)
    problems += _check_ipv6_route(want, chain)
    problems += _check_dns(want, chain)
    return problems


def _check_mtus(want: ExpectedBridge, links: dict[str, Link]) -> list[str]:
    problems = []
    for name, mtu in want.mtus:
        link = links.get(name)
        # A missing bridge, port, bond or VLAN is reported by its own check.
        if link is not None and link.mtu != mtu:
            problems.append(f"{want.name}: {name} has MTU {link.mtu}, expected {mtu}")
    return problems


def _check_stp(want: ExpectedBridge, state: NetState) -> list[str]:
    bridge = next((bridge for bridge in state.bridges if bridge.name == want.name), None)
    if want.stp is None or bridge is None or bridge.stp == want.stp:
        return []
    return [
        f"{want.name}: STP is {_on(bridge.stp)}, expected {_on(want.stp)} ({state.bridges_from})"
    ]


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def _check_bond(
    bridge: str, want: ExpectedBond, chain: ChainState, links: dict[str, Link]
) -> list[str]:
    bond = chain.bonds.get(want.name)
    if bond is None:
        there = ", ".join(sorted(chain.bonds)) or "none"
        return [f"{bridge}: bond {want.name} is missing (/proc/net/bonding: bonds {there})"]
    where = bonding.source(want.name)
    problems = []
    if bond.mode != want.mode:
        problems.append(f"{bridge}: bond {want.name} is in mode {bond.mode}, expected {want.mode}")
    enslaved = [slave.name for slave in bond.slaves]
    for slave in want.slaves:
        if slave in enslaved:
            continue
        link = links.get(slave)
        if link is None:
            why = f"there is no device {slave}"
        elif link.master is not None:
            why = f"ip link: {slave} is enslaved to {link.master}"
        else:
            why = f"{where}: slaves {', '.join(enslaved) or 'none'}"
        problems.append(f"{bridge}: {slave} is not a slave of bond {want.name} ({why})")
    if not bond.working_slaves():
        problems.append(f"{bridge}: bond {want.name} has no active slave ({_slaves_seen(bond)})")
    return problems


def _slaves_seen(bond: bonding.Bond) -> str:
    if not bond.slaves:
        return "no slaves"
    states = ", ".join(f"{s.name} MII {'up' if s.mii_up else 'down'}" for s in bond.slaves)
    if bond.mode == "active-backup":
        return f"{states}; currently active: {bond.active or 'none'}"
    if bond.mode == "802.3ad":
        return f"{states}; no slave up in the active aggregator"
    return states


def _check_vlan(bridge: str, want: ExpectedVlan, vlans: dict[str, Vlan]) -> list[str]:
    vlan = vlans.get(want.name)
    if vlan is None:
        there = ", ".join(sorted(vlans)) or "none"
        return [f"{bridge}: VLAN {want.name} is missing ({VLAN_CONFIG}: VLANs {there})"]
    problems = []
    if vlan.id != want.id:
        problems.append(f"{bridge}: VLAN {want.name} has id {vlan.id}, expected {want.id}")
    if vlan.parent != want.parent:
        problems.append(
            f"{bridge}: VLAN {want.name} is on {vlan.parent}, expected on {want.parent}"
        )
    return problems


def _check_forward_delay(want: ExpectedBridge, chain: ChainState, state: NetState) -> list[str]:
    if want.forward_delay is None or not any(b.name == want.name for b in state.bridges):
        return []
    settings = chain.bridge_settings.get(want.name)
    if settings is None:
        return [f"{want.name}: no /sys/class/net/{want.name}/bridge to read its forward delay"]
    if settings.forward_delay == want.forward_delay * 100:
        return []
    seen = f"{settings.forward_delay / 100:g}"
    return [f"{want.name}: forward delay is {seen} s, expected {want.forward_delay} s"]


def _check_ipv6_address(want: ExpectedBridge, chain: ChainState) -> list[str]:
    if want.ipv6_address is None:
        return []
    held = [a for a in chain.addresses6 if a.device == want.name and a.scope == "global"]
    found = next((a for a in held if a.ip == want.ipv6_address), None)
    if found is None:
        has = ", ".join(str(a.ip) for a in held) or "no global IPv6 address"
        return [
            f"{want.name}: IPv6 address {want.ipv6_address} is not on {want.name}"
            f" ({want.name} has {has})"
        ]
    if "dadfailed" in found.flags:
        return [
            f"{want.name}: IPv6 address {want.ipv6_address} failed duplicate address"
            " detection (another host has it)"
        ]
    return []


def _check_ipv6_route(want: ExpectedBridge, chain: ChainState) -> list[str]:
    if want.ipv6_gateway is None:
        return []
    defaults = [route for route in chain.routes6 if route.dst == "default"]
    if any(r.gateway == want.ipv6_gateway and r.device == want.name for r in defaults):
        return []
    seen = ", ".join(
        " ".join(
            ([f"via {r.gateway}"] if r.gateway else []) + [f"dev {r.device}" if r.device else ""]
        ).strip()
        for r in defaults
    )
    return [
        f"{want.name}: no IPv6 default route via {want.ipv6_gateway} dev {want.name}"
        f" (IPv6 default routes: {seen or 'none'})"
    ]


def _check_dns(want: ExpectedBridge, chain: ChainState) -> list[str]:
    if want.dns is None:
        return []
    resolver = chain.resolver
    if resolver is None:
        return [f"{want.name}: the resolver's file was not read"]
    problems = []
    for server in want.dns.servers:
        if server not in resolver.servers:
            has = ", ".join(resolver.servers) or "none"
            problems.append(
                f"{want.name}: DNS server {server} is not in {resolver.path} (nameservers {has})"
            )
    for domain in want.dns.search:
        if domain not in resolver.search:
            has = " ".join(resolver.search) or "none"
            problems.append(
                f"{want.name}: search domain {domain} is not in {resolver.path} (search {has})"
            )
    return problems
