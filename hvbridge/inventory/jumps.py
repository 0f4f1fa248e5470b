"""Jump hosts across the inventory: each named hop is a host in it and no chain of hops
loops; the hops that reach a host, an inventory host replaced by its own hops and address;
and those hops written where Nornir's connection sees them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nornir.core.inventory import ConnectionOptions, Inventory

from hvbridge.hops import Hop
from hvbridge.inventory.checks import HostCheck
from hvbridge.inventory.loops import first_loop
from hvbridge.inventory.models import ATTRIBUTES, CONNECTION, HostModel
from hvbridge.inventory.origins import resolve


def check_jumps(checks: Mapping[str, HostCheck]) -> None:
    edges = {
        name: [hop for hop in check.connection.extras.jump if isinstance(hop, str)]
        for name, check in checks.items()
        if check.connection is not None
    }
    for name, check in checks.items():
        if check.connection is None:
            continue
        for index, hop in enumerate(check.connection.extras.jump):
            if isinstance(hop, str) and hop not in checks:
                check.in_connection(
                    ("extras", "jump", index),
                    f"{hop} is not a host in this inventory (for a host outside it: user@{hop}:22)",
                )
        loop = first_loop([name], edges)
        if loop is not None:
            check.in_connection(("extras", "jump"), f"jump hosts form a loop: {' -> '.join(loop)}")


def jump_hops(models: Mapping[str, HostModel], name: str) -> list[Hop]:
    """The hops to reach host `name`: an inventory host is replaced by its own hops and
    then its address, user and port, named after it for messages."""
    hops: list[Hop] = []
    for hop in models[name].connection.extras.jump:
        if isinstance(hop, Hop):
            hops.append(hop)
            continue
        via = models[hop].connection
        hops += jump_hops(models, hop)
        hops.append(Hop(via.hostname, via.port, via.username, name=hop))
    return hops


def write_jumps(inventory: Inventory, models: Mapping[str, HostModel]) -> None:
    """For each host whose `jump` names inventory hosts, its own hvbridge connection
    options get the resolved hops, so that Nornir's `host.get_connection("hvbridge", ...)`
    in any script reaches the same hops as the CLI: the connection plugin cannot look up
    another host. The rest of the extras are those Nornir resolves for the host; groups
    and defaults are not touched (other hosts share them)."""
    for name, model in models.items():
        if all(isinstance(hop, Hop) for hop in model.connection.extras.jump):
            continue
        host = inventory.hosts[name]
        extras: dict[str, Any] = dict(resolve(host).connection_values()["extras"])
        extras["jump"] = jump_hops(models, name)
        own = host.connection_options.get(CONNECTION)
        fields = {} if own is None else {key: getattr(own, key) for key in ATTRIBUTES}
        host.connection_options = {
            **host.connection_options,
            CONNECTION: ConnectionOptions(**fields, extras=extras),
        }
