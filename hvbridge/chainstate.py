"""What a host's network state says beyond bridges and IPv4: bonds, VLANs, each bridge's
STP settings, IPv6, and the resolver. Read by the shared state command
(hvbridge.platforms.iproute) in the same round trip as the rest, and parsed here, pure
and strict like hvbridge.netstate.

Sources every kernel since EL6 has: `/proc/net/bonding/<bond>` (one per bond),
`/proc/net/vlan/config` (present once a VLAN exists), `/sys/class/net/<bridge>/bridge/`
(stp_state, and forward_delay in USER_HZ ticks: hundredths of a second).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address

from hvbridge.bonding import Bond, parse_proc_bonding
from hvbridge.ipv6state import Address6, Route6, parse_ip6_addr_text, parse_ip6_route_text
from hvbridge.netstate import _IFNAME, Link, ParseError
from hvbridge.platforms.iproute import BOND_MARK

VLAN_CONFIG = "/proc/net/vlan/config"
BRIDGE_SYSFS = "/sys/class/net/*/bridge"


@dataclass(frozen=True)
class Vlan:
    name: str
    id: int
    parent: str


@dataclass(frozen=True)
class BridgeSettings:
    """`forward_delay` in hundredths of a second, as sysfs gives it."""

    name: str
    stp_state: int
    forward_delay: int

    @property
    def stp(self) -> bool:
        # 1: the kernel's STP, 2: a user-space daemon's; both are STP on.
        return self.stp_state != 0


@dataclass(frozen=True)
class Resolver:
    """The nameservers and search domains the host resolves with, from `path`."""

    path: str
    servers: tuple[str, ...]
    search: tuple[str, ...]


@dataclass(frozen=True)
class ChainState:
    bonds: Mapping[str, Bond] = field(default_factory=dict)
    vlans: Mapping[str, Vlan] = field(default_factory=dict)
    bridge_settings: Mapping[str, BridgeSettings] = field(default_factory=dict)
    addresses6: tuple[Address6, ...] = ()
    routes6: tuple[Route6, ...] = ()
    resolver: Resolver | None = None


def vlans_seen(chain: ChainState, links: Iterable[Link]) -> dict[str, Vlan]:
    """The VLANs /proc/net/vlan/config lists, and any other that ip shows with its id and
    parent (the two agree on a real kernel; /proc is what every ip version can be read by)."""
    found = {
        link.name: Vlan(link.name, link.vlan_id, link.vlan_parent)
        for link in links
        if link.vlan_id is not None and link.vlan_parent is not None
    }
    return {**found, **chain.vlans}


def parse_vlan_config(text: str) -> dict[str, Vlan]:
    """Parse `/proc/net/vlan/config`: two heading lines, then `NAME | ID | PARENT`."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return {}
    if not lines[0].startswith("VLAN Dev name") or not lines[1:2] or "Name-Type" not in lines[1]:
        raise ParseError(VLAN_CONFIG, f"expected the VLAN config heading, got {lines[0]!r}", 1)
    vlans: dict[str, Vlan] = {}
    for number, line in enumerate(lines[2:], 3):
        fields = [part.strip() for part in line.split("|")]
        if len(fields) != 3 or not fields[1].isdigit():
            raise ParseError(VLAN_CONFIG, f"expected 'NAME | ID | PARENT', got {line!r}", number)
        name, vid, parent = fields
        for device in (name, parent):
            if not _IFNAME.fullmatch(device):
                raise ParseError(VLAN_CONFIG, f"invalid interface name {device!r}", number)
        vlans[name] = Vlan(name, int(vid), parent)
    return vlans


def parse_bridge_settings(text: str) -> dict[str, BridgeSettings]:
    """Parse the state command's `NAME STP_STATE FORWARD_DELAY` lines, one per bridge."""
    settings: dict[str, BridgeSettings] = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if len(words) != 3 or not all(word.isdigit() for word in words[1:]):
            raise ParseError(
                BRIDGE_SYSFS, f"expected 'BRIDGE STP_STATE FORWARD_DELAY', got {line!r}", number
            )
        if not _IFNAME.fullmatch(words[0]):
            raise ParseError(BRIDGE_SYSFS, f"invalid interface name {words[0]!r}", number)
        settings[words[0]] = BridgeSettings(words[0], int(words[1]), int(words[2]))
    return settings


def parse_resolv_conf(path: str, text: str) -> Resolver:
    """The `nameserver` and `search` lines as glibc reads them: the last `search` or
    `domain` line wins; a nameserver that is no address is skipped, as glibc skips it
    (refusing the whole state for it would revert a host over a line its resolver
    ignores); other keywords and comments do not matter here."""
    servers: list[str] = []
    search: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0][:1] in ("#", ";"):
            continue
        if words[0] == "nameserver" and len(words) > 1:
            try:
                # A link-local server may carry its zone (fe80::1%eth0).
                servers.append(str(ip_address(words[1].partition("%")[0])))
            except ValueError:
                continue
        elif words[0] in ("search", "domain"):
            search = words[1:]
    return Resolver(path, tuple(servers), tuple(search))


def parse_bonds(text: str) -> dict[str, Bond]:
    """The state command's `@@hvbridge-bond@@ NAME` sections, each a bonding file."""
    bonds: dict[str, Bond] = {}
    if not text.strip():
        return bonds
    if not text.startswith(f"{BOND_MARK} "):
        raise ParseError("/proc/net/bonding", f"expected '{BOND_MARK} BOND', got {text[:40]!r}")
    for section in text.split(f"{BOND_MARK} ")[1:]:
        name, _, body = section.partition("\n")
        if not _IFNAME.fullmatch(name):
            raise ParseError("/proc/net/bonding", f"invalid bond name {name!r}")
        bonds[name] = parse_proc_bonding(name, body)
    return bonds


def chain_from_outputs(
    ip6_addr: str, ip6_route: str, resolver: str, bridges: str, bonds: str, vlans: str
) -> ChainState:
    """The state command's parts after IPv4's, in its order; `resolver` is the path of
    the file read on its first line, then that file."""
    path, _, resolv_text = resolver.partition("\n")
    return ChainState(
        bonds=parse_bonds(bonds),
        vlans=parse_vlan_config(vlans),
        bridge_settings=parse_bridge_settings(bridges),
        addresses6=tuple(parse_ip6_addr_text(ip6_addr)),
        routes6=tuple(parse_ip6_route_text(ip6_route)),
        resolver=parse_resolv_conf(path.strip(), resolv_text) if path.strip() else None,
    )
