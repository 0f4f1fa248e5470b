"""Validation of a whole Nornir inventory: every host's own checks, then what must hold
across hosts (unique MACs and addresses, jump hosts that exist and do not loop)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from nornir.core.inventory import Host, Inventory
from pydantic import BaseModel

from hvbridge.inventory.checks import HostCheck, check_host
from hvbridge.inventory.jumps import check_jumps, write_jumps
from hvbridge.inventory.models import HostData, HostModel
from hvbridge.inventory.problems import (
    InventoryError,
    InventoryFiles,
    Loc,
    Problem,
    path,
    render,
)


def _macs(data: HostData) -> Iterator[tuple[Loc, str]]:
    for name, nic in data.nics.items():
        yield ("nics", name, "hwaddr"), nic.hwaddr
    for name, guest in data.guests.items():
        for index, interface in enumerate(guest.interfaces):
            yield ("guests", name, "interfaces", index, "mac"), interface.mac


def _addresses(data: HostData) -> Iterator[tuple[Loc, str]]:
    for kind, items in (("nics", data.nics), ("bridges", data.bridges)):
        for name, item in items.items():
            if item.ipaddr is not None:
                yield (kind, name, "ipaddr"), str(item.ipaddr)
    for name, bridge in data.bridges.items():
        if bridge.ipv6addr is not None:
            yield ("bridges", name, "ipv6addr"), str(bridge.ipv6addr.ip)


def _unique(
    checks: Mapping[str, HostCheck],
    values: Callable[[HostData], Iterable[tuple[Loc, str]]],
    what: str,
) -> None:
    first: dict[str, tuple[str, Loc]] = {}
    for name, check in checks.items():
        for loc, value in values(check.data) if check.data is not None else ():
            # MACs compare case-insensitively: NICs keep upper case, guests lower case.
            seen = first.setdefault(value.upper(), (name, loc))
            if seen != (name, loc):
                where = "this host" if seen[0] == name else f"host {seen[0]}"
                check.in_data(
                    loc, f"{value} is also {path(seen[1])} on {where}; {what} must be unique"
                )


def _fields(model: BaseModel, kind: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(model, name) for name in kind.model_fields}


def validate_hosts(
    inventory: Inventory, files: InventoryFiles | None = None
) -> dict[str, HostModel]:
    """A validated model for every host of `inventory`, from any Nornir inventory plugin
    (values as Nornir resolves them through groups and defaults); never touches the network.

    A bare word in a host's `jump` is an inventory host: once every host is valid, such a
    host's own `connection_options.hvbridge.extras` gets its resolved hops (the one change
    this makes to the inventory; hvbridge.inventory.jumps.write_jumps), so that Nornir's own
    `host.get_connection("hvbridge", ...)` reaches the same hops as the CLI. A jump host is
    looked up in `inventory`: pass the whole inventory, not one `nr.filter()` left out.

    Raises InventoryError listing every problem, one line each: `host <name>: <field>:
    <why>`, or `hosts <names> (inherited from group <group>): ...` for a value a group or
    defaults define; with `files` (a SimpleInventory's), each line starts with the file.
    """
    models, problems = check_inventory(inventory)
    if problems:
        raise InventoryError(render(problems, files))
    write_jumps(inventory, models)
    return models


def validate_host(host: Host, files: InventoryFiles | None = None) -> HostModel:
    """One host's model, its values checked as `validate_hosts` checks them (without the
    checks across hosts, and without resolving a bare-word jump: `validate_hosts` does
    that); InventoryError naming the host and each field otherwise (and the file, given
    `files`)."""
    check = check_host(host)
    if check.problems or check.data is None or check.connection is None:
        raise InventoryError(render(check.problems, files))
    return HostModel(name=host.name, connection=check.connection, **_fields(check.data, HostData))


def check_inventory(nornir: Inventory) -> tuple[dict[str, HostModel], list[Problem]]:
    """Every host's model (those that parse) and every problem found."""
    checks = {name: check_host(host) for name, host in nornir.hosts.items()}
    _unique(checks, _macs, "MACs")
    _unique(checks, _addresses, "addresses")
    check_jumps(checks)
    problems = [problem for check in checks.values() for problem in check.problems]
    models = {
        name: HostModel(name=name, connection=check.connection, **_fields(check.data, HostData))
        for name, check in checks.items()
        if check.data is not None and check.connection is not None
    }
    return models, problems
