"""Read what NetworkManager's own tools print, without a shell: `nmcli -t` (terse) lines
and keyfiles (`/etc/NetworkManager/system-connections/*.nmconnection`)."""

from __future__ import annotations

import configparser
from dataclasses import dataclass

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


def parse_keyfile(text: str, path: str) -> Keyfile:
    """A keyfile as GLib's key file reader sees it (the subset profiles use)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise NmcliError(f"{path}: not a keyfile: {exc}") from None

    def get(group: str, key: str) -> str:
        return parser.get(group, key, fallback="").strip()

    return Keyfile(
        path=path,
        id=get("connection", "id"),
        uuid=get("connection", "uuid"),
        type=get("connection", "type"),
        interface_name=get("connection", "interface-name"),
        mac=(get("ethernet", "mac-address") or get("802-3-ethernet", "mac-address")).upper(),
        master=get("connection", "master") or get("connection", "controller"),
    )


@dataclass(frozen=True)
class Dns:
    """The DNS servers and search domains a device has now (its profile's)."""

    servers: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


def parse_profile_dns(text: str) -> dict[str, Dns]:
    """`nmcli -t -f connection.uuid,ipv4.dns,ipv4.dns-search connection show uuid U`, one
    block per profile: the DNS servers and search domains each profile sets, by UUID."""
    found: dict[str, Dns] = {}
    current = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        values = tuple(v for v in ",".join(terse_fields(value)).split(",") if v.strip())
        if key == "connection.uuid":
            current = "".join(terse_fields(value))
            found[current] = Dns()
        elif current is not None and key == "ipv4.dns":
            found[current] = Dns(values, found[current].domains)
        elif current is not None and key == "ipv4.dns-search":
            found[current] = Dns(found[current].servers, values)
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
