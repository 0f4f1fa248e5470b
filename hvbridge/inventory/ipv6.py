"""IPv6 on bridges: one default route, from an address the bridge has, through a gateway on
its link."""

from __future__ import annotations

from hvbridge.inventory.models import HostData
from hvbridge.inventory.problems import Loc

Finding = tuple[Loc, str]


def ipv6_routes(data: HostData) -> list[Finding]:
    found: list[Finding] = []
    routed: str | None = None
    for name, bridge in data.bridges.items():
        gateway = bridge.ipv6_gateway
        if gateway is None:
            continue
        loc = ("bridges", name, "ipv6_gateway")
        if routed is not None:
            found.append(
                (
                    loc,
                    f"{routed} has the IPv6 default route already; give ipv6_gateway"
                    " to one bridge only",
                )
            )
        routed = routed or name
        address = bridge.ipv6addr
        if address is None:
            if bridge.ipv6_autoconf is False:
                found.append(
                    (
                        loc,
                        f"{name} would have no IPv6 address to route from: give"
                        " ipv6addr, or leave ipv6_autoconf unset or true",
                    )
                )
        elif gateway == address.ip:
            found.append((loc, f"{gateway} is the address itself (ipv6addr)"))
        elif not gateway.is_link_local and gateway not in address.network:
            found.append(
                (
                    loc,
                    f"{gateway} is outside {address.network}; a global gateway is"
                    " on the bridge's prefix (a link-local fe80:: one always is)",
                )
            )
    return found
