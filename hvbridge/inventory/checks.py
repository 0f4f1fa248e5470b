"""One host's checks: its values as Nornir resolves them, validated by the models, then the
relations between them and its platform's own rules. Every problem names where the value
is defined."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nornir.core.inventory import Host
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hvbridge import platforms
from hvbridge.inventory.models import ConnectionModel, HostData
from hvbridge.inventory.origins import Resolved, Tagged, resolve
from hvbridge.inventory.problems import HOST, Loc, Origin, Problem
from hvbridge.inventory.problems import message as error_message
from hvbridge.inventory.relations import relations


@dataclass
class HostCheck:
    """One host's resolved values, where each is written, and the problems found so far.

    `data` and `connection` hold what parses: a NIC, bond, VLAN, bridge or guest that does
    not is reported and left out (its name kept in `left_out`), so that the relations
    between the rest can still be checked and every problem reported in one run.
    """

    host: Host
    resolved: Resolved
    data_origins: dict[str, Origin]
    sources: dict[str, Tagged] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    data: HostData | None = None
    left_out: set[str] = field(default_factory=set)
    connection: ConnectionModel | None = None

    def in_data(self, loc: Loc, message: str) -> None:
        origin = self.data_origins.get(str(loc[0]), HOST) if loc else HOST
        self.problems.append(Problem(origin, self.host.name, loc, message))

    def in_connection(self, loc: Loc, message: str) -> None:
        # A value nobody set (a missing hostname) is the host's to add.
        unset = Tagged(None, HOST, loc[:1])
        source = self.sources.get(str(loc[0]), unset) if loc else unset
        self.problems.append(Problem(source.origin, self.host.name, source.loc + loc[1:], message))


def check_host(host: Host) -> HostCheck:
    """`host`'s values as Nornir resolves them, checked; its problems in `problems`."""
    resolved = resolve(host)
    origins = {key: tagged.origin for key, tagged in resolved.data.items()}
    check = HostCheck(host, resolved, origins)
    _check_data(check)
    _check_connection(check)
    if check.data is not None:
        for loc, message in relations(check.data, check.left_out):
            check.in_data(loc, message)
        _check_connection_platform(check, check.data.platform)
        for loc, message in platforms.get(check.data.platform).inventory_problems(check.data):
            check.in_data(loc, message)
    return check


def _check_data(check: HostCheck) -> None:
    values = check.resolved.values()
    if "platform" in values:
        check.in_data(("platform",), "set platform beside hostname, not under data")
        del values["platform"]
    platform = check.resolved.attributes["platform"]
    check.data_origins["platform"] = HOST if platform is None else platform.origin
    if platform is not None:
        values["platform"] = platform.value
    try:
        check.data = HostData.model_validate(values)
        return
    except ValidationError as exc:
        errors = exc.errors()
    for error in errors:
        check.in_data(tuple(error["loc"]), error_message(error))
    pruned = _prune(values, errors, check.left_out)
    try:
        check.data = HostData.model_validate(pruned)
    except ValidationError:
        check.data = None


_SECTIONS = frozenset({"nics", "bonds", "vlans", "bridges", "guests"})


def _prune(
    values: dict[str, Any], errors: list[ErrorDetails], left_out: set[str]
) -> dict[str, Any]:
    """`values` without what `errors` point at: whole NICs, bridges and guests, or whole keys.

    New dicts throughout: the originals belong to Nornir's host, group or defaults.
    """
    pruned = dict(values)
    for error in errors:
        if not error["loc"]:
            continue
        section, *rest = error["loc"]
        entries = pruned.get(str(section))
        if section in _SECTIONS and rest and isinstance(entries, dict):
            name = rest[0]
            pruned[str(section)] = {key: value for key, value in entries.items() if key != name}
            left_out.add(str(name))
        elif section in pruned:
            if isinstance(entries, dict):
                left_out.update(str(key) for key in entries)
            del pruned[str(section)]
    return pruned


def _check_connection(check: HostCheck) -> None:
    values: dict[str, Any] = {}
    for name in ConnectionModel.model_fields:
        tagged = check.resolved.connection[name]
        if tagged is not None:
            values[name] = tagged.value
            check.sources[name] = tagged
    try:
        check.connection = ConnectionModel.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            check.in_connection(tuple(error["loc"]), error_message(error))


def _check_connection_platform(check: HostCheck, platform: str) -> None:
    """hvbridge picks templates and ssh algorithms from one platform: the two must agree."""
    tagged = check.resolved.connection["platform"]
    if tagged is not None and tagged.loc[0] == "connection_options" and tagged.value != platform:
        check.sources["platform"] = tagged
        check.in_connection(
            ("platform",), f"{tagged.value!r} differs from the host's platform {platform!r}"
        )
