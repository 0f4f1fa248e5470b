"""What every platform's templates say of a bridge the same way, whatever its file format:
its address with the prefix length, and the MAC it takes (its first port's, down the
chain to a NIC: hvbridge.platforms.devices)."""

from __future__ import annotations

import ipaddress
from typing import Any

from hvbridge.platforms import devices


def address(bridge: Any) -> str | None:
    """A static bridge's address as `IP/PREFIX` (from `prefix` or `netmask`); None for DHCP."""
    if bridge.bootproto != "static":
        return None
    length = bridge.prefix if bridge.prefix is not None else bridge.netmask
    return ipaddress.IPv4Interface(f"{bridge.ipaddr}/{length}").with_prefixlen


def contexts(model: Any) -> list[dict[str, Any]]:
    """Per bridge, what the templates use: its name, its model, its address and the MAC
    of its first port (lower case), which a bridge keeps as its own."""
    return [
        {
            "name": name,
            "bridge": bridge,
            "address": address(bridge),
            "mac": devices.hwaddr_of(model, name).lower(),
        }
        for name, bridge in model.bridges.items()
    ]
