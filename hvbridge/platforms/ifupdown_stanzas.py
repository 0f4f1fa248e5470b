"""What hvbridge's interfaces(5) file says, device by device, before a template writes it:
pure, shared by ifupdown (Debian) and ifupdown2 (Proxmox).

Each bridge's chain (hvbridge.platforms.devices) is written bottom up, each device once
even when two bridges share it (a bond under two VLANs): NICs, then bonds, then VLANs, then
the bridge, so that `ifup -a` (file order) finds every lower device already there. Every
device gets an explicit `mtu` whenever a bridge, a VLAN or a bond above it asks for one:
a VLAN is never above its parent, a bridge never above its smallest port (bridge-utils
would set the port to the bridge's anyway, ifupdown2 does not), and a bond's slaves take
the bond's (the kernel sets them so on enslaving: written, it is what `ifquery` checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hvbridge.platforms import bridges, devices
from hvbridge.platforms.devices import Kind


@dataclass(frozen=True)
class Device:
    """One device's stanza: `model` is the inventory's (NicModel, BondModel, ...)."""

    kind: Kind
    name: str
    model: Any
    mtu: int | None
    # A NIC enslaved to a bond: the bond (ifenslave's `bond-master`).
    master: str | None = None
    # A VLAN whose name says its parent and id (`bond0.100`): ifupdown and ifupdown2
    # create it from the name alone.
    dotted: bool = False
    # A bridge: its address with the prefix length (None: DHCP) and the MAC it keeps.
    address: str | None = None
    mac: str | None = None


def _table(model: Any, kind: str) -> Mapping[str, Any]:
    table: Mapping[str, Any] = getattr(model, kind, None) or {}
    return table


def mtus(model: Any) -> dict[str, int]:
    """The MTU to write on each device that needs one: its own when the inventory gives
    it, else the largest any device above it asks for (a bond's slaves: the bond's)."""
    nics, bonds, vlans, bridges_ = (
        _table(model, kind) for kind in ("nics", "bonds", "vlans", "bridges")
    )
    wanted: dict[str, int] = {}

    def ask(name: str, mtu: int | None) -> None:
        if mtu is not None:
            wanted[name] = max(wanted.get(name, mtu), mtu)

    # Top down: bridges ask their ports, VLANs their parents, bonds their slaves.
    for name, bridge in bridges_.items():
        ask(name, bridge.mtu)
        for port in bridge.ports:
            ask(port, wanted.get(name))
    for name, vlan in vlans.items():
        mtu = vlan.mtu if vlan.mtu is not None else wanted.get(name)
        ask(vlan.parent, mtu)
        if mtu is not None:
            wanted[name] = mtu
    for name, bond in bonds.items():
        mtu = bond.mtu if bond.mtu is not None else wanted.get(name)
        if mtu is not None:
            wanted[name] = mtu
            wanted.update(dict.fromkeys(bond.slaves, mtu))
    for name, nic in nics.items():
        if nic.mtu is not None and not any(name in bond.slaves for bond in bonds.values()):
            wanted[name] = nic.mtu
    return wanted


def stanzas(model: Any) -> list[Device]:
    """Every device hvbridge writes, in the order it writes them (see the module's doc)."""
    nics, bonds, vlans, bridges_ = (
        _table(model, kind) for kind in ("nics", "bonds", "vlans", "bridges")
    )
    mtu = mtus(model)
    master = {slave: name for name, bond in bonds.items() for slave in bond.slaves}
    order = {"nic": 0, "bond": 1, "vlan": 2}
    written: set[str] = set()
    found: list[Device] = []
    for name, bridge in bridges_.items():
        chain = [d for d in devices.chain(model, name) if d not in written]
        kinds = {d: devices.kind_of(model, d) or "nic" for d in chain}
        for device in sorted(chain, key=lambda d: order.get(kinds[d], 0)):
            written.add(device)
            kind = kinds[device]
            table = {"nic": nics, "bond": bonds, "vlan": vlans}.get(kind, {})
            entry: Any = table.get(device)
            found.append(
                Device(
                    kind=kind,
                    name=device,
                    model=entry,
                    mtu=mtu.get(device),
                    master=master.get(device),
                    dotted=kind == "vlan" and device == f"{entry.parent}.{entry.id}",
                )
            )
        found.append(
            Device(
                kind="bridge",
                name=name,
                model=bridge,
                mtu=mtu.get(name),
                address=bridges.address(bridge),
                mac=devices.hwaddr_of(model, name).lower(),
            )
        )
    return found
