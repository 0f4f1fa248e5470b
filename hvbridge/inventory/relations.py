"""Relations between one host's values that no single field shows: which device sits on
which (hvbridge.inventory.stacking), addressing, gateways inside their subnet, bond options,
MTU along the chain, IPv6 routes, DNS, guests' bridges and PCI slots, the default route.
Each check returns (field path, message) pairs; `relations` is usable on its own."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from ipaddress import IPv4Address, IPv4Interface

from hvbridge.inventory.bonding import bond_options
from hvbridge.inventory.dns import dns_settings
from hvbridge.inventory.ipv6 import ipv6_routes
from hvbridge.inventory.models import BridgeModel, HostData, NicModel, PciAddress
from hvbridge.inventory.mtu import mtu_chain
from hvbridge.inventory.problems import Loc
from hvbridge.inventory.stacking import Master, kind, stacking
from hvbridge.validators import netmask_prefix

_PORT_FIELDS = ("ipaddr", "netmask", "prefix", "gateway", "defroute")

Finding = tuple[Loc, str]


def relations(data: HostData, left_out: Collection[str] = ()) -> list[Finding]:
    """Every problem between a host's NICs, bonds, VLANs, bridges and guests that no single
    field shows.

    Names in `left_out` exist but did not parse: references to them are not reported.
    """
    masters, found = stacking(data, left_out)
    for name, nic in data.nics.items():
        if name in masters:
            found += _lower_nic(name, nic, masters[name])
        else:
            found += _addressing(("nics", name), nic)
    for name, bridge in data.bridges.items():
        found += _addressing(("bridges", name), bridge)
    found += bond_options(data)
    slave_of = {name: master.name for name, master in masters.items() if master.kind == "bond"}
    found += mtu_chain(data, slave_of)
    found += ipv6_routes(data)
    found += dns_settings(data)
    found += _guest_interfaces(data, left_out)
    found += _default_routes(data, masters)
    return found


def _lower_nic(name: str, nic: NicModel, master: Master) -> list[Finding]:
    """A port or a slave hands its address and routes up, as the seed's eth0 file does."""
    loc = ("nics", name)
    found: list[Finding] = [
        ((*loc, key), f"{name} is {master} and has no address or route of its own")
        for key in _PORT_FIELDS
        if key in nic.model_fields_set and getattr(nic, key) is not None
    ]
    if nic.bootproto not in (None, "none"):
        found.append(((*loc, "bootproto"), f"{name} is {master}: must be none or unset"))
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
            found += _guest_bridge(data, loc, interface.bridge, left_out)
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


def _guest_bridge(
    data: HostData, loc: Loc, bridge: str, left_out: Collection[str]
) -> list[Finding]:
    if bridge in data.bridges or bridge in left_out:
        return []
    what = kind(data, bridge)
    if what is not None:
        return [
            (
                (*loc, "bridge"),
                f"{bridge} is a {what}, not a bridge: a guest's interface"
                " goes on a bridge in bridges",
            )
        ]
    return [((*loc, "bridge"), f"{bridge} is not in bridges")]


def _routes_by_default(item: NicModel | BridgeModel) -> bool:
    """Whether ifup would install a default route through `item`."""
    if not item.defroute:
        return False
    # A dhcp lease normally carries a router; a static address needs a gateway for one.
    return item.bootproto == "dhcp" or (item.bootproto == "static" and item.gateway is not None)


def _default_routes(data: HostData, masters: Mapping[str, Master]) -> list[Finding]:
    """Two interfaces with DEFROUTE=yes and a gateway (or DHCP): which wins depends on the
    order they come up in, so at most one of all the bridges and NICs may have it."""
    routed: list[tuple[Loc, str]] = [
        (("nics", name), name)
        for name, nic in data.nics.items()
        if name not in masters and _routes_by_default(nic)
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
