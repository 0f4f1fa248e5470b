"""Read what NetworkManager's own tools print, without a shell: `nmcli -t` (terse) lines
and keyfiles (`/etc/NetworkManager/system-connections/*.nmconnection`)."""

from __future__ import annotations

import configparser
from dataclasses import dataclass, replace

from hvbridge.errors import ParseError


class NmcliError(ParseError, ValueError):
    pass


def terse_fields(line: str) -> list[str]:
    """One line of `nmcli -t`: fields split at `:`, where a field's own `:` and `\\` are
    escaped with a backslash (`nmcli -t -f NAME ...` prints `a\\:b` for `a:b`)."""
    fields, field, escaped = [], [], False
    for char in line:
        if escaped:
            field.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(field))
            field = []
        else:
            field.append(char)
    fields.append("".join(field))
    return fields


@dataclass(frozen=True)
class Profile:
    """A row of `nmcli -t -f NAME,UUID,TYPE,DEVICE,FILENAME,ACTIVE connection show`."""

    name: str
    uuid: str
    type: str
    device: str  # empty when not active
    filename: str  # empty for a profile kept in memory only
    active: bool


PROFILE_FIELDS = "NAME,UUID,TYPE,DEVICE,FILENAME,ACTIVE"


def parse_profiles(text: str) -> list[Profile]:
    profiles = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = terse_fields(line)
        if len(fields) != 6:
            raise NmcliError(f"nmcli connection show: cannot read {line!r}")
        name, uuid, kind, device, filename, active = fields
        profiles.append(Profile(name, uuid, kind, device, filename, active == "yes"))
    return profiles


@dataclass(frozen=True)
class General:
    """`nmcli -t -f RUNNING,VERSION general`."""

    running: bool
    version: str


def parse_general(text: str) -> General | None:
    """None when nmcli did not print the line (NetworkManager does not answer)."""
    for line in text.splitlines():
        fields = terse_fields(line)
        if len(fields) == 2 and fields[0] in ("running", "starting", "stopped"):
            return General(fields[0] == "running", fields[1])
    return None


@dataclass(frozen=True)
class Keyfile:
    """What hvbridge needs of a keyfile profile."""

    path: str
    id: str
    uuid: str
    type: str
    interface_name: str
    mac: str  # [ethernet] mac-address, upper case; empty when unset
    master: str
    parent: str = ""  # a VLAN's [vlan] parent (an interface name or a profile's UUID)
    vlan_id: str = ""  # a VLAN's [vlan] id


def parse_sections(text: str, path: str = "<keyfile>") -> dict[str, dict[str, str]]:
    """A keyfile as GLib's key file reader sees it (the subset profiles use): section ->
    key -> value."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise NmcliError(f"{path}: not a keyfile: {exc}") from None
    return {name: {k: v.strip() for k, v in parser[name].items()} for name in parser.sections()}


def parse_keyfile(text: str, path: str) -> Keyfile:
    """What hvbridge needs of a keyfile."""
    sections = parse_sections(text, path)

    def get(group: str, key: str) -> str:
        return sections.get(group, {}).get(key, "")

    return Keyfile(
        path=path,
        id=get("connection", "id"),
        uuid=get("connection", "uuid"),
        type=get("connection", "type"),
        interface_name=get("connection", "interface-name"),
        mac=(get("ethernet", "mac-address") or get("802-3-ethernet", "mac-address")).upper(),
        master=get("connection", "master") or get("connection", "controller"),
        parent=get("vlan", "parent"),
        vlan_id=get("vlan", "id"),
    )


@dataclass(frozen=True)
class Dns:
    """The DNS servers and search domains a profile sets: IPv4 servers, IPv6 servers, and
    the search domains of both families (NetworkManager merges them)."""

    servers: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    servers6: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ipv6:
    """What a profile says of IPv6: its method (empty when nmcli did not say), static
    addresses (ADDR/LEN) and gateway."""

    method: str = ""
    addresses: tuple[str, ...] = ()
    gateway: str = ""


@dataclass(frozen=True)
class Settings:
    """What hvbridge carries from a profile that goes to the bridge that replaces it."""

    dns: Dns = Dns()
    ipv6: Ipv6 = Ipv6()


SETTINGS_FIELDS = (
    "connection.uuid,ipv4.dns,ipv4.dns-search,ipv6.method,ipv6.addresses,ipv6.gateway,"
    "ipv6.dns,ipv6.dns-search"
)


def _values(value: str) -> tuple[str, ...]:
    """A terse multi-value field: unescaped, split at its commas; nmcli's `--` is none."""
    text = ":".join(terse_fields(value))
    return tuple(v.strip() for v in text.split(",") if v.strip() and v.strip() != "--")


def parse_profile_settings(text: str) -> dict[str, Settings]:
    """`nmcli -t -f SETTINGS_FIELDS connection show uuid U`, one block per profile: what
    each profile sets of DNS and IPv6, by UUID."""
    found: dict[str, Settings] = {}
    current = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        values = _values(value)
        if key == "connection.uuid":
            current = ":".join(terse_fields(value))
            found[current] = Settings()
            continue
        if current is None:
            continue
        dns, ipv6 = found[current].dns, found[current].ipv6
        if key == "ipv4.dns":
            dns = replace(dns, servers=values)
        elif key in ("ipv4.dns-search", "ipv6.dns-search"):
            dns = replace(
                dns, domains=dns.domains + tuple(v for v in values if v not in dns.domains)
            )
        elif key == "ipv6.dns":
            dns = replace(dns, servers6=values)
        elif key == "ipv6.method":
            ipv6 = replace(ipv6, method=values[0] if values else "")
        elif key == "ipv6.addresses":
            ipv6 = replace(ipv6, addresses=values)
        elif key == "ipv6.gateway":
            ipv6 = replace(ipv6, gateway=values[0] if values else "")
        found[current] = Settings(dns, ipv6)
    return found


@dataclass(frozen=True)
class Device:
    """A row of `nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device`."""

    name: str
    type: str
    state: str  # connected, disconnected, unmanaged, "connecting (...)", ...
    connection: str  # the active profile's name; empty for none


DEVICE_FIELDS = "DEVICE,TYPE,STATE,CONNECTION"


def parse_devices(text: str) -> dict[str, Device]:
    devices = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = terse_fields(line)
        if len(fields) != 4:
            raise NmcliError(f"nmcli device: cannot read {line!r}")
        devices[fields[0]] = Device(*fields)
    return devices


@dataclass(frozen=True)
class Active:
    """A row of `nmcli -t -f NAME,UUID,DEVICE,STATE connection show --active`."""

    name: str
    uuid: str
    device: str
    state: str  # activated, activating, deactivating, ...


ACTIVE_FIELDS = "NAME,UUID,DEVICE,STATE"


def parse_active(text: str) -> list[Active]:
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = terse_fields(line)
        if len(fields) != 4:
            raise NmcliError(f"nmcli connection show --active: cannot read {line!r}")
        found.append(Active(*fields))
    return found
