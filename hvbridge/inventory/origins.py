"""Where each of a host's values comes from: the host, one of its groups, or defaults."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nornir.core.inventory import ConnectionOptions, Host

from hvbridge.inventory.models import CONNECTION
from hvbridge.inventory.problems import DEFAULTS, HOST, Loc, Origin, group_origin


def data_origins(host: Host) -> dict[str, Origin]:
    """For each top-level `data` key, who defines it: Nornir merges data one level deep only."""
    origins = dict.fromkeys(host.data, HOST)
    for group in host.extended_groups():
        for key in group.data:
            origins.setdefault(key, group_origin(group.name))
    for key in host.defaults.data:
        origins.setdefault(key, DEFAULTS)
    return origins


def attribute(host: Host, name: str) -> tuple[Any, Origin]:
    """`host.<name>` as Nornir resolves it (host, its groups in order, defaults), and its origin."""
    # object.__getattribute__ reads an element's own value, as Nornir does for groups.
    value = object.__getattribute__(host, name)
    if value is not None:
        return value, HOST
    for group in host.extended_groups():
        value = object.__getattribute__(group, name)
        if value is not None:
            return value, group_origin(group.name)
    return getattr(host.defaults, name), DEFAULTS


def _connection_chain(element: Host, origin: Origin) -> Iterator[tuple[ConnectionOptions, Origin]]:
    """Nornir's `_get_connection_options_recursively` order: own, each group's chain, defaults."""
    own = element.connection_options.get(CONNECTION)
    if own is not None:
        yield own, origin
    for group in element.groups:
        yield from _connection_chain(group, group_origin(group.name))
    default = element.defaults.connection_options.get(CONNECTION)
    if default is not None:
        yield default, DEFAULTS


@dataclass(frozen=True)
class Source:
    origin: Origin
    loc: Loc


def connection_value(host: Host, name: str) -> tuple[Any, Source]:
    """One field of `host.get_connection_parameters(CONNECTION)`, and where it is written."""
    for options, origin in _connection_chain(host, HOST):
        value = getattr(options, name)
        if value is not None:
            return value, Source(origin, ("connection_options", CONNECTION, name))
    if name == "extras":
        return {}, Source(HOST, ("connection_options", CONNECTION, name))
    value, origin = attribute(host, name)
    return value, Source(origin, (name,))
