"""Read a host's network state in one round trip, and what the model expects of it."""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import replace
from typing import Any

from hvbridge.chainstate import chain_from_outputs
from hvbridge.netstate import (
    ExpectedBond,
    ExpectedBridge,
    ExpectedDns,
    ExpectedVlan,
    NetState,
    state_from_text_outputs,
)
from hvbridge.platforms import Platform
from hvbridge.platforms.devices import chain
from hvbridge.platforms.iproute import MARK, PARTS, split_families
from hvbridge.ssh import Connection, SSHError

PROBES = "@@hvbridge-probes@@"
# The kernel's BR_MIN_FORWARD_DELAY: a bridge with STP on never forwards sooner.
STP_MIN_FORWARD_DELAY = 2


def parse_state(host: str, text: str) -> NetState:
    """What a platform's `state_command` printed, as a NetState."""
    parts = text.split(f"{MARK}\n")
    if len(parts) != PARTS:
        raise SSHError(f"{host}: cannot read the network state (got {len(parts)} parts)")
    bridges, links, addrs, routes, routes6, *rest = parts
    tool, _, brctl_output = bridges.partition("\n")
    addrs4, addrs6 = split_families(addrs)
    state = state_from_text_outputs(
        brctl_output if tool == "brctl" else None, links, addrs4, routes
    )
    return replace(state, chain=chain_from_outputs(addrs6, routes6, *rest))


def probe_command(gateways: list[str]) -> str:
    """Prints each gateway that does not answer a ping (a second ping only if one is lost;
    -n: no reverse lookup of the reply, which a slow resolver would make take seconds)."""
    if not gateways:
        return "true"
    each = " ".join(shlex.quote(gw) for gw in gateways)
    return (
        f"for gw in {each}; do ping -n -c 1 -W 2 $gw >/dev/null 2>&1 ||"
        f" ping -n -c 1 -W 2 $gw >/dev/null 2>&1 || echo $gw; done"
    )


def read_netstate(conn: Connection, platform: Platform) -> NetState:
    result = conn.run(platform.state_command)
    if not result.ok:
        raise SSHError(f"{conn.label}: cannot read the network state: {result.stderr.strip()}")
    return parse_state(conn.label, result.stdout)


def expected_bridges(model: Any, platform: object = None) -> list[ExpectedBridge]:
    """What each bridge of `model` should look like after the change. A `platform` whose
    network service does not necessarily write the DNS it is given to the resolver's file
    (`dns_in_resolv_conf = False`: NetworkManager) has the DNS left out of it."""
    dns_checked = getattr(platform, "dns_in_resolv_conf", True)
    expected = []
    for name, bridge in model.bridges.items():
        address = None
        if bridge.bootproto == "static":
            mask = bridge.prefix if bridge.prefix is not None else bridge.netmask
            address = ipaddress.IPv4Interface(f"{bridge.ipaddr}/{mask}")
        gateway = ipaddress.IPv4Address(str(bridge.gateway)) if bridge.gateway else None
        under = chain(model, name)
        bonds = getattr(model, "bonds", None) or {}
        vlans = getattr(model, "vlans", None) or {}
        # Models are duck-typed as in platforms.devices: a plain namespace may leave out
        # what it does not ask for (unchecked then).
        stp = getattr(bridge, "stp", None)
        dns = getattr(bridge, "dns", None)
        ipv6addr = getattr(bridge, "ipv6addr", None)
        ipv6_gateway = getattr(bridge, "ipv6_gateway", None)
        expected.append(
            ExpectedBridge(
                name,
                tuple(bridge.ports),
                address,
                gateway,
                # A bridge without IPv4 (bootproto none) carries no default route.
                bool(bridge.defroute) and bridge.bootproto != "none",
                bonds=tuple(
                    ExpectedBond(dev, bonds[dev].mode, tuple(bonds[dev].slaves))
                    for dev in under
                    if dev in bonds
                ),
                vlans=tuple(
                    ExpectedVlan(dev, vlans[dev].id, vlans[dev].parent)
                    for dev in under
                    if dev in vlans
                ),
                mtus=_mtus(model, name, under),
                stp=stp,
                # With STP off a kernel since 2.6.3x forwards at once, whatever the delay
                # (and NetworkManager leaves it at 15 s then): checked with STP on only,
                # where the kernel raises a shorter one to its minimum, 2 s (br_stp_start).
                forward_delay=max(int(bridge.delay), STP_MIN_FORWARD_DELAY) if stp else None,
                ipv6_address=None if ipv6addr is None else ipaddress.IPv6Interface(str(ipv6addr)),
                ipv6_gateway=None
                if ipv6_gateway is None
                else ipaddress.IPv6Address(str(ipv6_gateway)),
                dns=None
                if dns is None or not dns_checked
                else ExpectedDns(tuple(str(server) for server in dns.servers), tuple(dns.search)),
            )
        )
    return expected


def _mtus(model: Any, bridge: str, under: list[str]) -> tuple[tuple[str, int], ...]:
    """Each device with an MTU asked: the bridge's, a bond's, a VLAN's, a NIC's own, and
    a bond's for each of its slaves that asks none (the bond sets them all)."""
    tables = [getattr(model, kind, None) or {} for kind in ("bridges", "bonds", "vlans", "nics")]
    asked: dict[str, int] = {}
    for dev in (bridge, *under):
        for table in tables:
            mtu = getattr(table[dev], "mtu", None) if dev in table else None
            if mtu is not None:
                asked[dev] = int(mtu)
    bonds = tables[1]
    for dev in under:
        if dev in bonds and bonds[dev].mtu is not None:
            for slave in bonds[dev].slaves:
                asked.setdefault(slave, int(bonds[dev].mtu))
    return tuple(asked.items())


def answering(conn: Connection, gateways: list[str]) -> list[str]:
    """The gateways that answer a ping now, in one round trip."""
    if not gateways:
        return []
    result = conn.run(probe_command(gateways))
    if not result.ok:
        raise SSHError(f"{conn.label}: cannot ping the gateways: {result.stderr.strip()}")
    dead = set(result.stdout.split())
    return [gw for gw in gateways if gw not in dead]


def mac_mismatches(host: str, model: Any, state: NetState) -> list[str]:
    """Each NIC whose real MAC is not the inventory's `hwaddr` (the network service would
    refuse to bring it up with that address set, and the host would revert), one line each."""
    links = {link.name: link for link in state.links}
    # An enslaved NIC shows its bond's MAC (active-backup gives every slave the bond's):
    # the bonding driver's "Permanent HW addr" is its own.
    bonds = state.chain.bonds.values() if state.chain is not None else ()
    permanent = {s.name: s.permanent for bond in bonds for s in bond.slaves if s.permanent}
    problems = []
    for name, nic in model.nics.items():
        want = str(nic.hwaddr).lower()
        link = links.get(name)
        if link is None:
            problems.append(f"{host}: there is no NIC {name} (the inventory's hwaddr {want})")
            continue
        mac = permanent.get(name) or (link.mac or "").lower()
        if mac != want:
            own = " (its own, the bonding driver's permanent address)" if name in permanent else ""
            problems.append(
                f"{host}: NIC {name} has MAC {mac or 'none'}{own}, the inventory's hwaddr is"
                f" {want}: refusing to change the host"
            )
    return problems
