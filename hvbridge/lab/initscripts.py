"""Plan what EL6 initscripts' `service network start|stop` does, without doing it.

The lab's `/etc/init.d/network` reads the host's ifcfg files and live links, asks this
module for a plan, and runs it. Keeping the plan pure lets unit tests check the exact
`ip`/`brctl` commands without root. docs/lab-network-service.md lists what is supported
and where the lab differs from EL6's `network`, `ifup-eth` and `ifdown-eth`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from pathlib import PurePosixPath
from typing import TypeVar

from hvbridge.platforms.ifcfg import IfcfgError, device_order_key, parse_ifcfg

__all__ = [
    "DEFAULT_FORWARD_DELAY",
    "LOOPBACK",
    "Command",
    "DeviceConfig",
    "Failure",
    "LinkState",
    "Plan",
    "Step",
    "plan_start",
    "plan_stop",
    "status_lines",
]

Command = tuple[str, ...]

LOOPBACK = "lo"
DEFAULT_FORWARD_DELAY = "0"
_CONFIG_PREFIX = "ifcfg-"
# What the kernel accepts as a name (at most 15 bytes, no '/', ':' or blanks), narrowed to
# what an ifcfg file name can carry.
_IFNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")
_MAC = re.compile(r"[0-9A-F]{2}(?::[0-9A-F]{2}){5}")
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DYNAMIC_BOOTPROTOS = frozenset({"dhcp", "bootp"})
_STATIC_BOOTPROTOS = frozenset({"", "none", "static"})
_TYPES = frozenset({"Ethernet", "Bridge"})
_STP_VALUES = {"on": True, "yes": True, "off": False, "no": False}
_MIN_MTU, _MAX_MTU = 68, 65535

_T = TypeVar("_T")


@dataclass(frozen=True)
class DeviceConfig:
    """One ifcfg file, validated. A file with `errors` is never applied."""

    source: str
    name: str
    device: str
    is_bridge: bool = False
    bridge: str | None = None
    onboot: bool = True
    bootproto: str = "none"
    address: IPv4Interface | None = None
    gateway: IPv4Address | None = None
    defroute: bool = True
    hwaddr: str | None = None
    stp: bool | None = None
    delay: str = DEFAULT_FORWARD_DELAY
    mtu: int | None = None
    errors: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return _filename(self.source)

    @classmethod
    def from_text(cls, source: str, text: str) -> DeviceConfig:
        """Parse and validate the file at `source` (a path; its name gives the device)."""
        try:
            fields = parse_ifcfg(text, source)
        except IfcfgError as exc:
            name = _config_name(source)
            return cls(source=source, name=name, device=name, errors=(str(exc),))
        return cls.from_fields(source, fields)

    @classmethod
    def from_fields(cls, source: str, fields: Mapping[str, str]) -> DeviceConfig:
        """Validate parsed variables; every problem is collected, none is raised."""
        errors: list[str] = []
        name = _config_name(source)
        device = _collect(errors, lambda: _ifname(fields.get("DEVICE") or name, "DEVICE"))
        device = device or name
        is_bridge = _collect(errors, lambda: _device_type(fields.get("TYPE"))) or False
        return cls(
            source=source,
            name=name,
            device=device,
            is_bridge=is_bridge,
            bridge=_collect(errors, lambda: _bridge(fields.get("BRIDGE"), device, is_bridge)),
            onboot=not _explicit_no(fields.get("ONBOOT")),
            bootproto=_collect(errors, lambda: _bootproto(fields.get("BOOTPROTO"))) or "none",
            address=_collect(errors, lambda: _address(fields)),
            gateway=_collect(errors, lambda: _optional(fields, "GATEWAY", _ipv4)),
            defroute=not _explicit_no(fields.get("DEFROUTE")),
            hwaddr=_collect(errors, lambda: _optional(fields, "HWADDR", _mac)),
            stp=_collect(errors, lambda: _optional(fields, "STP", _stp)),
            delay=_collect(errors, lambda: _delay(fields.get("DELAY"))) or DEFAULT_FORWARD_DELAY,
            mtu=_collect(errors, lambda: _optional(fields, "MTU", _mtu_value)),
            errors=tuple(f"{_filename(source)}: {error}" for error in errors),
        )


@dataclass(frozen=True)
class LinkState:
    """A device as the kernel shows it.

    A device is absent when the links map lacks its name or has it with `exists` false.
    """

    name: str
    mac: str | None = None
    is_bridge: bool = False
    master: str | None = None
    exists: bool = True
    up: bool = False
    index: int = 0


@dataclass(frozen=True)
class Step:
    """Commands that bring one device up or down; `message` is a warning to show."""

    device: str
    commands: tuple[Command, ...]
    message: str = ""


@dataclass(frozen=True)
class Failure:
    """A device left untouched, and why."""

    device: str
    message: str


Plan = tuple[Step | Failure, ...]


def plan_start(configs: Sequence[DeviceConfig], links: Mapping[str, LinkState]) -> Plan:
    """`service network start`: lo, then every ONBOOT device in EL6's order."""
    live = _existing(links)
    plan: list[Step | Failure] = [Step(LOOPBACK, (_link(LOOPBACK, "up"),))]
    for config, duplicate_of in _in_order(configs):
        if not config.onboot:
            continue
        refusal = _refusal(config, duplicate_of) or _start_refusal(config, live)
        plan.append(refusal or _start(config, live))
    return tuple(plan)


def plan_stop(configs: Sequence[DeviceConfig], links: Mapping[str, LinkState]) -> Plan:
    """`service network stop`: every configured device that exists, in reverse order.

    lo stays up, as EL6 leaves it to its own `ifdown ifcfg-lo`.
    """
    live = _existing(links)
    plan: list[Step | Failure] = []
    for config, duplicate_of in reversed(_in_order(configs)):
        if config.device not in live:
            continue
        refusal = _refusal(config, duplicate_of) or _stop_refusal(config, live[config.device])
        plan.append(refusal or _stop(config, live))
    return tuple(plan)


def status_lines(configs: Sequence[DeviceConfig], links: Mapping[str, LinkState]) -> list[str]:
    """`service network status`, as EL6 prints it (configured file names, up devices)."""
    names = [config.name for config, _ in _in_order(configs)]
    up = [link for link in _existing(links).values() if link.up]
    return [
        "Configured devices:",
        " ".join([LOOPBACK, *names]),
        "Currently active devices:",
        " ".join(link.name for link in sorted(up, key=lambda link: link.index)),
    ]


def _existing(links: Mapping[str, LinkState]) -> dict[str, LinkState]:
    return {name: link for name, link in links.items() if link.exists}


def _in_order(configs: Iterable[DeviceConfig]) -> list[tuple[DeviceConfig, str | None]]:
    """Configs other than lo in EL6's order, each with the file that configured its device
    first, if another did.

    EL6 would apply both files one after the other; we apply only the first.
    """
    ordered = sorted(
        (config for config in configs if not _is_loopback(config)),
        key=lambda config: device_order_key(config.name),
    )
    first: dict[str, str] = {}
    result: list[tuple[DeviceConfig, str | None]] = []
    for config in ordered:
        result.append((config, first.get(config.device)))
        first.setdefault(config.device, config.filename)
    return result


def _is_loopback(config: DeviceConfig) -> bool:
    return LOOPBACK in (config.name, config.device)


def _refusal(config: DeviceConfig, duplicate_of: str | None) -> Failure | None:
    if config.errors:
        return Failure(config.device, "; ".join(config.errors))
    if duplicate_of is not None:
        return Failure(
            config.device,
            f"Device {config.device} is already configured by {duplicate_of}, "
            f"ignoring {config.filename}.",
        )
    return None


def _start_refusal(config: DeviceConfig, live: Mapping[str, LinkState]) -> Failure | None:
    device = config.device
    if config.bootproto in _DYNAMIC_BOOTPROTOS:
        return Failure(
            device,
            f"{config.bootproto} is not supported in the hvbridge lab "
            f"(BOOTPROTO={config.bootproto} in {config.filename})",
        )
    link = live.get(device)
    if link is None:
        if config.is_bridge:
            return None
        return Failure(
            device, f"Device {device} does not seem to be present, delaying initialization."
        )
    if config.is_bridge and not link.is_bridge:
        return Failure(device, f"Device {device} exists and is not a bridge.")
    if _mac_differs(config, link):
        return Failure(
            device, f"Device {device} has different MAC address than expected, ignoring."
        )
    return _port_refusal(config, link, live)


def _port_refusal(
    config: DeviceConfig, link: LinkState, live: Mapping[str, LinkState]
) -> Failure | None:
    bridge = config.bridge
    if bridge is None:
        return None
    if bridge in live and not live[bridge].is_bridge:
        return Failure(config.device, f"Cannot add {config.device} to {bridge}: not a bridge.")
    if link.master not in (None, bridge):
        return Failure(
            config.device, f"Device {config.device} is a port of {link.master}, not of {bridge}."
        )
    return None


def _stop_refusal(config: DeviceConfig, link: LinkState) -> Failure | None:
    if config.is_bridge and not link.is_bridge:
        return Failure(config.device, f"Device {config.device} exists and is not a bridge.")
    if _mac_differs(config, link):
        # ifdown-eth's wording, which differs from ifup-eth's.
        return Failure(
            config.device,
            f"Device {config.device} has MAC address {(link.mac or '').upper()}, "
            f"instead of configured address {config.hwaddr}. Ignoring.",
        )
    return None


def _mac_differs(config: DeviceConfig, link: LinkState) -> bool:
    return config.hwaddr is not None and (link.mac or "").upper() != config.hwaddr


def _start(config: DeviceConfig, live: dict[str, LinkState]) -> Step:
    if config.bridge is not None:
        return Step(config.device, _join_bridge(config.device, config.bridge, config.mtu, live))
    commands = _create_bridge(config, live) if config.is_bridge else []
    route, warning = _default_route(config)
    commands += [
        *_set_mtu(config.device, config.mtu),
        *_addresses(config),
        _link(config.device, "up"),
    ]
    return Step(config.device, (*commands, *route), warning)


def _create_bridge(config: DeviceConfig, live: dict[str, LinkState]) -> list[Command]:
    bridge = config.device
    commands = _add_bridge(bridge, live)
    commands.append(("brctl", "setfd", bridge, config.delay))
    if config.stp is not None:
        commands.append(("brctl", "stp", bridge, "on" if config.stp else "off"))
    return commands


def _add_bridge(bridge: str, live: dict[str, LinkState]) -> list[Command]:
    if bridge in live:
        return []
    live[bridge] = LinkState(bridge, is_bridge=True)
    return [("brctl", "addbr", bridge)]


def _join_bridge(
    device: str, bridge: str, mtu: int | None, live: dict[str, LinkState]
) -> tuple[Command, ...]:
    """A port: EL6 gives it no address, whatever IPADDR says."""
    commands = [
        *_add_bridge(bridge, live),
        _flush(device),
        *_set_mtu(device, mtu),
        _link(device, "up"),
    ]
    if live[device].master != bridge:
        commands.append(("brctl", "addif", bridge, device))
        live[device] = dataclasses.replace(live[device], master=bridge)
    return tuple(commands)


def _addresses(config: DeviceConfig) -> list[Command]:
    if config.address is None:
        # EL6 brings an address-less device up and leaves its addresses alone.
        return []
    address = config.address.with_prefixlen
    return [_flush(config.device), ("ip", "addr", "add", address, "brd", "+", "dev", config.device)]


def _default_route(config: DeviceConfig) -> tuple[list[Command], str]:
    address, gateway = config.address, config.gateway
    if address is None or gateway is None or not config.defroute:
        return [], ""
    if gateway not in address.network:
        # ifup-eth skips such a gateway silently; saying so saves a confused operator.
        return [], (
            f"Gateway {gateway} is outside {address.network} of {config.device}, "
            "no default route set."
        )
    return [("ip", "route", "replace", "default", "via", str(gateway), "dev", config.device)], ""


def _stop(config: DeviceConfig, live: dict[str, LinkState]) -> Step:
    device = config.device
    if config.is_bridge:
        _forget_bridge(device, live)
        return Step(device, (_link(device, "down"), ("brctl", "delbr", device)))
    master = live[device].master
    commands: list[Command] = []
    if config.bridge is not None and master is not None:
        commands.append(("brctl", "delif", master, device))
        live[device] = dataclasses.replace(live[device], master=None)
    return Step(device, (*commands, _flush(device), _link(device, "down")))


def _forget_bridge(bridge: str, live: dict[str, LinkState]) -> None:
    """Deleting a bridge releases its ports: later steps must not `delif` them again."""
    del live[bridge]
    for name, link in list(live.items()):
        if link.master == bridge:
            live[name] = dataclasses.replace(link, master=None)


def _link(device: str, state: str) -> Command:
    return ("ip", "link", "set", "dev", device, state)


def _flush(device: str) -> Command:
    return ("ip", "addr", "flush", "dev", device)


def _set_mtu(device: str, mtu: int | None) -> list[Command]:
    return [] if mtu is None else [("ip", "link", "set", "dev", device, "mtu", str(mtu))]


def _filename(source: str) -> str:
    return PurePosixPath(source).name


def _config_name(source: str) -> str:
    return _filename(source).removeprefix(_CONFIG_PREFIX)


def _collect(errors: list[str], parse: Callable[[], _T]) -> _T | None:
    try:
        return parse()
    except ValueError as exc:
        errors.append(str(exc))
        return None


def _optional(fields: Mapping[str, str], key: str, parse: Callable[[str], _T]) -> _T | None:
    value = fields.get(key, "")
    if not value:
        return None
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f"invalid {key} {value!r}") from None


def _explicit_no(value: str | None) -> bool:
    """EL6 treats everything but an explicit no as yes (ONBOOT, DEFROUTE)."""
    return value is not None and value.lower() in ("no", "false")


def _ifname(value: str, key: str) -> str:
    if not _IFNAME.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"invalid {key} {value!r}")
    return value


def _device_type(value: str | None) -> bool:
    if value is None or value == "":
        return False
    if value not in _TYPES:
        raise ValueError(f"unsupported TYPE {value!r} (Ethernet or Bridge)")
    return value == "Bridge"


def _bridge(value: str | None, device: str, is_bridge: bool) -> str | None:
    if not value:
        return None
    bridge = _ifname(value, "BRIDGE")
    if is_bridge or bridge == device:
        raise ValueError(f"BRIDGE={bridge}: a bridge cannot be a port of a bridge")
    return bridge


def _bootproto(value: str | None) -> str:
    bootproto = (value or "none").lower()
    if bootproto not in _STATIC_BOOTPROTOS | _DYNAMIC_BOOTPROTOS:
        raise ValueError(f"unknown BOOTPROTO {value!r}")
    return bootproto or "none"


def _address(fields: Mapping[str, str]) -> IPv4Interface | None:
    """IPADDR with PREFIX, else NETMASK, else the classful mask EL6's ipcalc guesses."""
    address = _optional(fields, "IPADDR", _ipv4)
    if address is None:
        return None
    prefix = _optional(fields, "PREFIX", _prefix)
    if prefix is None:
        mask = _optional(fields, "NETMASK", _netmask)
        prefix = _classful_prefix(address) if mask is None else mask
    return IPv4Interface((address, prefix))


def _ipv4(value: str) -> IPv4Address:
    return IPv4Address(value)


def _prefix(value: str) -> int:
    if not value.isdigit() or int(value) > 32:
        raise ValueError(value)
    return int(value)


def _netmask(value: str) -> int:
    host_bits = int(_ipv4(value)) ^ 0xFFFFFFFF
    if host_bits & (host_bits + 1):
        raise ValueError(value)
    return 32 - host_bits.bit_length()


def _classful_prefix(address: IPv4Address) -> int:
    first = int(address) >> 24
    if first <= 127:
        return 8
    return 16 if first <= 191 else 24


def _mac(value: str) -> str:
    mac = value.upper()
    if not _MAC.fullmatch(mac):
        raise ValueError(value)
    return mac


def _stp(value: str) -> bool:
    try:
        return _STP_VALUES[value.lower()]
    except KeyError:
        raise ValueError(value) from None


def _delay(value: str | None) -> str:
    if value is None or value == "":
        return DEFAULT_FORWARD_DELAY
    if not _SECONDS.fullmatch(value):
        raise ValueError(f"invalid DELAY {value!r} (seconds)")
    return value


def _mtu_value(value: str) -> int:
    if not value.isdigit() or not _MIN_MTU <= int(value) <= _MAX_MTU:
        raise ValueError(value)
    return int(value)
