"""Which device sits on which: a bridge's ports (NICs, bonds, VLANs), a bond's slaves
(NICs) and a VLAN's parent (a NIC or a bond).

A device has at most one master, a bridge or a bond. A NIC or a bond may carry VLANs as
well, as Linux allows: its untagged frames go to its master (or its own address), its
tagged ones to the VLANs. Every bond and VLAN must end up under a bridge, or nothing would
ever use it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from hvbridge.inventory.models import HostData
from hvbridge.inventory.problems import Loc
from hvbridge.platforms import devices

Finding = tuple[Loc, str]

# The kernel's and every tool's VLAN naming convention, `PARENT.ID` (`bond0.100`).
_DOTTED_VLAN = re.compile(r"(?P<parent>.+)\.(?P<id>[0-9]+)", re.ASCII)
_TABLES = ("nics", "bonds", "vlans", "bridges")
_WORDS: dict[devices.Kind, str] = {"nic": "NIC", "bond": "bond", "vlan": "VLAN", "bridge": "bridge"}


@dataclass(frozen=True)
class Master:
    """The bridge a device is a port of, or the bond it is a slave of."""

    kind: Literal["bridge", "bond"]
    name: str

    def __str__(self) -> str:
        return f"a port of {self.name}" if self.kind == "bridge" else f"a slave of {self.name}"


def stacking(
    data: HostData, left_out: Collection[str] = ()
) -> tuple[dict[str, Master], list[Finding]]:
    """Each device's master (the first bridge or bond to claim it), and every problem with
    names, ports, slaves, VLAN parents and devices nothing uses."""
    found = _names(data)
    masters: dict[str, Master] = {}
    for name, bond in data.bonds.items():
        for index, slave in enumerate(bond.slaves):
            found += _claim(
                data,
                masters,
                Master("bond", name),
                slave,
                left_out,
                ("bonds", name, "slaves", index),
            )
    for name, bridge in data.bridges.items():
        for index, port in enumerate(bridge.ports):
            found += _claim(
                data,
                masters,
                Master("bridge", name),
                port,
                left_out,
                ("bridges", name, "ports", index),
            )
    found += _vlans(data, masters, left_out)
    if not left_out:
        # A device a broken (left out) entry used would look unused: say nothing then.
        found += _unused(data)
    return masters, found


def kind(data: HostData, name: str) -> str | None:
    """`name`'s kind as messages say it (NIC, bond, VLAN, bridge); None when it is none."""
    found = devices.kind_of(data, name)
    return None if found is None else _WORDS[found]


def _names(data: HostData) -> list[Finding]:
    """A name is one device: network files, sysfs and `ip link` know it by name alone."""
    first: dict[str, str] = {}
    found: list[Finding] = []
    for table in _TABLES:
        for name in getattr(data, table):
            if name in first:
                found.append(
                    (
                        (table, name),
                        f"{name} is also in {first[name]}: a name is one"
                        " device (a NIC, a bond, a VLAN or a bridge)",
                    )
                )
            else:
                first[name] = table
    return found


def _claim(
    data: HostData,
    masters: dict[str, Master],
    master: Master,
    device: str,
    left_out: Collection[str],
    loc: Loc,
) -> list[Finding]:
    if device in left_out:
        return []
    problem = _claim_problem(data, masters, master, device)
    if problem is not None:
        return [(loc, problem)]
    masters[device] = master
    return []


def _claim_problem(
    data: HostData, masters: Mapping[str, Master], master: Master, device: str
) -> str | None:
    what = kind(data, device)
    if master.kind == "bond":
        if what not in ("NIC", None):
            return f"{device} is a {what}; a slave must be a NIC in nics"
        if what is None:
            return f"{device} is not a NIC in nics"
    else:
        if what == "bridge":
            return f"{device} is a bridge; a port must be a NIC, a bond or a VLAN"
        if what is None:
            return f"{device} is not in nics, bonds or vlans"
    if masters.get(device) == master:
        return f"{device} is listed twice"
    if device in masters:
        return f"{device} is already {masters[device]}"
    return None


def _vlans(
    data: HostData, masters: Mapping[str, Master], left_out: Collection[str]
) -> list[Finding]:
    found: list[Finding] = []
    seen: dict[tuple[str, int], str] = {}
    for name, vlan in data.vlans.items():
        loc = ("vlans", name)
        problem = None if vlan.parent in left_out else _parent_problem(data, masters, vlan.parent)
        if problem is not None:
            found.append(((*loc, "parent"), problem))
        dotted = _DOTTED_VLAN.fullmatch(name)
        if dotted is not None and dotted["parent"] != vlan.parent:
            found.append(
                (
                    (*loc, "parent"),
                    f"{name} names its parent {dotted['parent']}, not"
                    f" {vlan.parent}: a PARENT.ID name must agree with parent and id",
                )
            )
        if dotted is not None and int(dotted["id"]) != vlan.id:
            found.append(
                (
                    (*loc, "id"),
                    f"{name} names VLAN {int(dotted['id'])}, not"
                    f" {vlan.id}: a PARENT.ID name must agree with parent and id",
                )
            )
        other = seen.setdefault((vlan.parent, vlan.id), name)
        if other != name:
            found.append(
                ((*loc, "id"), f"{vlan.parent} carries VLAN {vlan.id} already, as {other}")
            )
    return found


def _parent_problem(data: HostData, masters: Mapping[str, Master], parent: str) -> str | None:
    what = kind(data, parent)
    if what is None:
        return f"{parent} is not in nics or bonds"
    if what == "VLAN":
        return f"{parent} is a VLAN; a VLAN's parent must be a NIC or a bond (no VLAN in a VLAN)"
    if what == "bridge":
        return f"{parent} is a bridge; a VLAN's parent must be a NIC or a bond"
    master = masters.get(parent)
    if master is not None and master.kind == "bond":
        return (
            f"{parent} is {master}; put the VLAN on {master.name}: a slave's frames arrive"
            " through its bond"
        )
    return None


def _unused(data: HostData) -> list[Finding]:
    used = {port for bridge in data.bridges.values() for port in bridge.ports}
    used |= {vlan.parent for name, vlan in data.vlans.items() if name in used}
    found: list[Finding] = [
        (
            ("bonds", name),
            f"{name} is not under any bridge: make it (or a VLAN on it) a"
            " bridge's port, or leave it out",
        )
        for name in data.bonds
        if name not in used
    ]
    found += [
        (
            ("vlans", name),
            f"{name} is not under any bridge: make it a bridge's port, or leave it out",
        )
        for name in data.vlans
        if name not in used
    ]
    return found
