"""Read a host's network state in one round trip, and what the model expects of it."""

from __future__ import annotations

import ipaddress
from typing import Any

from hvbridge.netstate import ExpectedBridge, NetState, state_from_text_outputs
from hvbridge.ssh import Connection, SSHError

MARK = "@@hvbridge@@"
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


def read_netstate(conn: Connection) -> NetState:
    result = conn.run(STATE_COMMAND)
    parts = result.stdout.split(f"{MARK}\n")
    if not result.ok or len(parts) != 4:
        raise SSHError(
            f"{conn.target.host}: cannot read the network state: {result.stderr.strip()}"
        )
    bridges, links, addrs, routes = parts
    tool, _, brctl_output = bridges.partition("\n")
    return state_from_text_outputs(brctl_output if tool == "brctl" else None, links, addrs, routes)


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
