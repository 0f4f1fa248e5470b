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
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface, ip_address
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
    "resolv_conf",
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
# TYPE=Bond and TYPE=Vlan are EL7's (and NetworkManager's) words; initscripts know a bond
# by its BONDING_OPTS and a VLAN by VLAN=yes, as here.
_TYPES = frozenset({"Ethernet", "Bridge", "Bond", "Vlan"})
# A BONDING_OPTS word: a bonding driver option and its value.
_BOND_OPTION = re.compile(r"(?P<key>[a-z_]+)=(?P<value>[A-Za-z0-9_.,:+-]+)")
# ifup's VLAN names: PARENT.ID, or vlanID with PHYSDEV.
_DOT_VID = re.compile(r"(?P<parent>.+)\.(?P<id>[0-9]{1,4})")
_VLAN_VID = re.compile(r"vlan0*(?P<id>[0-9]{1,4})")
_DNS_KEYS = ("DNS1", "DNS2", "DNS3")
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
    # A bond (BONDING_OPTS: the driver's options, in order), or a bond's slave (MASTER).
    bonding_opts: tuple[tuple[str, str], ...] | None = None
    master: str | None = None
    # A VLAN (VLAN=yes): its id and parent, from its name or VID/PHYSDEV, as ifup reads them.
    vlan_id: int | None = None
    physdev: str | None = None
    # IPv6 (IPV6INIT=yes): the address (prefix 64 when unsaid), the default gateway, and
    # whether router advertisements configure the device (IPV6_AUTOCONF, default yes).
    ipv6init: bool = False
    ipv6addr: IPv6Interface | None = None
    ipv6_gateway: IPv6Address | None = None
    ipv6_autoconf: bool = True
    # What ifup-post writes to /etc/resolv.conf unless PEERDNS=no.
    dns: tuple[str, ...] = ()
    domain: str | None = None
    peerdns: bool = True
    errors: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return _filename(self.source)

    @property
    def is_bond(self) -> bool:
        return self.bonding_opts is not None

    @property
    def is_vlan(self) -> bool:
        return self.vlan_id is not None

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
        vlan = _collect(errors, lambda: _vlan(fields, device)) or (None, None)
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
            bonding_opts=_collect(errors, lambda: _bonding_opts(fields.get("BONDING_OPTS"))),
            master=_collect(errors, lambda: _master(fields, device)),
            vlan_id=vlan[0],
            physdev=vlan[1],
            ipv6init=_yes(fields.get("IPV6INIT")),
            ipv6addr=_collect(errors, lambda: _optional(fields, "IPV6ADDR", _ipv6_interface)),
            ipv6_gateway=_collect(errors, lambda: _optional(fields, "IPV6_DEFAULTGW", _ipv6_gw)),
            ipv6_autoconf=not _explicit_no(fields.get("IPV6_AUTOCONF")),
            dns=tuple(_collect(errors, lambda: _dns(fields)) or ()),
            domain=fields.get("DOMAIN") or None,
            peerdns=not _explicit_no(fields.get("PEERDNS")),
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
class ResolvConf:
    """What a device's step does to /etc/resolv.conf once its commands succeeded: ifup-post
    writes these servers and search domains (`resolv_conf`), keeping a copy; ifdown-post
    (no servers) puts the copy back."""

    servers: tuple[str, ...] = ()
    domain: str | None = None


@dataclass(frozen=True)
class Step:
    """Commands that bring one device up or down; `message` is a warning to show; `said`:
    what initscripts say when one of the commands fails (the kernel refuses a bond or a
    VLAN), instead of the command's own words alone."""

    device: str
    commands: tuple[Command, ...]
    message: str = ""
    said: tuple[tuple[Command, str], ...] = ()
    resolv: ResolvConf | None = None


@dataclass(frozen=True)
class Failure:
    """A device left untouched, and why."""

    device: str
    message: str


Plan = tuple[Step | Failure, ...]


def plan_start(configs: Sequence[DeviceConfig], links: Mapping[str, LinkState]) -> Plan:
    """`service network start`: lo, then every ONBOOT device in EL6's order, VLANs after the
    others (they sit on them); a bond's slaves come up with their bond, as ifup-eth does."""
    live = _existing(links)
    plan: list[Step | Failure] = [Step(LOOPBACK, (_link(LOOPBACK, "up"),))]
    ordered = _in_order(configs)
    slaves = [c for c, first in ordered if c.master is not None and not c.errors and not first]
    for config, duplicate_of in sorted(ordered, key=lambda item: item[0].is_vlan):
        if not config.onboot or config in slaves:
            continue
        refusal = _refusal(config, duplicate_of) or _start_refusal(config, live)
        plan.append(refusal or _start(config, live, slaves))
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
        # ifup creates bridges and bonds, and a VLAN on its parent.
        if config.is_bridge or config.is_bond or (config.is_vlan and config.physdev in live):
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
    # ifdown-eth does not compare a slave's MAC: its bond may have given it its own.
    if config.master is None and _mac_differs(config, link):
        # ifdown-eth's wording, which differs from ifup-eth's.
        return Failure(
            config.device,
            f"Device {config.device} has MAC address {(link.mac or '').upper()}, "
            f"instead of configured address {config.hwaddr}. Ignoring.",
        )
    return None


def _mac_differs(config: DeviceConfig, link: LinkState) -> bool:
    return config.hwaddr is not None and (link.mac or "").upper() != config.hwaddr


def _start(
    config: DeviceConfig, live: dict[str, LinkState], slaves: Sequence[DeviceConfig]
) -> Step:
    device = config.device
    said: list[tuple[Command, str]] = []
    warnings: list[str] = []
    commands: list[Command] = []
    mtu = config.mtu
    if config.is_vlan:
        commands += _create_vlan(config, live, said)
    if config.is_bond:
        commands += _create_bond(config, live, said)
        commands += [*_set_mtu(device, mtu), _link(device, "up")]
        commands += _enslave(config, slaves, live, warnings)
        mtu = None
    if config.bridge is not None:
        commands += _join_bridge(device, config.bridge, mtu, live)
        return Step(device, tuple(commands), "\n".join(warnings), tuple(said))
    if config.is_bridge:
        commands += _create_bridge(config, live)
    route, warning = _default_route(config)
    commands += [*_set_mtu(device, mtu), *_addresses(config), _link(device, "up")]
    commands += [*_ipv6(config), *route, *_ipv6_route(config)]
    resolv = ResolvConf(config.dns, config.domain) if config.peerdns and config.dns else None
    message = "\n".join([*warnings, warning] if warning else warnings)
    return Step(device, tuple(commands), message, tuple(said), resolv)


def _create_vlan(
    config: DeviceConfig, live: dict[str, LinkState], said: list[tuple[Command, str]]
) -> list[Command]:
    """ifup: the parent up (it needs no address), then the VLAN on it unless it exists."""
    parent, device = config.physdev or "", config.device
    parent_link = live.get(parent)
    commands = [] if parent_link is not None and parent_link.up else [_link(parent, "up")]
    if device not in live:
        add = ("ip", "link", "add", "link", parent, "name", device, "type", "vlan", "id",
               str(config.vlan_id))  # fmt: skip
        said.append(
            (add, f"ERROR: could not add vlan {config.vlan_id} as {device} on dev {parent}")
        )
        commands.append(add)
        live[device] = LinkState(device)
    return commands


def _create_bond(
    config: DeviceConfig, live: dict[str, LinkState], said: list[tuple[Command, str]]
) -> list[Command]:
    """install_bonding_driver: a new bond with its options, or a bond without slaves given
    them again (the driver takes a mode only while it has none); primary comes after the
    slaves (`_enslave`)."""
    device = config.device
    options = tuple(
        word
        for key, value in config.bonding_opts or ()
        if key != "primary"
        for word in (key, value)
    )
    if device not in live:
        add = ("ip", "link", "add", device, "type", "bond", *options)
        # EL6 cannot make the bond (no bonding module): its ifup-eth then finds no device.
        said.append((add, f"Device {device} does not seem to be present, delaying initialization."))
        live[device] = LinkState(device, up=True)
        return [add]
    if any(link.master == device for link in live.values()):
        return []
    return [_link(device, "down"), ("ip", "link", "set", "dev", device, "type", "bond", *options)]


def _enslave(
    bond: DeviceConfig,
    slaves: Sequence[DeviceConfig],
    live: dict[str, LinkState],
    warnings: list[str],
) -> list[Command]:
    """ifup-eth of a bond: `ifup` of each file whose MASTER is the bond (a slave that does not
    come up is a warning, not the bond's failure), then the primary slave."""
    device = bond.device
    commands: list[Command] = []
    for slave in (s for s in slaves if s.master == device):
        link = live.get(slave.device)
        if link is not None and link.master == device:
            continue
        if link is None or _mac_differs(slave, link) or link.master is not None:
            warnings.append(f"Unable to start slave device {slave.filename} for master {device}.")
            continue
        commands += [
            _link(slave.device, "down"),
            *_set_mtu(slave.device, slave.mtu),
            ("ip", "link", "set", "dev", slave.device, "master", device),
            _link(slave.device, "up"),
        ]
        live[slave.device] = dataclasses.replace(link, master=device)
    primary = dict(bond.bonding_opts or ()).get("primary")
    if primary:
        commands.append(("ip", "link", "set", "dev", device, "type", "bond", "primary", primary))
    return commands


def _ipv6(config: DeviceConfig) -> list[Command]:
    """ifup-ipv6: router advertisements as IPV6_AUTOCONF says, then the static address
    (`replace`: ifup-ipv6 adds it only when missing)."""
    if not config.ipv6init:
        return []
    device, value = config.device, "1" if config.ipv6_autoconf else "0"
    commands: list[Command] = [
        ("sysctl", "-q", "-w", f"net/ipv6/conf/{device}/accept_ra={value}",
         f"net/ipv6/conf/{device}/autoconf={value}"),
    ]  # fmt: skip
    if config.ipv6addr is not None:
        commands.append(("ip", "-6", "addr", "replace", str(config.ipv6addr), "dev", device))
    return commands


def _ipv6_route(config: DeviceConfig) -> list[Command]:
    if not config.ipv6init or config.ipv6_gateway is None or not config.defroute:
        return []
    gateway = str(config.ipv6_gateway)
    return [("ip", "-6", "route", "replace", "default", "via", gateway, "dev", config.device)]


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
    resolv = ResolvConf() if config.peerdns and config.dns else None
    if config.is_bridge:
        _forget_bridge(device, live)
        return Step(device, (_link(device, "down"), ("brctl", "delbr", device)), resolv=resolv)
    master = live[device].master
    commands: list[Command] = []
    if config.is_bond:
        # ifdown-eth of a bond: ifdown of its slaves first.
        for name, link in sorted(live.items()):
            if link.master == device:
                commands += [("ip", "link", "set", "dev", name, "nomaster"), _link(name, "down")]
                live[name] = dataclasses.replace(link, master=None)
    if master is not None and master == config.master:
        commands.append(("ip", "link", "set", "dev", device, "nomaster"))
        live[device] = dataclasses.replace(live[device], master=None)
    elif config.bridge is not None and master is not None:
        commands.append(("brctl", "delif", master, device))
        live[device] = dataclasses.replace(live[device], master=None)
    commands += [_flush(device), _link(device, "down")]
    if config.is_vlan:
        commands.append(("ip", "link", "delete", device, "type", "vlan"))
        del live[device]
    return Step(device, tuple(commands), resolv=resolv)


def resolv_conf(text: str, servers: Sequence[str], domain: str | None) -> str | None:
    """/etc/resolv.conf as EL6's ifup-post rewrites it for DNS1.. and DOMAIN; None when it
    leaves it alone (every server is already a `nameserver` line). The old nameserver lines
    give way to the servers in order (the rest stay); with DOMAIN, the old `search` and
    `domain` lines go, and one `search DOMAIN <their names>` line ends the file."""
    present = {line.split()[1] for line in text.splitlines() if len(line.split()) > 1
               and line.split()[0] == "nameserver"}  # fmt: skip
    if all(server in present for server in servers):
        return None
    todo = list(servers)
    lines: list[str] = []
    search: list[str] = []
    for line in [*text.splitlines(), None]:
        words = line.split() if line is not None else []
        if line is None or (words and words[0] == "nameserver"):
            if todo:
                lines.append(f"nameserver {todo.pop(0)}")
            elif line is not None:
                lines.append(line)
            while line is None and todo:
                lines.append(f"nameserver {todo.pop(0)}")
        elif words and words[0] in ("domain", "search") and domain:
            search += words[1:]
        else:
            lines.append(line)
    if domain:
        lines.append(" ".join(["search", domain, *search]))
    return "".join(f"{line}\n" for line in lines)


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
        raise ValueError(f"unsupported TYPE {value!r} (Ethernet, Bridge, Bond or Vlan)")
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


def _yes(value: str | None) -> bool:
    return value is not None and value.lower() in ("yes", "true", "1")


def _bonding_opts(value: str | None) -> tuple[tuple[str, str], ...] | None:
    """BONDING_OPTS as (option, value) pairs; None when unset (not a bond)."""
    if not value:
        return None
    options = []
    for word in value.split():
        match = _BOND_OPTION.fullmatch(word)
        if match is None:
            raise ValueError(f"invalid BONDING_OPTS word {word!r} (option=value)")
        options.append((match["key"], match["value"]))
    return tuple(options)


def _master(fields: Mapping[str, str], device: str) -> str | None:
    """A slave's bond: MASTER, when SLAVE=yes (ifup-eth ignores MASTER otherwise)."""
    master = fields.get("MASTER")
    if not master or not _yes(fields.get("SLAVE")):
        return None
    master = _ifname(master, "MASTER")
    if master == device:
        raise ValueError(f"MASTER={master}: a bond cannot be its own slave")
    return master


def _vlan(fields: Mapping[str, str], device: str) -> tuple[int, str] | None:
    """A VLAN's id and parent as EL6's ifup finds them: VID with PHYSDEV, else from the
    name (PARENT.ID; vlanID with PHYSDEV); None when VLAN is not yes."""
    if fields.get("VLAN") != "yes":
        return None
    physdev = fields.get("PHYSDEV") or None
    vid = fields.get("VID")
    dotted, plain = _DOT_VID.fullmatch(device), _VLAN_VID.fullmatch(device)
    if vid is None and dotted:
        vid, physdev = dotted["id"], dotted["parent"]
    elif vid is None and plain:
        vid = plain["id"]
    if vid is None:
        raise ValueError(f"VLAN=yes: no VLAN id in the name {device!r} (PARENT.ID or vlanID)")
    if physdev is None:
        raise ValueError(f"PHYSDEV should be set for device {device}")
    if not vid.isdigit() or not 0 < int(vid) < 4095:
        raise ValueError(f"invalid VLAN id {vid!r}")
    return int(vid), _ifname(physdev, "PHYSDEV")


def _ipv6_interface(value: str) -> IPv6Interface:
    # sysconfig.txt: "if prefix length is omitted, 64 is assumed".
    return IPv6Interface(value if "/" in value else f"{value}/64")


def _ipv6_gw(value: str) -> IPv6Address:
    # IPV6_DEFAULTGW may name the device after a %: the lab takes the file's own.
    return IPv6Address(value.split("%", 1)[0])


def _dns(fields: Mapping[str, str]) -> list[str]:
    servers = []
    for key in _DNS_KEYS:
        value = fields.get(key)
        if value:
            try:
                servers.append(str(ip_address(value)))
            except ValueError:
                raise ValueError(f"invalid {key} {value!r}") from None
    return servers
