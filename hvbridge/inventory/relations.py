"""Relations between one host's values that no single field shows: ports and bridges,
addressing, gateways inside their subnet, guests' bridges and PCI slots, the default route.
Each check returns (field path, message) pairs; `relations` is usable on its own."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from ipaddress import IPv4Address, IPv4Interface

from hvbridge.inventory.models import BridgeModel, HostData, NicModel, PciAddress
from hvbridge.inventory.problems import Loc
from hvbridge.validators import netmask_prefix

_PORT_FIELDS = ("ipaddr", "netmask", "prefix", "gateway", "defroute")

Finding = tuple[Loc, str]


def relations(data: HostData, left_out: Collection[str] = ()) -> list[Finding]:
    """Every problem between a host's NICs, bridges and guests that no single field shows.

    Names in `left_out` exist but did not parse: references to them are not reported.
    """
    owners, found = _ports(data, left_out)
    for name, nic in data.nics.items():
        if name in owners:
            found += _port_nic(data, name, nic, owners[name])
        else:
            found += _addressing(("nics", name), nic)
    for name, bridge in data.bridges.items():
        found += _addressing(("bridges", name), bridge)
    found += _guest_interfaces(data, left_out)
    found += _default_routes(data, owners)
    return found


def _ports(data: HostData, left_out: Collection[str]) -> tuple[dict[str, str], list[Finding]]:
    """Which bridge owns each port NIC (the first to list it), and bad port lists."""
    owners: dict[str, str] = {}
    found: list[Finding] = []
    for name, bridge in data.bridges.items():
        if name in data.nics:
            found.append(
                (("bridges", name), f"{name} is also in nics: a name is a bridge or a NIC")
            )
        for index, port in enumerate(bridge.ports):
            problem = None if port in left_out else _port_problem(data, owners, name, port)
            if problem is None:
                owners[port] = name
            else:
                found.append((("bridges", name, "ports", index), problem))
    return owners, found


def _port_problem(data: HostData, owners: Mapping[str, str], bridge: str, port: str) -> str | None:
    if port in data.bridges:
        return f"{port} is a bridge; a port must be a NIC in nics"
    if port not in data.nics:
        return f"{port} is not a NIC in nics"
    if owners.get(port) == bridge:
        return f"{port} is listed twice"
    if port in owners:
        return f"{port} is already a port of {owners[port]}"
    return None


def _port_nic(data: HostData, name: str, nic: NicModel, bridge: str) -> list[Finding]:
    """A port hands its address and routes to its bridge, as the seed's eth0 file does."""
    loc = ("nics", name)
    found: list[Finding] = [
        ((*loc, key), f"{name} is a port of {bridge} and has no address or route of its own")
        for key in _PORT_FIELDS
        if key in nic.model_fields_set and getattr(nic, key) is not None
    ]
    if nic.bootproto not in (None, "none"):
        found.append(((*loc, "bootproto"), f"{name} is a port of {bridge}: must be none or unset"))
    bridge_mtu = data.bridges[bridge].mtu
    if bridge_mtu is not None and nic.mtu is not None and bridge_mtu > nic.mtu:
        found.append(
            (
                ("bridges", bridge, "mtu"),
                f"{bridge_mtu} is above the MTU of its port {name} ({nic.mtu});"
                " the kernel caps a bridge at its smallest port",
            )
        )
    return found


def _addressing(loc: Loc, item: NicModel | BridgeModel) -> list[Finding]:
    given = [key for key in ("ipaddr", "netmask", "prefix", "gateway") if getattr(item, key)]
    if item.bootproto == "dhcp":
        return [((*loc, key), "not allowed with bootproto dhcp") for key in given]
    if item.bootproto != "static":
        return [((*loc, key), "needs bootproto: static") for key in given]
    found = _static(loc, item)
    return found if found else _subnet(loc, item)


def _static(loc: Loc, item: NicModel | BridgeModel) -> list[Finding]:
    found: list[Finding] = []
    if item.ipaddr is None:
        found.append(((*loc, "ipaddr"), "required with bootproto static"))
    if item.netmask is None and item.prefix is None:
        found.append(((*loc, "netmask"), "netmask or prefix required with bootproto static"))
    if item.netmask is not None and item.prefix is not None:
        length = netmask_prefix(item.netmask)
        if length != item.prefix:
            found.append(
                (
                    (*loc, "prefix"),
                    f"/{item.prefix} disagrees with netmask {item.netmask} (/{length})",
                )
            )
    return found


def _subnet(loc: Loc, item: NicModel | BridgeModel) -> list[Finding]:
    interface = item.interface
    if interface is None:
        return []
    network = interface.network
    found: list[Finding] = []
    role = _special_role(interface.ip, interface)
    if role is not None:
        found.append(((*loc, "ipaddr"), f"{interface.ip} is the {role} address of {network}"))
    gateway = item.gateway
    if gateway is None:
        return found
    role = _special_role(gateway, interface)
    if gateway not in network:
        found.append(((*loc, "gateway"), f"{gateway} is outside {network}"))
    elif gateway == interface.ip:
        found.append(((*loc, "gateway"), f"{gateway} is the address itself (ipaddr)"))
    elif role is not None:
        found.append(((*loc, "gateway"), f"{gateway} is the {role} address of {network}"))
    return found


def _special_role(address: IPv4Address, interface: IPv4Interface) -> str | None:
    network = interface.network
    # /31 and /32 have no network or broadcast address (RFC 3021).
    if network.prefixlen >= 31:
        return None
    if address == network.network_address:
        return "network"
    if address == network.broadcast_address:
        return "broadcast"
    return None


def _guest_interfaces(data: HostData, left_out: Collection[str]) -> list[Finding]:
    found: list[Finding] = []
    for name, guest in data.guests.items():
        slots: dict[PciAddress, int] = {}
        for index, interface in enumerate(guest.interfaces):
            loc = ("guests", name, "interfaces", index)
            if interface.bridge not in data.bridges and interface.bridge not in left_out:
                found.append(((*loc, "bridge"), f"{interface.bridge} is not in bridges"))
            address = interface.address
            if address is None:
                continue
            if address in slots:
                found.append(
                    ((*loc, "address"), f"PCI {address} is also interfaces[{slots[address]}]'s")
                )
            else:
                slots[address] = index
    return found


def _routes_by_default(item: NicModel | BridgeModel) -> bool:
    """Whether ifup would install a default route through `item`."""
    if not item.defroute:
        return False
    # A dhcp lease normally carries a router; a static address needs a gateway for one.
    return item.bootproto == "dhcp" or (item.bootproto == "static" and item.gateway is not None)


def _default_routes(data: HostData, owners: Mapping[str, str]) -> list[Finding]:
    """Two interfaces with DEFROUTE=yes and a gateway: which wins depends on ifup order."""
    routed: list[tuple[Loc, str]] = [
        (("nics", name), name)
        for name, nic in data.nics.items()
        if name not in owners and _routes_by_default(nic)
    ]
    routed += [
        (("bridges", name), name)
        for name, bridge in data.bridges.items()
        if _routes_by_default(bridge)
    ]
    return [
        ((*loc, "defroute"), f"{routed[0][1]} has the default route already; set defroute: false")
        for loc, _ in routed[1:]
    ]
