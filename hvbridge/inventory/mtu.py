"""MTU along the chain NIC -> bond -> VLAN -> bridge. The rule, said in every message: a
device's MTU is its own `mtu`; unset, a VLAN has its parent's (the kernel copies it when it
makes the VLAN) and a NIC or a bond has 1500 (hvbridge writes no MTU for it, so it comes up
with the driver's default). A VLAN is not above its parent, a bridge not above its smallest
port, and a bond's slave, when it says an MTU, says the bond's (the driver sets it)."""

from __future__ import annotations

from collections.abc import Mapping

from hvbridge.inventory.models import HostData
from hvbridge.inventory.problems import Loc

Finding = tuple[Loc, str]

DEFAULT_MTU = 1500


def effective(
    data: HostData, name: str, slave_of: Mapping[str, str] | None = None
) -> tuple[int, str] | None:
    """`name`'s MTU and how it was found, as a message says it (`1500`, `unset, so 1500`,
    `unset, so its parent bond0's 9000`); None for a device that is not a NIC, a bond or a
    VLAN on one (other checks say so). `slave_of` maps a bond's slaves to it."""
    bond = (slave_of or {}).get(name)
    if bond is not None and bond in data.bonds:
        mtu = data.bonds[bond].mtu or DEFAULT_MTU
        return mtu, f"its bond {bond}'s {mtu}"
    device = data.nics.get(name) or data.bonds.get(name)
    if device is not None:
        if device.mtu is not None:
            return device.mtu, str(device.mtu)
        return DEFAULT_MTU, f"unset, so {DEFAULT_MTU}"
    vlan = data.vlans.get(name)
    if vlan is None:
        return None
    if vlan.mtu is not None:
        return vlan.mtu, str(vlan.mtu)
    if vlan.parent in data.vlans:
        return None  # a VLAN in a VLAN is refused elsewhere; never follow a loop
    parent = effective(data, vlan.parent, slave_of)
    if parent is None:
        return None
    return parent[0], f"unset, so its parent {vlan.parent}'s {parent[0]}"


def mtu_chain(data: HostData, slave_of: Mapping[str, str]) -> list[Finding]:
    """Every MTU that the chain under it cannot carry. `slave_of` maps a NIC to its bond."""
    found: list[Finding] = []
    for name, nic in data.nics.items():
        bond = slave_of.get(name)
        if bond is None or nic.mtu is None:
            continue
        mtu, how = effective(data, bond) or (DEFAULT_MTU, f"unset, so {DEFAULT_MTU}")
        if nic.mtu != mtu:
            found.append(
                (
                    ("nics", name, "mtu"),
                    f"{nic.mtu} differs from the MTU of its bond"
                    f" {bond} ({how}); the bonding driver gives its slaves the bond's MTU:"
                    " leave it out or make it the same",
                )
            )
    for name, vlan in data.vlans.items():
        parent = effective(data, vlan.parent, slave_of) if vlan.parent not in data.vlans else None
        if vlan.mtu is not None and parent is not None and vlan.mtu > parent[0]:
            found.append(
                (
                    ("vlans", name, "mtu"),
                    f"{vlan.mtu} is above the MTU of its parent"
                    f" {vlan.parent} ({parent[1]}); a VLAN carries no larger frame than"
                    " its parent",
                )
            )
    for name, bridge in data.bridges.items():
        if bridge.mtu is None:
            continue  # the kernel gives it its smallest port's
        known: list[tuple[int, str, str]] = []
        for port in bridge.ports:
            mtu_how = effective(data, port, slave_of)
            if mtu_how is not None:
                known.append((*mtu_how, port))
        if not known:
            continue
        smallest, how, port = min(known, key=lambda item: item[0])
        if bridge.mtu > smallest:
            found.append(
                (
                    ("bridges", name, "mtu"),
                    f"{bridge.mtu} is above the MTU of its port"
                    f" {port} ({how}); the kernel caps a bridge at its smallest port",
                )
            )
    return found
