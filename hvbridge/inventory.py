"""The hypervisor inventory: Nornir's SimpleInventory, checked in full before anything connects.

`load_inventory` reads `hosts.yaml`, `groups.yaml` and `defaults.yaml` with Nornir, resolves
every host the way Nornir does (own values, then groups, then defaults) and validates the
result with the models below, then the cross-checks between a host's NICs, bridges and guests
and across hosts. It returns the Nornir inventory with a model per host, or raises
`InventoryError` listing every problem, each naming the file that defines the offending
value, the host and the field.

Nothing here mutates Nornir's objects. Nornir's own `Host.get_connection_parameters` writes
inherited values into the shared group objects (and hands out a group's `extras` dict
itself), so connection parameters are resolved here by a read-only mirror of it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Annotated, Any, Literal

from nornir.core.inventory import ConnectionOptions, Group, Host, Inventory
from nornir.plugins.inventory.simple import SimpleInventory
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictStr,
    ValidationError,
)
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError

from hvbridge import platforms, ssh, sshfiles
from hvbridge.errors import InputError
from hvbridge.validators import (
    ConfigName,
    DomainName,
    GuestMac,
    Hop,
    HwAddr,
    InterfaceName,
    InventoryName,
    IPv4Host,
    JumpHop,
    LocalPath,
    LoginName,
    Netmask,
    Prefix,
    SSHHost,
    inventory_name,
    netmask_prefix,
    parse_hop,
)

__all__ = [
    "CONNECTION",
    "MASK",
    "BridgeModel",
    "ConnectionExtras",
    "ConnectionModel",
    "GuestInterfaceModel",
    "GuestModel",
    "HostData",
    "HostModel",
    "InventoryError",
    "LoadedInventory",
    "NicModel",
    "PciAddress",
    "load_inventory",
    "masked",
    "relations",
]

CONNECTION = "hvbridge"
HOSTS_FILE = "hosts.yaml"
GROUPS_FILE = "groups.yaml"
DEFAULTS_FILE = "defaults.yaml"
MASK = "********"

# What SimpleInventory reads; it silently drops any other key, so we report them.
_ATTRIBUTES = ("hostname", "port", "username", "password", "platform")
_ELEMENT_KEYS = frozenset({*_ATTRIBUTES, "groups", "data", "connection_options"})
_DEFAULTS_KEYS = _ELEMENT_KEYS - {"groups"}
_OPTION_KEYS = frozenset({*_ATTRIBUTES, "extras"})
_SECRET_WORDS = ("password", "passphrase", "secret", "token", "private")
_SECRET_KEYS = frozenset({"key", "pkey", "key_data"})
_PORT_FIELDS = ("ipaddr", "netmask", "prefix", "gateway", "defroute")


class InventoryError(InputError):
    """The inventory cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


# ---------------------------------------------------------------------------------------------
# Models: grammar and types of each value. Relations between values are checked further down,
# where every problem can be reported with its own field path.


class _Model(BaseModel):
    # strict: YAML's `yes` or "22" must not quietly become True or 22; frozen: models are
    # shared by Nornir's worker threads.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Mtu = Annotated[int, Field(ge=68, le=65535)]
TcpPort = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=3600)]


class _Addressed(_Model):
    ipaddr: IPv4Host | None = None
    netmask: Netmask | None = None
    prefix: Prefix | None = None
    gateway: IPv4Host | None = None
    # initscripts read an unset DEFROUTE as yes (for static and dhcp alike): the same
    # default here lets templates always write it without changing its meaning.
    defroute: bool = True

    @property
    def interface(self) -> IPv4Interface | None:
        """`ipaddr` with its prefix (from `prefix`, else `netmask`); None without both."""
        length = self.prefix
        if length is None and self.netmask is not None:
            length = netmask_prefix(self.netmask)
        if self.ipaddr is None or length is None:
            return None
        return IPv4Interface((self.ipaddr, length))


class NicModel(_Addressed):
    """A physical NIC: a bridge port (no address) or an interface with its own address."""

    hwaddr: HwAddr
    mtu: Mtu | None = None
    nm_controlled: bool = False
    name: ConfigName | None = None
    bootproto: Literal["none", "static", "dhcp"] | None = None


class BridgeModel(_Addressed):
    ports: Annotated[list[InterfaceName], Field(min_length=1)]
    bootproto: Literal["static", "dhcp"]
    stp: bool = False
    delay: Annotated[int, Field(ge=0, le=30)] = 0
    mtu: Mtu | None = None
    # false: a gateway silent after the guarded restart is a warning, not a failure
    # (for sites whose gateways drop ICMP).
    verify_gateway: bool = True


class PciAddress(_Model):
    domain: Annotated[int, Field(ge=0, le=0xFFFF)] = 0
    bus: Annotated[int, Field(ge=0, le=0xFF)] = 0
    slot: Annotated[int, Field(ge=0, le=0x1F)]
    function: Annotated[int, Field(ge=0, le=7)] = 0

    def __str__(self) -> str:
        return f"{self.domain:04x}:{self.bus:02x}:{self.slot:02x}.{self.function:x}"


class GuestInterfaceModel(_Model):
    bridge: InterfaceName
    mac: GuestMac
    model: Literal["virtio", "e1000", "rtl8139"] = "virtio"
    address: PciAddress | None = None


class GuestModel(_Model):
    interfaces: Annotated[list[GuestInterfaceModel], Field(min_length=1)]


class LibvirtModel(_Model):
    """How the guests' part of the seed is carried out on this host."""

    # None: remove the NAT network `default` when any guest is bridged.
    remove_default_network: bool | None = None
    # define: `virsh dumpxml --inactive`, edit, `virsh define`. file: edit
    # /etc/libvirt/qemu/NAME.xml as the seed does, then restart libvirtd (legacy).
    edit_mode: Literal["define", "file"] = "define"
    # Running guests are shut down (destroyed after shutdown_timeout) and started
    # again, so that their taps join the bridge.
    restart_guests: bool = False
    shutdown_timeout: Seconds = 60.0
    # How long libvirtd may take to answer again after a restart.
    restart_timeout: Seconds = 60.0


# The registry's names (hvbridge.platforms), so that a new platform needs no edit here.
PlatformName = Annotated[StrictStr, AfterValidator(platforms.check_name)]


class HostData(_Model):
    """A host's `data`, plus its Nornir `platform`."""

    platform: PlatformName = platforms.DEFAULT
    nics: dict[InterfaceName, NicModel] = Field(default_factory=dict)
    bridges: dict[InterfaceName, BridgeModel] = Field(default_factory=dict)
    guests: dict[DomainName, GuestModel] = Field(default_factory=dict)
    libvirt: LibvirtModel = Field(default_factory=LibvirtModel)

    @property
    def removes_default_network(self) -> bool:
        configured = self.libvirt.remove_default_network
        return bool(self.guests) if configured is None else configured


class ConnectionExtras(_Model):
    """`connection_options.hvbridge.extras`; unset paths fall back to ssh_config, then OpenSSH's."""

    key_file: LocalPath | None = None
    known_hosts: LocalPath | None = None
    ssh_config: LocalPath | None = None
    jump: list[JumpHop] = Field(default_factory=list)
    accept_new: bool = False
    connect_timeout: Seconds = 10.0
    command_timeout: Seconds = 120.0
    sudo: bool = False


class ConnectionModel(_Model):
    """What hvbridge's connection plugin gets from Nornir for a host."""

    hostname: SSHHost
    port: TcpPort = 22
    username: LoginName | None = None
    password: SecretStr | None = None
    extras: ConnectionExtras = Field(default_factory=ConnectionExtras)


class HostModel(HostData):
    """A validated host: its data and platform, its name and how to reach it."""

    name: InventoryName
    connection: ConnectionModel


def _field_names(*models: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for model in models for name in model.model_fields)


# Every key a user may write anywhere: the pool for "did you mean" suggestions.
_KNOWN_KEYS = (
    _field_names(
        NicModel,
        BridgeModel,
        PciAddress,
        GuestInterfaceModel,
        GuestModel,
        LibvirtModel,
        HostData,
        ConnectionExtras,
        ConnectionModel,
    )
    | _ELEMENT_KEYS
    | _OPTION_KEYS
)


# ---------------------------------------------------------------------------------------------
# Where a resolved value comes from, mirroring Nornir's inheritance without mutating it.

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Origin:
    """The file (and group) that defines a value."""

    file: str
    group: str | None = None


_HOST = Origin(HOSTS_FILE)
_DEFAULTS = Origin(DEFAULTS_FILE)


def _group(group: Group) -> Origin:
    return Origin(GROUPS_FILE, group.name)


def _data_origins(host: Host) -> dict[str, Origin]:
    """For each top-level `data` key, who defines it: Nornir merges data one level deep only."""
    origins = dict.fromkeys(host.data, _HOST)
    for group in host.extended_groups():
        for key in group.data:
            origins.setdefault(key, _group(group))
    for key in host.defaults.data:
        origins.setdefault(key, _DEFAULTS)
    return origins


def _attribute(host: Host, name: str) -> tuple[Any, Origin]:
    """`host.<name>` as Nornir resolves it (host, its groups in order, defaults), and its origin."""
    # object.__getattribute__ reads an element's own value, as Nornir does for groups.
    value = object.__getattribute__(host, name)
    if value is not None:
        return value, _HOST
    for group in host.extended_groups():
        value = object.__getattribute__(group, name)
        if value is not None:
            return value, _group(group)
    return getattr(host.defaults, name), _DEFAULTS


def _connection_chain(element: Host, origin: Origin) -> Iterator[tuple[ConnectionOptions, Origin]]:
    """Nornir's `_get_connection_options_recursively` order: own, each group's chain, defaults."""
    own = element.connection_options.get(CONNECTION)
    if own is not None:
        yield own, origin
    for group in element.groups:
        yield from _connection_chain(group, _group(group))
    default = element.defaults.connection_options.get(CONNECTION)
    if default is not None:
        yield default, _DEFAULTS


@dataclass(frozen=True)
class _Source:
    origin: Origin
    loc: Loc


def _connection_value(host: Host, name: str) -> tuple[Any, _Source]:
    """One field of `host.get_connection_parameters(CONNECTION)`, and where it is written."""
    for options, origin in _connection_chain(host, _HOST):
        value = getattr(options, name)
        if value is not None:
            return value, _Source(origin, ("connection_options", CONNECTION, name))
    if name == "extras":
        return {}, _Source(_HOST, ("connection_options", CONNECTION, name))
    value, origin = _attribute(host, name)
    return value, _Source(origin, (name,))


# ---------------------------------------------------------------------------------------------
# Problems and how they are shown.


@dataclass(frozen=True)
class _Problem:
    origin: Origin
    host: str
    loc: Loc
    message: str


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a bad mapping key: the key is named
            text += f".{_name(part)}" if text else _name(part)
    return text


def _name(value: object) -> str:
    """A name as written when it is plain, else quoted: a newline in it must not split a line."""
    try:
        return inventory_name(value) if isinstance(value, str) else _show(value)
    except ValueError:
        return _show(value)


def _suggestion(key: object) -> str:
    close = difflib.get_close_matches(str(key), _KNOWN_KEYS, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


_EXPECTED = {
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "list_type": "a list",
}


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown key" + _suggestion(error["loc"][-1])
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_show(error['input'])}"
    return f"{error['msg']} (got {_show(error['input'])})"


def _render(problems: Sequence[_Problem], directory: Path) -> list[str]:
    """One line per problem; a problem inherited by several hosts is one line naming them all."""
    hosts_of: dict[tuple[Origin, str | None, Loc, str], list[str]] = {}
    for problem in problems:
        alone = problem.host if problem.origin == _HOST else None
        key = (problem.origin, alone, problem.loc, problem.message)
        hosts_of.setdefault(key, []).append(problem.host)
    return [
        ": ".join(
            part
            for part in (str(directory / origin.file), _subject(origin, hosts), _path(loc), message)
            if part
        )
        for (origin, _, loc, message), hosts in hosts_of.items()
    ]


def _subject(origin: Origin, hosts: list[str]) -> str:
    subject = f"host {hosts[0]}" if len(hosts) == 1 else f"hosts {', '.join(hosts)}"
    if origin.group is not None:
        return f"{subject} (inherited from group {origin.group})"
    if origin.file == DEFAULTS_FILE:
        return f"{subject} (inherited from defaults)"
    return subject


# ---------------------------------------------------------------------------------------------
# The files as YAML, before Nornir: syntax, shape, unknown keys, group references.


@dataclass
class _Survey:
    directory: Path
    # Nornir would crash on these, or loop forever: nothing more can be checked.
    blocking: list[str] = field(default_factory=list)
    # Nornir would silently ignore these.
    ignored: list[str] = field(default_factory=list)

    def file(self, name: str) -> Path:
        return self.directory / name


def _read_yaml(survey: _Survey, name: str, *, required: bool) -> object:
    path = survey.file(name)
    if not path.exists():
        if required:
            survey.blocking.append(f"{path}: file not found")
        return None
    # The same loader as SimpleInventory, so both see the same values.
    try:
        with path.open(encoding="utf-8") as stream:
            return YAML(typ="safe").load(stream)
    except MarkedYAMLError as exc:
        survey.blocking.append(f"{path}: {_yaml_error(exc)}")
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        survey.blocking.append(f"{path}: {exc}")
    return None


def _yaml_error(exc: MarkedYAMLError) -> str:
    text = _at(exc.problem_mark, exc.problem or "invalid YAML")
    if exc.context:
        # Where the unfinished construct began: often the line to fix.
        text += f" ({_at(exc.context_mark, exc.context)})"
    return text


def _at(mark: StreamMark | None, what: str) -> str:
    return what if mark is None else f"line {mark.line + 1}, column {mark.column + 1}: {what}"


def _top_mapping(survey: _Survey, name: str, content: object, what: str) -> dict[Any, Any]:
    if content is None:
        return {}
    if not isinstance(content, dict):
        kind = type(content).__name__
        survey.blocking.append(f"{survey.file(name)}: must be a mapping of {what}, not a {kind}")
        return {}
    return content


def _survey_element(
    survey: _Survey, where: str, entry: object, allowed: frozenset[str], groups: Mapping[Any, Any]
) -> None:
    if not isinstance(entry, dict):
        survey.blocking.append(f"{where}: must be a mapping, not {_show(entry)}")
        return
    for key in entry:
        if key not in allowed:
            survey.ignored.append(f"{where}: {_path((str(key),))}: unknown key{_suggestion(key)}")
    data = entry.get("data")
    if data is not None and not isinstance(data, dict):
        survey.blocking.append(f"{where}: data: must be a mapping, not {_show(data)}")
    if "groups" in allowed:
        _survey_parents(survey, where, entry.get("groups"), groups)
    _survey_connections(survey, where, entry.get("connection_options"))


def _survey_parents(
    survey: _Survey, where: str, parents: object, groups: Mapping[Any, Any]
) -> None:
    if parents is None:
        return
    if not isinstance(parents, list) or not all(isinstance(name, str) for name in parents):
        survey.blocking.append(f"{where}: groups: must be a list of group names")
        return
    for index, name in enumerate(parents):
        if name not in groups:
            survey.blocking.append(
                f"{where}: groups[{index}]: group {name!r} is not defined in {GROUPS_FILE}"
            )


def _survey_connections(survey: _Survey, where: str, options: object) -> None:
    if options is None:
        return
    if not isinstance(options, dict):
        survey.blocking.append(f"{where}: connection_options: must be a mapping")
        return
    for name, value in options.items():
        path = _path(("connection_options", str(name)))
        if name != CONNECTION:
            survey.ignored.append(f"{where}: {path}: unknown connection (only {CONNECTION})")
        if not isinstance(value, dict):
            survey.blocking.append(f"{where}: {path}: must be a mapping")
            continue
        for key in value:
            if key not in _OPTION_KEYS:
                survey.ignored.append(
                    f"{where}: {path}.{_path((str(key),))}: unknown key{_suggestion(key)}"
                )


def _survey_names(survey: _Survey, name: str, entries: Mapping[Any, Any], kind: str) -> None:
    for entry_name in entries:
        try:
            inventory_name(entry_name if isinstance(entry_name, str) else "")
        except ValueError:
            survey.blocking.append(
                f"{survey.file(name)}: {kind} {_name(entry_name)}: not a valid {kind} name"
                " (A-Z a-z 0-9 _ . -, starting with a letter or digit)"
            )


def _first_loop(path: list[str], edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """The first cycle reachable from `path[-1]`, as `a -> ... -> a`, or None."""
    for following in edges.get(path[-1], ()):
        if following in path:
            return [*path[path.index(following) :], following]
        loop = _first_loop([*path, following], edges)
        if loop is not None:
            return loop
    return None


def _survey_group_loops(survey: _Survey, groups: Mapping[Any, Any]) -> None:
    parents = {
        name: entry["groups"]
        for name, entry in groups.items()
        if isinstance(entry, dict) and isinstance(entry.get("groups"), list)
    }
    reported: set[frozenset[str]] = set()
    for name in parents:
        loop = _first_loop([name], parents)
        if loop is not None and frozenset(loop) not in reported:
            reported.add(frozenset(loop))
            survey.blocking.append(
                f"{survey.file(GROUPS_FILE)}: groups form a loop: {' -> '.join(loop)}"
            )


def _survey(directory: Path) -> _Survey:
    survey = _Survey(directory)
    if not directory.is_dir():
        survey.blocking.append(f"{directory}: not a directory")
        return survey
    hosts = _top_mapping(
        survey, HOSTS_FILE, _read_yaml(survey, HOSTS_FILE, required=True), "host names to hosts"
    )
    groups = _top_mapping(
        survey,
        GROUPS_FILE,
        _read_yaml(survey, GROUPS_FILE, required=False),
        "group names to groups",
    )
    defaults = _read_yaml(survey, DEFAULTS_FILE, required=False)
    if survey.blocking:
        return survey
    if not hosts:
        survey.blocking.append(f"{survey.file(HOSTS_FILE)}: defines no hosts")
    _survey_names(survey, HOSTS_FILE, hosts, "host")
    _survey_names(survey, GROUPS_FILE, groups, "group")
    for name, entry in hosts.items():
        where = f"{survey.file(HOSTS_FILE)}: host {_name(name)}"
        _survey_element(survey, where, entry, _ELEMENT_KEYS, groups)
    for name, entry in groups.items():
        where = f"{survey.file(GROUPS_FILE)}: group {_name(name)}"
        _survey_element(survey, where, entry, _ELEMENT_KEYS, groups)
    if defaults is not None:
        where = str(survey.file(DEFAULTS_FILE))
        _survey_element(survey, where, defaults, _DEFAULTS_KEYS, groups)
    _survey_group_loops(survey, groups)
    return survey


# ---------------------------------------------------------------------------------------------
# One host: resolve, validate the models, then the relations between its values.


@dataclass
class _HostCheck:
    """One host's resolved values, where each is written, and the problems found so far.

    `data` and `connection` hold what parses: a NIC, bridge or guest that does not is
    reported and left out (its name kept in `left_out`), so that the relations between the
    rest can still be checked and every problem reported in one run.
    """

    host: Host
    data_origins: dict[str, Origin]
    sources: dict[str, _Source] = field(default_factory=dict)
    problems: list[_Problem] = field(default_factory=list)
    data: HostData | None = None
    left_out: set[str] = field(default_factory=set)
    connection: ConnectionModel | None = None

    def in_data(self, loc: Loc, message: str) -> None:
        origin = self.data_origins.get(str(loc[0]), _HOST) if loc else _HOST
        self.problems.append(_Problem(origin, self.host.name, loc, message))

    def in_connection(self, loc: Loc, message: str) -> None:
        # A value nobody set (a missing hostname) is the host's to add.
        unset = _Source(_HOST, loc[:1])
        source = self.sources.get(str(loc[0]), unset) if loc else unset
        self.problems.append(_Problem(source.origin, self.host.name, source.loc + loc[1:], message))


def _check_host(host: Host) -> _HostCheck:
    check = _HostCheck(host, _data_origins(host))
    _check_data(check)
    _check_connection(check)
    if check.data is not None:
        for loc, message in relations(check.data, check.left_out):
            check.in_data(loc, message)
        _check_connection_platform(check, check.data.platform)
        for loc, message in platforms.get(check.data.platform).inventory_problems(check.data):
            check.in_data(loc, message)
    return check


def _check_data(check: _HostCheck) -> None:
    values = dict(check.host.extended_data())
    if "platform" in values:
        check.in_data(("platform",), "set platform beside hostname, not under data")
        del values["platform"]
    platform, check.data_origins["platform"] = _attribute(check.host, "platform")
    if platform is not None:
        values["platform"] = platform
    try:
        check.data = HostData.model_validate(values)
        return
    except ValidationError as exc:
        errors = exc.errors()
    for error in errors:
        check.in_data(tuple(error["loc"]), _message(error))
    pruned = _prune(values, errors, check.left_out)
    try:
        check.data = HostData.model_validate(pruned)
    except ValidationError:
        check.data = None


_SECTIONS = frozenset({"nics", "bridges", "guests"})


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


def _check_connection(check: _HostCheck) -> None:
    values: dict[str, Any] = {}
    for name in ConnectionModel.model_fields:
        value, source = _connection_value(check.host, name)
        if value is not None:
            values[name] = value
            check.sources[name] = source
    try:
        check.connection = ConnectionModel.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            check.in_connection(tuple(error["loc"]), _message(error))


def _check_connection_platform(check: _HostCheck, platform: str) -> None:
    """hvbridge picks templates and ssh algorithms from one platform: the two must agree."""
    value, source = _connection_value(check.host, "platform")
    if source.loc[0] == "connection_options" and value != platform:
        check.sources["platform"] = source
        check.in_connection(
            ("platform",), f"{value!r} differs from the host's platform {platform!r}"
        )


# ---------------------------------------------------------------------------------------------
# Relations between one host's values. Each returns (field path, message) pairs.

Finding = tuple[Loc, str]


def relations(data: HostData, left_out: Collection[str] = ()) -> list[Finding]:
    """Every problem between a host's NICs, bridges and guests that no single field shows.

    Names in `left_out` exist but did not parse: references to them are not reported.
    """
    owners, found = _ports(data, left_out)
    for name, nic in data.nics.items():
        if name in owners:
            found += _port_nic(data, name, nic, owners[name])
        else:
            found += _addressing(("nics", name), nic)
    for name, bridge in data.bridges.items():
        found += _addressing(("bridges", name), bridge)
    found += _guest_interfaces(data, left_out)
    found += _default_routes(data, owners)
    return found


def _ports(data: HostData, left_out: Collection[str]) -> tuple[dict[str, str], list[Finding]]:
    """Which bridge owns each port NIC (the first to list it), and bad port lists."""
    owners: dict[str, str] = {}
    found: list[Finding] = []
    for name, bridge in data.bridges.items():
        if name in data.nics:
            found.append(
                (("bridges", name), f"{name} is also in nics: a name is a bridge or a NIC")
            )
        for index, port in enumerate(bridge.ports):
            problem = None if port in left_out else _port_problem(data, owners, name, port)
            if problem is None:
                owners[port] = name
            else:
                found.append((("bridges", name, "ports", index), problem))
    return owners, found


def _port_problem(data: HostData, owners: Mapping[str, str], bridge: str, port: str) -> str | None:
    if port in data.bridges:
        return f"{port} is a bridge; a port must be a NIC in nics"
    if port not in data.nics:
        return f"{port} is not a NIC in nics"
    if owners.get(port) == bridge:
        return f"{port} is listed twice"
    if port in owners:
        return f"{port} is already a port of {owners[port]}"
    return None


def _port_nic(data: HostData, name: str, nic: NicModel, bridge: str) -> list[Finding]:
    """A port hands its address and routes to its bridge, as the seed's eth0 file does."""
    loc = ("nics", name)
    found: list[Finding] = [
        ((*loc, key), f"{name} is a port of {bridge} and has no address or route of its own")
        for key in _PORT_FIELDS
        if key in nic.model_fields_set and getattr(nic, key) is not None
    ]
    if nic.bootproto not in (None, "none"):
        found.append(((*loc, "bootproto"), f"{name} is a port of {bridge}: must be none or unset"))
    bridge_mtu = data.bridges[bridge].mtu
    if bridge_mtu is not None and nic.mtu is not None and bridge_mtu > nic.mtu:
        found.append(
            (
                ("bridges", bridge, "mtu"),
                f"{bridge_mtu} is above the MTU of its port {name} ({nic.mtu});"
                " the kernel caps a bridge at its smallest port",
            )
        )
    return found


def _addressing(loc: Loc, item: NicModel | BridgeModel) -> list[Finding]:
    given = [key for key in ("ipaddr", "netmask", "prefix", "gateway") if getattr(item, key)]
    if item.bootproto == "dhcp":
        return [((*loc, key), "not allowed with bootproto dhcp") for key in given]
    if item.bootproto != "static":
        return [((*loc, key), "needs bootproto: static") for key in given]
    found = _static(loc, item)
    return found if found else _subnet(loc, item)


def _static(loc: Loc, item: NicModel | BridgeModel) -> list[Finding]:
    found: list[Finding] = []
    if item.ipaddr is None:
        found.append(((*loc, "ipaddr"), "required with bootproto static"))
    if item.netmask is None and item.prefix is None:
        found.append(((*loc, "netmask"), "netmask or prefix required with bootproto static"))
    if item.netmask is not None and item.prefix is not None:
        length = netmask_prefix(item.netmask)
        if length != item.prefix:
            found.append(
                (
                    (*loc, "prefix"),
                    f"/{item.prefix} disagrees with netmask {item.netmask} (/{length})",
                )
            )
    return found


def _subnet(loc: Loc, item: NicModel | BridgeModel) -> list[Finding]:
    interface = item.interface
    if interface is None:
        return []
    network = interface.network
    found: list[Finding] = []
    role = _special_role(interface.ip, interface)
    if role is not None:
        found.append(((*loc, "ipaddr"), f"{interface.ip} is the {role} address of {network}"))
    gateway = item.gateway
    if gateway is None:
        return found
    role = _special_role(gateway, interface)
    if gateway not in network:
        found.append(((*loc, "gateway"), f"{gateway} is outside {network}"))
    elif gateway == interface.ip:
        found.append(((*loc, "gateway"), f"{gateway} is the address itself (ipaddr)"))
    elif role is not None:
        found.append(((*loc, "gateway"), f"{gateway} is the {role} address of {network}"))
    return found


def _special_role(address: IPv4Address, interface: IPv4Interface) -> str | None:
    network = interface.network
    # /31 and /32 have no network or broadcast address (RFC 3021).
    if network.prefixlen >= 31:
        return None
    if address == network.network_address:
        return "network"
    if address == network.broadcast_address:
        return "broadcast"
    return None


def _guest_interfaces(data: HostData, left_out: Collection[str]) -> list[Finding]:
    found: list[Finding] = []
    for name, guest in data.guests.items():
        slots: dict[PciAddress, int] = {}
        for index, interface in enumerate(guest.interfaces):
            loc = ("guests", name, "interfaces", index)
            if interface.bridge not in data.bridges and interface.bridge not in left_out:
                found.append(((*loc, "bridge"), f"{interface.bridge} is not in bridges"))
            address = interface.address
            if address is None:
                continue
            if address in slots:
                found.append(
                    ((*loc, "address"), f"PCI {address} is also interfaces[{slots[address]}]'s")
                )
            else:
                slots[address] = index
    return found


def _routes_by_default(item: NicModel | BridgeModel) -> bool:
    """Whether ifup would install a default route through `item`."""
    if not item.defroute:
        return False
    # A dhcp lease normally carries a router; a static address needs a gateway for one.
    return item.bootproto == "dhcp" or (item.bootproto == "static" and item.gateway is not None)


def _default_routes(data: HostData, owners: Mapping[str, str]) -> list[Finding]:
    """Two interfaces with DEFROUTE=yes and a gateway: which wins depends on ifup order."""
    routed: list[tuple[Loc, str]] = [
        (("nics", name), name)
        for name, nic in data.nics.items()
        if name not in owners and _routes_by_default(nic)
    ]
    routed += [
        (("bridges", name), name)
        for name, bridge in data.bridges.items()
        if _routes_by_default(bridge)
    ]
    return [
        ((*loc, "defroute"), f"{routed[0][1]} has the default route already; set defroute: false")
        for loc, _ in routed[1:]
    ]


# ---------------------------------------------------------------------------------------------
# Across hosts.


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


def _unique(
    checks: Mapping[str, _HostCheck],
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
                    loc, f"{value} is also {_path(seen[1])} on {where}; {what} must be unique"
                )


def _outside(hop: str) -> bool:
    """A hop outside the inventory: `jump_hop` gives those as `[user@]host:port`."""
    return ":" in hop


def _jumps(checks: Mapping[str, _HostCheck]) -> None:
    edges = {
        name: [hop for hop in check.connection.extras.jump if not _outside(hop)]
        for name, check in checks.items()
        if check.connection is not None
    }
    for name, check in checks.items():
        if check.connection is None:
            continue
        for index, hop in enumerate(check.connection.extras.jump):
            if not _outside(hop) and hop not in checks:
                check.in_connection(
                    ("extras", "jump", index),
                    f"{hop} is not a host in this inventory (for a host outside it: user@{hop}:22)",
                )
        loop = _first_loop([name], edges)
        if loop is not None:
            check.in_connection(("extras", "jump"), f"jump hosts form a loop: {' -> '.join(loop)}")


def _fields(model: BaseModel, kind: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(model, name) for name in kind.model_fields}


def _check_inventory(nornir: Inventory) -> tuple[dict[str, HostModel], list[_Problem]]:
    checks = {name: _check_host(host) for name, host in nornir.hosts.items()}
    _unique(checks, _macs, "MACs")
    _unique(checks, _addresses, "addresses")
    _jumps(checks)
    problems = [problem for check in checks.values() for problem in check.problems]
    models = {
        name: HostModel(name=name, connection=check.connection, **_fields(check.data, HostData))
        for name, check in checks.items()
        if check.data is not None and check.connection is not None
    }
    return models, problems


# ---------------------------------------------------------------------------------------------
# Public entry points.


@dataclass(frozen=True)
class LoadedInventory:
    """A checked inventory: Nornir's objects, untouched, and a validated model per host."""

    directory: Path
    inventory: Inventory
    models: Mapping[str, HostModel]

    def jump_hops(self, name: str) -> list[Hop]:
        """The hops to reach host `name`; an inventory host is replaced by its own hops and
        address (Nornir gives a connection plugin no way to look it up)."""
        hops: list[Hop] = []
        for hop in self.models[name].connection.extras.jump:
            if _outside(hop):
                hops.append(parse_hop(hop))
                continue
            via = self.models[hop].connection
            hops += self.jump_hops(hop)
            hops.append(Hop(via.username, via.hostname, via.port))
        return hops

    def jump_names(self, name: str) -> list[str]:
        """What messages call each of `jump_hops(name)`: an inventory host by its name, a
        host outside it as written."""
        names: list[str] = []
        for hop in self.models[name].connection.extras.jump:
            names += [hop] if _outside(hop) else [*self.jump_names(hop), hop]
        return names

    def check_controller(self, names: Iterable[str]) -> None:
        """The keys, known_hosts and ssh_config that connecting to `names` reads, checked on
        this machine (nothing is connected to); InventoryError naming each file and line."""
        found = controller_problems(self, names)
        if found:
            raise InventoryError(found)

    def passwords(self) -> list[str]:
        """Every password the inventory holds: the trace masks them."""
        return [
            model.connection.password.get_secret_value()
            for model in self.models.values()
            if model.connection.password is not None
        ]

    def summary(self) -> dict[str, Any]:
        """Each host's validated values, defaults filled in, JSON/YAML-ready, secrets masked."""
        return {name: _mask(model.model_dump(mode="json")) for name, model in self.models.items()}


def load_inventory(directory: Path) -> LoadedInventory:
    """Read and check the SimpleInventory in `directory`; never touches the network.

    Raises InventoryError listing every problem, each as `<file>: host <name>: <field>: <why>`.
    """
    survey = _survey(directory)
    if survey.blocking:
        raise InventoryError([*survey.blocking, *survey.ignored])
    nornir = SimpleInventory(
        host_file=str(directory / HOSTS_FILE),
        group_file=str(directory / GROUPS_FILE),
        defaults_file=str(directory / DEFAULTS_FILE),
    ).load()
    models, problems = _check_inventory(nornir)
    lines = [*survey.ignored, *_render(problems, directory)]
    if lines:
        raise InventoryError(lines)
    return LoadedInventory(directory, nornir, models)


def controller_problems(loaded: LoadedInventory, names: Iterable[str]) -> list[str]:
    """What would fail on this machine before hosts `names` are reached: ssh_config values
    that fail the inventory's grammar, key and known_hosts files missing or unreadable (by
    line). Resolved as the connection resolves them (ssh.resolve), each file read once."""
    cache: dict[tuple[str, Path], list[str]] = {}
    found: list[tuple[str, str]] = []
    for name in names:
        model = loaded.models[name]
        conn = model.connection
        extras = conn.extras.model_dump(mode="json", exclude_none=True)
        extras["jump"] = [str(hop) for hop in loaded.jump_hops(name)]
        try:
            _, options = ssh.resolve(
                conn.hostname, conn.username, None, conn.port, model.platform, extras
            )
        except ssh.SSHError as exc:
            if isinstance(exc, ssh.ConfigValueError):
                config = extras.get("ssh_config") or ssh.DEFAULT_SSH_CONFIG.expanduser()
                found.append((f"{config}: {exc}", name))
            else:
                found.append((str(exc), name))
            continue
        found += [
            (problem, name)
            for problem in sshfiles.file_problems(
                options.key_filename, options.known_hosts, options.accept_new, cache
            )
        ]
    return sshfiles.collect(found)


def masked(host: Host) -> dict[str, Any]:
    """`host` as hvbridge sees it (inheritance resolved), secrets and key material as MASK."""
    resolved: dict[str, Any] = {
        "name": host.name,
        "groups": [group.name for group in host.groups],
        **{name: _attribute(host, name)[0] for name in _ATTRIBUTES},
        "data": host.extended_data(),
        "connection_options": {
            CONNECTION: {
                name: _connection_value(host, name)[0] for name in (*_ATTRIBUTES, "extras")
            }
        },
    }
    masked_value: dict[str, Any] = _mask(resolved)
    return masked_value


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SECRET_KEYS or any(word in lowered for word in _SECRET_WORDS)


def _mask(value: Any, key: str = "") -> Any:
    """A copy of `value` with secrets replaced; the inventory's own objects stay as they are."""
    if value is not None and _is_secret(key):
        return MASK
    if isinstance(value, dict):
        return {item_key: _mask(item, str(item_key)) for item_key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    if isinstance(value, str) and "PRIVATE KEY" in value:
        return MASK
    return value
