"""Read a host's network state in one round trip, and what the model expects of it."""

from __future__ import annotations

import ipaddress
import shlex
from typing import Any

from hvbridge.netstate import ExpectedBridge, NetState, state_from_text_outputs
from hvbridge.ssh import Connection, SSHError

MARK = "@@hvbridge@@"
PROBES = "@@hvbridge-probes@@"
STATE_COMMAND = "; ".join(
    [
        "if command -v brctl >/dev/null 2>&1; then echo brctl; brctl show; else echo none; fi",
        f"echo {MARK}",
        # Text, not `ip -j`: EL6's iproute 2.6.32 and EL7's have no JSON output.
        "ip -o -d link show",
        f"echo {MARK}",
        "ip -o -4 addr show",
        f"echo {MARK}",
        "ip -4 route show",
    ]
)


def parse_state(host: str, text: str) -> NetState:
    """What STATE_COMMAND printed, as a NetState."""
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


def read_netstate(conn: Connection) -> NetState:
    result = conn.run(STATE_COMMAND)
    if not result.ok:
        raise SSHError(
            f"{conn.target.host}: cannot read the network state: {result.stderr.strip()}"
        )
    return parse_state(conn.target.host, result.stdout)


def read_netstate_and_probes(conn: Connection, gateways: list[str]) -> tuple[NetState, list[str]]:
    """The state and the gateways that answer now, in one round trip."""
    result = conn.run(f"{STATE_COMMAND}; echo {PROBES}; {probe_command(gateways)}")
    state_text, _, silent = result.stdout.partition(f"{PROBES}\n")
    if not result.ok or not _:
        raise SSHError(
            f"{conn.target.host}: cannot read the network state: {result.stderr.strip()}"
        )
    dead = set(silent.split())
    return parse_state(conn.target.host, state_text), [gw for gw in gateways if gw not in dead]


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
