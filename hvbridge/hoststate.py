"""Read a host's network state in one round trip, and what the model expects of it."""

from __future__ import annotations

import ipaddress
import shlex
from typing import Any

from hvbridge.netstate import ExpectedBridge, NetState, state_from_text_outputs
from hvbridge.platforms import Platform
from hvbridge.platforms.iproute import MARK
from hvbridge.ssh import Connection, SSHError

PROBES = "@@hvbridge-probes@@"


def parse_state(host: str, text: str) -> NetState:
    """What a platform's `state_command` printed, as a NetState."""
    parts = text.split(f"{MARK}\n")
    if len(parts) != 4:
        raise SSHError(f"{host}: cannot read the network state (got {len(parts)} parts)")
    bridges, links, addrs, routes = parts
    tool, _, brctl_output = bridges.partition("\n")
    return state_from_text_outputs(brctl_output if tool == "brctl" else None, links, addrs, routes)


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


def expected_bridges(model: Any) -> list[ExpectedBridge]:
    expected = []
    for name, bridge in model.bridges.items():
        address = None
        if bridge.bootproto == "static":
            mask = bridge.prefix if bridge.prefix is not None else bridge.netmask
            address = ipaddress.IPv4Interface(f"{bridge.ipaddr}/{mask}")
        gateway = ipaddress.IPv4Address(str(bridge.gateway)) if bridge.gateway else None
        expected.append(
            ExpectedBridge(name, tuple(bridge.ports), address, gateway, bool(bridge.defroute))
        )
    return expected


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
    problems = []
    for name, nic in model.nics.items():
        want = str(nic.hwaddr).lower()
        link = links.get(name)
        if link is None:
            problems.append(f"{host}: there is no NIC {name} (the inventory's hwaddr {want})")
        elif (link.mac or "").lower() != want:
            problems.append(
                f"{host}: NIC {name} has MAC {link.mac or 'none'}, the inventory's hwaddr is"
                f" {want}: refusing to change the host"
            )
    return problems
