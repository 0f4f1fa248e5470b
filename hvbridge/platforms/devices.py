"""The chain of devices under a bridge (NIC -> bond -> VLAN -> bridge), read from a host's
validated data the same way by every platform, the checks and the reports.

Models are duck-typed (a host's `nics`, `bonds`, `vlans` and `bridges` mappings) so that
render tests can hand in plain namespaces; a model without `bonds` or `vlans` has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Kind = Literal["nic", "bond", "vlan", "bridge"]


def _table(model: Any, kind: str) -> Mapping[str, Any]:
    table: Mapping[str, Any] = getattr(model, kind, None) or {}
    return table


def kind_of(model: Any, name: str) -> Kind | None:
    """What the device `name` is in the host's data; None when it is not in it."""
    kinds: tuple[tuple[Kind, str], ...] = (
        ("nic", "nics"), ("bond", "bonds"), ("vlan", "vlans"), ("bridge", "bridges"),
    )  # fmt: skip
    for kind, table in kinds:
        if name in _table(model, table):
            return kind
    return None


def hwaddr_of(model: Any, name: str) -> str:
    """The MAC the device `name` has, as the inventory writes it: a NIC's own; a bond's
    first slave's (the kernel gives a bond the MAC of the first slave it enslaves); a VLAN's
    parent's; a bridge's first port's (the MAC the templates pin it to). Raises KeyError for
    a name that is none of those, or a chain that loops (validation refuses both)."""
    nics, bonds, vlans, bridges = (
        _table(model, kind) for kind in ("nics", "bonds", "vlans", "bridges")
    )
    seen: set[str] = set()
    while name not in nics:
        if name in seen:
            raise KeyError(name)
        seen.add(name)
        if name in bonds:
            name = bonds[name].slaves[0]
        elif name in vlans:
            name = vlans[name].parent
        elif name in bridges:
            name = bridges[name].ports[0]
        else:
            raise KeyError(name)
    hwaddr: str = nics[name].hwaddr
    return hwaddr


def chain(model: Any, bridge: str) -> list[str]:
    """The devices under a bridge, top down, each once: its ports, then a VLAN's parent and
    a bond's slaves (NIC -> bond -> VLAN -> bridge, read upwards)."""
    bonds, vlans = _table(model, "bonds"), _table(model, "vlans")
    order: list[str] = []
    todo = list(_table(model, "bridges")[bridge].ports)
    while todo:
        name = todo.pop(0)
        if name in order:
            continue
        order.append(name)
        if name in vlans:
            todo.append(vlans[name].parent)
        elif name in bonds:
            todo.extend(bonds[name].slaves)
    return order


def virtual(model: Any) -> list[str]:
    """Every device the host's files make rather than find, top down: its bridges, then its
    VLANs, then its bonds."""
    return [name for kind in ("bridges", "vlans", "bonds") for name in _table(model, kind)]
