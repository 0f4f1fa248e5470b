"""Jump hosts across the inventory: each named hop is a host in it, and no chain of hops
loops; the hops that reach a host, with an inventory host replaced by its own hops and
address."""

from __future__ import annotations

from collections.abc import Mapping

from hvbridge.inventory.checks import HostCheck
from hvbridge.inventory.loops import first_loop
from hvbridge.inventory.models import HostModel
from hvbridge.validators import Hop, parse_hop


def outside(hop: str) -> bool:
    """A hop outside the inventory: `jump_hop` gives those as `[user@]host:port`."""
    return ":" in hop


def check_jumps(checks: Mapping[str, HostCheck]) -> None:
    edges = {
        name: [hop for hop in check.connection.extras.jump if not outside(hop)]
        for name, check in checks.items()
        if check.connection is not None
    }
    for name, check in checks.items():
        if check.connection is None:
            continue
        for index, hop in enumerate(check.connection.extras.jump):
            if not outside(hop) and hop not in checks:
                check.in_connection(
                    ("extras", "jump", index),
                    f"{hop} is not a host in this inventory (for a host outside it: user@{hop}:22)",
                )
        loop = first_loop([name], edges)
        if loop is not None:
            check.in_connection(("extras", "jump"), f"jump hosts form a loop: {' -> '.join(loop)}")


def jump_hops(models: Mapping[str, HostModel], name: str) -> list[Hop]:
    """The hops to reach host `name`; an inventory host is replaced by its own hops and
    address (Nornir gives a connection plugin no way to look it up)."""
    hops: list[Hop] = []
    for hop in models[name].connection.extras.jump:
        if outside(hop):
            hops.append(parse_hop(hop))
            continue
        via = models[hop].connection
        hops += jump_hops(models, hop)
        hops.append(Hop(via.username, via.hostname, via.port))
    return hops


def jump_names(models: Mapping[str, HostModel], name: str) -> list[str]:
    """What messages call each of `jump_hops(name)`: an inventory host by its name, a host
    outside it as written."""
    names: list[str] = []
    for hop in models[name].connection.extras.jump:
        names += [hop] if outside(hop) else [*jump_names(models, hop), hop]
    return names
