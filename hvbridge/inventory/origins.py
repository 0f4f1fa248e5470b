"""A host's values as Nornir resolves them, each with the element that defines it.

Nornir decides every value: its own `Host.extended_data()`, attribute lookup through
groups and defaults, and `Host.get_connection_parameters()`. To say which element (the
host, which group, or defaults) a value comes from, those run on a copy of the host whose
every own value is wrapped in a `Tagged` naming its element and field: whatever Nornir
picks carries its origin. This works on an inventory from any Nornir inventory plugin,
and follows Nornir's rules exactly (the connection options' own order, which differs from
data's, included) without restating them here.

The copy also keeps the inventory as it is: `get_connection_parameters` writes inherited
values into the host's and the groups' own connection options.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, TypeVar

from nornir.core.inventory import ConnectionOptions, Defaults, Group, Host, ParentGroups

from hvbridge.inventory.models import ATTRIBUTES, CONNECTION
from hvbridge.inventory.problems import DEFAULTS, HOST, Loc, Origin, group_origin

_OPTIONS = (*ATTRIBUTES, "extras")


@dataclass(frozen=True)
class Tagged:
    """A value as one element writes it: the element, and the field's path in it."""

    value: Any
    origin: Origin
    loc: Loc


@dataclass(frozen=True)
class Resolved:
    """A host's values as Nornir resolves them; a field nobody sets is None."""

    data: dict[str, Tagged]
    attributes: dict[str, Tagged | None]
    # `get_connection_parameters(CONNECTION)`: an attribute no connection options set comes
    # from the attribute itself (loc `("port",)`), as in Nornir.
    connection: dict[str, Tagged | None]

    def values(self) -> dict[str, Any]:
        """The data's values alone."""
        return {key: tagged.value for key, tagged in self.data.items()}

    def connection_values(self) -> dict[str, Any]:
        """What Nornir hands the connection plugin; extras `{}` when nobody sets them."""
        found = {name: _value(tagged) for name, tagged in self.connection.items()}
        return {**found, "extras": found.get("extras") or {}}


def _value(tagged: Tagged | None) -> Any:
    return None if tagged is None else tagged.value


def resolve(host: Host) -> Resolved:
    """`host`'s data, attributes and hvbridge connection parameters, as Nornir resolves
    them, with their origins; `host` and its groups are not changed."""
    tagged = _TaggedCopy(host).host
    options = tagged.get_connection_parameters(CONNECTION)
    connection: dict[str, Tagged | None] = {
        name: _tag_of(getattr(options, name)) for name in _OPTIONS
    }
    return Resolved(
        data={key: _data_tag(key, value) for key, value in tagged.extended_data().items()},
        attributes={name: _tag_of(getattr(tagged, name)) for name in ATTRIBUTES},
        connection=connection,
    )


def _tag_of(value: object) -> Tagged | None:
    # Nornir's own `{}` for extras nobody sets is the one value not from an element.
    return value if isinstance(value, Tagged) else None


def _data_tag(key: str, value: object) -> Tagged:
    # A plugin's own Host class may add data Nornir's elements do not hold: the host's own.
    return value if isinstance(value, Tagged) else Tagged(value, HOST, (key,))


_Element = TypeVar("_Element", Group, Host, Defaults)


class _TaggedCopy:
    """A copy of a host, its groups (each copied once, as Nornir shares them) and defaults,
    with every own value wrapped in a `Tagged`."""

    def __init__(self, host: Host) -> None:
        self._groups: dict[int, Group] = {}
        self._defaults: dict[int, Defaults] = {}
        self.host = self._tagged(host, HOST)
        self.host.defaults = self._defaults_of(host)
        self.host.groups = ParentGroups(self._group(group) for group in host.groups)
        self.host.connections = {}

    def _group(self, group: Group) -> Group:
        if id(group) not in self._groups:
            tagged = self._tagged(group, group_origin(group.name))
            # Registered before its parents are copied: a loop of groups ends here.
            self._groups[id(group)] = tagged
            tagged.defaults = self._defaults_of(group)
            tagged.groups = ParentGroups(self._group(parent) for parent in group.groups)
        return self._groups[id(group)]

    def _defaults_of(self, element: Host) -> Defaults:
        # Nornir reads each element's own `defaults` (SimpleInventory gives all the same one).
        defaults = element.defaults
        if id(defaults) not in self._defaults:
            self._defaults[id(defaults)] = self._tagged(defaults, DEFAULTS)
        return self._defaults[id(defaults)]

    @staticmethod
    def _tagged(element: _Element, origin: Origin) -> _Element:
        tagged = copy.copy(element)
        for name in ATTRIBUTES:
            # object.__getattribute__: the element's own value, not Nornir's lookup (which
            # copy.copy went through: the copy holds inherited values as its own).
            value = object.__getattribute__(element, name)
            setattr(tagged, name, None if value is None else Tagged(value, origin, (name,)))
        tagged.data = {key: Tagged(value, origin, (key,)) for key, value in element.data.items()}
        own = element.connection_options.get(CONNECTION)
        tagged.connection_options = {} if own is None else {CONNECTION: _options(own, origin)}
        return tagged


def _options(options: ConnectionOptions, origin: Origin) -> ConnectionOptions:
    tagged = ConnectionOptions()
    for name in _OPTIONS:
        value = getattr(options, name)
        if value is not None:
            setattr(tagged, name, Tagged(value, origin, ("connection_options", CONNECTION, name)))
    return tagged
