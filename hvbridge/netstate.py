"""A host's network state, read from `brctl show` and `ip`, and checked against a plan.

`ip` is read in two forms: its JSON (`ip -j`, iproute2 of 2017 and later) and its text,
which every iproute since 2.6.32 prints and which is all that EL6 and EL7 hosts have.

Pure functions only: the tasks run the commands over SSH and hand the text here, so
everything below is tested on captured outputs without a network. Parsers are strict:
output they cannot read raises `ParseError` instead of being skipped, because a bridge
or port silently dropped would make `verify` report a host as right or wrong for the
wrong reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from typing import TYPE_CHECKING, Any

from hvbridge import errors

if TYPE_CHECKING:
    # chainstate reads with this module's parsers: imported at run time only where used.
    from hvbridge.chainstate import ChainState

__all__ = [
    "Address",
    "Bridge",
    "ExpectedBond",
    "ExpectedBridge",
    "ExpectedDns",
    "ExpectedVlan",
    "Link",
    "NetState",
    "ParseError",
    "Route",
    "bridges_from_links",
    "facts",
    "parse_brctl_show",
    "parse_ip_addr_json",
    "parse_ip_addr_text",
    "parse_ip_link_json",
    "parse_ip_link_text",
    "parse_ip_route_json",
    "parse_ip_route_text",
    "state_from_outputs",
    "state_from_text_outputs",
    "verify",
]

BRCTL_SHOW = "brctl show"
IP_LINK = "ip -j -d link show"
IP_ADDR = "ip -j -4 addr show"
IP_ROUTE = "ip -j -4 route show"
IP_LINK_TEXT = "ip -o -d link show"
IP_ADDR_TEXT = "ip -o -4 addr show"
IP_ROUTE_TEXT = "ip -4 route show"

_HEADER = ["bridge", "name", "bridge", "id", "STP", "enabled", "interfaces"]
# brctl prints the 16-bit priority and the bridge MAC as lowercase hex, without colons.
_BRIDGE_ID = re.compile(r"[0-9a-f]{4}\.[0-9a-f]{12}")
_STP = {"yes": True, "no": False}
# The kernel's dev_valid_name(): at most 15 bytes, no '/', ':' or whitespace.
_IFNAME = re.compile(r"[^/:\s]{1,15}")
# A bridge has carrier once one of its ports forwards; UNKNOWN is what drivers that do
# not track carrier report while up.
_RUNNING_STATES = frozenset({"UP", "UNKNOWN"})


class ParseError(errors.ParseError, ValueError):
    """Command output that does not read as the format we know."""

    def __init__(self, source: str, message: str, line_no: int | None = None) -> None:
        where = source if line_no is None else f"{source}, line {line_no}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line_no = line_no
        self.reason = message


@dataclass(frozen=True)
class Bridge:
    """One bridge as `brctl show` lists it; ports in brctl's (alphabetical) order."""

    name: str
    bridge_id: str
    stp: bool
    ports: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    """One device from `ip -j -d link show` or `ip -o -d link show`.

    `state` is the kernel's operstate (UP, DOWN, LOWERLAYERDOWN, UNKNOWN, ...); `up` is
    whether it is administratively up. `kind` is linkinfo's info_kind (bridge, veth, tun,
    ...), None for a plain NIC or loopback, and also None wherever an old ip or kernel does
    not say (EL6). `stp` and `priority` are set for bridges only, when ip prints them.
    """

    name: str
    mac: str | None
    state: str
    up: bool
    mtu: int
    kind: str | None
    master: str | None
    stp: bool | None = None
    priority: int | None = None
    # A VLAN's id and the device it is on, where ip prints them (`vlan ... id N` and
    # NAME@PARENT with -d; JSON's info_data and "link").
    vlan_id: int | None = None
    vlan_parent: str | None = None


@dataclass(frozen=True)
class Address:
    device: str
    ip: IPv4Interface


@dataclass(frozen=True)
class Route:
    """One IPv4 route; `dst` is "default" or the prefix as ip prints it."""

    dst: str
    gateway: IPv4Address | None
    device: str | None
    metric: int = 0


@dataclass(frozen=True)
class NetState:
    """What a host's network looks like. `bridges_from` names the command the bridges
    came from, so that a problem says which view it saw."""

    bridges: tuple[Bridge, ...]
    links: tuple[Link, ...]
    addresses: tuple[Address, ...]
    routes: tuple[Route, ...]
    bridges_from: str = BRCTL_SHOW
    # Bonds, VLANs, bridge settings, IPv6 and the resolver: None where the state was
    # read without them (captured outputs of `brctl show` and `ip` alone).
    chain: ChainState | None = None


@dataclass(frozen=True)
class ExpectedBridge:
    """What a bridge should look like after the change.

    `address` None means the address is not checked (a DHCP bridge's is not known in
    advance); `gateway` None with `defroute` checks only that the default route leaves
    through the bridge.
    """

    name: str
    ports: tuple[str, ...]
    address: IPv4Interface | None
    gateway: IPv4Address | None
    defroute: bool
    # The rest of the chain, checked by hvbridge.chainverify: the bonds and VLANs under
    # the bridge, the MTU of each device that has one asked (the bridge's own too), STP
    # and its forward delay (seconds; None: not checked), IPv6 and the resolver.
    bonds: tuple[ExpectedBond, ...] = ()
    vlans: tuple[ExpectedVlan, ...] = ()
    mtus: tuple[tuple[str, int], ...] = ()
    stp: bool | None = None
    forward_delay: int | None = None
    ipv6_address: IPv6Interface | None = None
    ipv6_gateway: IPv6Address | None = None
    dns: ExpectedDns | None = None


@dataclass(frozen=True)
class ExpectedBond:
    name: str
    mode: str
    slaves: tuple[str, ...]


@dataclass(frozen=True)
class ExpectedVlan:
    name: str
    id: int
    parent: str


@dataclass(frozen=True)
class ExpectedDns:
    """Servers and search domains that must be in the resolver's file, as strings."""

    servers: tuple[str, ...]
    search: tuple[str, ...]


# brctl show


def parse_brctl_show(text: str) -> list[Bridge]:
    """Parse `brctl show`, whose columns are tab-aligned by bridge-utils and often
    space-aligned once pasted into a guide; both split the same on whitespace.

    bridge-utils 1.7 prints nothing at all when there is no bridge, 1.2 the header alone.
    """
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return []
    if lines[0].split() != _HEADER:
        raise ParseError(BRCTL_SHOW, f"expected the brctl show header, got {lines[0]!r}", 1)
    bridges: list[Bridge] = []
    for line_no, line in enumerate(lines[1:], start=2):
        if line[:1].isspace():
            bridges[-1] = _with_continuation(bridges, line, line_no)
        else:
            bridges.append(_bridge_line(line, line_no, {bridge.name for bridge in bridges}))
    return bridges


def _bridge_line(line: str, line_no: int, seen: set[str]) -> Bridge:
    fields = line.split()
    if len(fields) not in (3, 4):
        raise ParseError(BRCTL_SHOW, f"expected NAME ID STP [PORT], got {line!r}", line_no)
    name, bridge_id, stp = fields[:3]
    _check_ifname(name, line_no)
    if name in seen:
        raise ParseError(BRCTL_SHOW, f"bridge {name} is listed twice", line_no)
    if not _BRIDGE_ID.fullmatch(bridge_id):
        raise ParseError(BRCTL_SHOW, f"{name}: invalid bridge id {bridge_id!r}", line_no)
    if stp not in _STP:
        raise ParseError(BRCTL_SHOW, f"{name}: STP enabled must be yes or no, got {stp!r}", line_no)
    for port in fields[3:]:
        _check_ifname(port, line_no)
    return Bridge(name, bridge_id, _STP[stp], tuple(fields[3:]))


def _with_continuation(bridges: list[Bridge], line: str, line_no: int) -> Bridge:
    """The last bridge with the port of this indented line added.

    brctl prints a bridge's second and later ports alone on an indented line; anything
    else indented (such as " can't get port info: ...") is not a port.
    """
    fields = line.split()
    if not bridges:
        raise ParseError(BRCTL_SHOW, f"port line before any bridge: {line!r}", line_no)
    if len(fields) != 1:
        raise ParseError(BRCTL_SHOW, f"expected one port name, got {line!r}", line_no)
    _check_ifname(fields[0], line_no)
    last = bridges[-1]
    return replace(last, ports=(*last.ports, fields[0]))


def _check_ifname(name: str, line_no: int) -> None:
    if not _IFNAME.fullmatch(name):
        raise ParseError(BRCTL_SHOW, f"invalid interface name {name!r}", line_no)


# ip -j


def parse_ip_link_json(text: str) -> list[Link]:
    """Parse `ip -j -d link show`."""
    return [_link(item) for item in _items(text, IP_LINK)]


def _link(item: _Fields) -> Link:
    name = item.string("ifname")
    item = item.named(name)
    # Without -d ip prints no linkinfo: every bridge would pass for a plain NIC and the
    # fallback would find no bridges at all. Only -d prints promiscuity.
    if item.opt_integer("promiscuity") is None:
        raise item.error("no details ('promiscuity' is missing): run ip with -d")
    flags = item.strings("flags")
    linkinfo = item.opt_child("linkinfo")
    kind = None if linkinfo is None else linkinfo.opt_string("info_kind")
    mac = item.opt_string("address")
    stp, priority = None, None
    if linkinfo is not None and kind == "bridge":
        stp, priority = _bridge_settings(linkinfo)
        if mac is None:
            raise item.error("a bridge without 'address'")
    vlan_id, vlan_parent = None, None
    if linkinfo is not None and kind == "vlan":
        vlan_id = linkinfo.child("info_data").integer("id")
        vlan_parent = item.string("link")
    return Link(
        name=name,
        mac=mac,
        state=item.string("operstate"),
        up="UP" in flags,
        mtu=item.integer("mtu"),
        kind=kind,
        master=item.opt_string("master"),
        stp=stp,
        priority=priority,
        vlan_id=vlan_id,
        vlan_parent=vlan_parent,
    )


def _bridge_settings(linkinfo: _Fields) -> tuple[bool, int]:
    data = linkinfo.child("info_data")
    # stp_state 1 is the kernel's STP, 2 a user-space daemon's: brctl says "yes" to both.
    return data.integer("stp_state") != 0, data.integer("priority")


def bridges_from_links(links: Iterable[Link]) -> list[Bridge]:
    """The bridges `brctl show` would print, for hosts without bridge-utils.

    Sorted the way brctl sorts them (alphabetically, bridges and ports alike) so that
    both views of one host compare equal.
    """
    links = list(links)
    bridges = sorted((link for link in links if link.kind == "bridge"), key=lambda b: b.name)
    return [
        Bridge(
            name=bridge.name,
            bridge_id=_bridge_id(bridge),
            stp=bool(bridge.stp),
            ports=tuple(sorted(link.name for link in links if link.master == bridge.name)),
        )
        for bridge in bridges
    ]


def _bridge_id(bridge: Link) -> str:
    # The kernel keeps the bridge id's address equal to the bridge's MAC, so priority and
    # MAC give what brctl reads from sysfs. ip's own bridge_id drops leading zeros
    # ("8000.2:48:56:0:0:1"), which is why it is not used.
    if bridge.mac is None or bridge.priority is None:
        raise ValueError(f"{bridge.name}: a bridge link needs its MAC and priority")
    return f"{bridge.priority:04x}.{bridge.mac.replace(':', '').lower()}"


def parse_ip_addr_json(text: str) -> list[Address]:
    """Parse `ip -j -4 addr show`: every IPv4 address, in the order ip lists them."""
    addresses: list[Address] = []
    for item in _items(text, IP_ADDR):
        device = item.string("ifname")
        item = item.named(device)
        addresses.extend(_address(device, info) for info in item.children("addr_info"))
    return addresses


def _address(device: str, info: _Fields) -> Address:
    if info.string("family") != "inet":
        raise info.error(f"expected an inet address, got family {info.string('family')!r}")
    try:
        return Address(device, IPv4Interface(f"{info.string('local')}/{info.integer('prefixlen')}"))
    except ValueError as exc:
        raise info.error(str(exc)) from None


def parse_ip_route_json(text: str) -> list[Route]:
    """Parse `ip -j -4 route show` (the main table)."""
    return [_route(item) for item in _items(text, IP_ROUTE)]


def _route(item: _Fields) -> Route:
    gateway = item.opt_string("gateway")
    try:
        gateway_ip = None if gateway is None else IPv4Address(gateway)
    except ValueError as exc:
        raise item.error(str(exc)) from None
    return Route(
        dst=item.string("dst"),
        gateway=gateway_ip,
        # unreachable, blackhole and prohibit routes have no device.
        device=item.opt_string("dev"),
        # ip leaves the metric out when it is 0.
        metric=item.opt_integer("metric") or 0,
    )


def state_from_outputs(
    brctl_show: str | None, ip_link: str, ip_addr: str, ip_route: str
) -> NetState:
    """Assemble a host's state; `brctl_show` None means brctl is not installed, and the
    bridges then come from the links."""
    return _assemble(
        brctl_show,
        parse_ip_link_json(ip_link),
        IP_LINK,
        parse_ip_addr_json(ip_addr),
        parse_ip_route_json(ip_route),
    )


def _assemble(
    brctl_show: str | None,
    links: list[Link],
    links_source: str,
    addresses: list[Address],
    routes: list[Route],
) -> NetState:
    if brctl_show is None:
        bridges, source = bridges_from_links(links), links_source
    else:
        bridges, source = parse_brctl_show(brctl_show), BRCTL_SHOW
    return NetState(
        bridges=tuple(bridges),
        links=tuple(links),
        addresses=tuple(addresses),
        routes=tuple(routes),
        bridges_from=source,
    )


# ip's text (ip -o): every iproute since 2.6.32

# -o prints what ip would spread over several lines on one, each further line after a
# backslash.
_SEGMENT = "\\"
# ip prints a link's name as NAME@PEER when it has a lower device (a veth's peer, "@if5"
# for one in another namespace, "@NONE"); JSON keeps the peer apart, in "link".
_LINK_HEAD = re.compile(
    r"\d+:\s+(?P<name>[^/:@\s]{1,15})(?:@(?P<lower>[^:\s]+))?:\s+<(?P<flags>[A-Z0-9_,-]*)>(?P<rest>.*)"
)
_LINK_KEYS = frozenset({"mtu", "qdisc", "master", "state", "mode", "group", "qlen"})
_BRIDGE_KEYS = frozenset({"stp_state", "priority"})
_VLAN_KEYS = frozenset({"protocol", "id"})
# Hex bytes joined by ':' (MACs), or a tunnel's IPv4 or IPv6 endpoint: never a keyword.
_LINK_ADDRESS = re.compile(r"[0-9a-f:.]+")
_KIND = re.compile(r"[a-z0-9][a-z0-9_-]*")
# Further parts that ip may print after link/...: none is a device kind.
_NOT_KINDS = frozenset({"alias", "altname", "vf"})
# Old iproute prints a link's alias and its SR-IOV VFs on lines of their own, even with -o.
_LINK_CONTINUATIONS = frozenset({"alias", "vf"})
_ADDR_LINE = re.compile(r"\d+:\s+(?P<device>[^/:@\s]{1,15})\s+(?P<family>\S+)(?P<rest>.*)")
_ROUTE_TYPES = frozenset(
    {
        "unicast",
        "local",
        "broadcast",
        "multicast",
        "unreachable",
        "blackhole",
        "prohibit",
        "throw",
        "nat",
        "anycast",
    }
)
# The words read here, and the others whose value must not be taken for a word.
_ROUTE_KEYS = frozenset(
    {
        "via",
        "dev",
        "metric",
        "proto",
        "scope",
        "src",
        "table",
        "from",
        "tos",
        "error",
        "expires",
        "realms",
    }
)


@dataclass(frozen=True)
class _Line:
    """One line of ip's text, for errors that say which command and line."""

    source: str
    number: int
    text: str

    def error(self, message: str) -> ParseError:
        return ParseError(self.source, message, self.number)

    def ifname(self, name: str) -> str:
        if not _IFNAME.fullmatch(name):
            raise self.error(f"invalid interface name {name!r}")
        return name

    def number_of(self, word: str, value: str) -> int:
        if not value.isdigit():
            raise self.error(f"{word} must be a number, got {value!r}")
        return int(value)


def _lines(text: str, source: str) -> list[_Line]:
    lines = [_Line(source, number, line) for number, line in enumerate(text.splitlines(), 1)]
    while lines and not lines[-1].text.strip():
        lines.pop()
    return lines


def _keyed(words: Iterable[str], keys: frozenset[str], line: _Line) -> dict[str, str]:
    """The word after each of `keys` in `words`.

    Other words are passed over one by one: iproute versions differ in what else they
    print (group, xdp, linkdown, ...), never in what these keys mean.
    """
    values: dict[str, str] = {}
    remaining = iter(words)
    for word in remaining:
        if word not in keys:
            continue
        value = next(remaining, None)
        if value is None:
            raise line.error(f"{word} without a value")
        if word in values:
            raise line.error(f"{word} appears twice")
        values[word] = value
    return values


def parse_ip_link_text(text: str) -> list[Link]:
    """Parse `ip -o -d link show` as any iproute since 2.6.32 prints it."""
    return [link for link, _ in _text_links(text)]


def _text_links(text: str) -> list[tuple[Link, bool]]:
    """Each link, and whether its line shows -d details (only then are kinds known)."""
    links: list[tuple[Link, bool]] = []
    for line in _lines(text, IP_LINK_TEXT):
        if line.text[:1].isspace():
            _link_continuation(line, bool(links))
        else:
            links.append(_text_link(line))
    return links


def _link_continuation(line: _Line, after_a_link: bool) -> None:
    words = line.text.split()
    if not after_a_link or words[:1] == [] or words[0] not in _LINK_CONTINUATIONS:
        raise line.error(f"expected one line per link (run ip with -o), got {line.text!r}")


def _text_link(line: _Line) -> tuple[Link, bool]:
    head, *parts = line.text.split(_SEGMENT)
    match = _LINK_HEAD.fullmatch(head.strip())
    if match is None:
        raise line.error(f"expected 'N: NAME: <FLAGS> mtu N ... state S', got {head!r}")
    name = match["name"]
    fields = _keyed(match["rest"].split(), _LINK_KEYS, line)
    for key in ("mtu", "state"):
        if key not in fields:
            raise line.error(f"{name}: no {key}")
    layer = _link_layer(parts, line, name)
    kind_words = _kind_words(parts[1:])
    kind = kind_words[0] if kind_words else None
    mac = layer[1] if len(layer) > 1 and _LINK_ADDRESS.fullmatch(layer[1]) else None
    if kind == "bridge" and mac is None:
        raise line.error(f"{name}: a bridge without a MAC")
    stp, priority = _text_bridge_settings(kind_words[1:], line)
    vlan_id = None
    if kind == "vlan":
        # `vlan protocol 802.1Q id 100 <REORDER_HDR>`; EL6's ip prints `vlan id 100 ...`.
        vlan = _keyed(kind_words[1:], _VLAN_KEYS, line)
        if "id" not in vlan or match["lower"] is None:
            raise line.error(f"{name}: a VLAN without its id or its NAME@PARENT")
        vlan_id = line.number_of("id", vlan["id"])
    link = Link(
        name=name,
        mac=mac,
        state=fields["state"],
        up="UP" in match["flags"].split(","),
        mtu=line.number_of("mtu", fields["mtu"]),
        kind=kind,
        master=None if "master" not in fields else line.ifname(fields["master"]),
        stp=stp,
        priority=priority,
        vlan_id=vlan_id,
        vlan_parent=None if vlan_id is None else line.ifname(match["lower"]),
    )
    # Only -d prints promiscuity; without it ip printed no details, or is too old (EL6's
    # 2.6.32) for its kinds to be trusted.
    return link, "promiscuity" in layer


def _text_bridge_settings(words: list[str], line: _Line) -> tuple[bool | None, int | None]:
    """STP and priority from `bridge ... stp_state N ... priority N`, None where an older
    ip prints the kind without them."""
    settings = _keyed(words, _BRIDGE_KEYS, line)
    stp, priority = settings.get("stp_state"), settings.get("priority")
    return (
        # stp_state 1 is the kernel's STP, 2 a user-space daemon's, as in the JSON.
        None if stp is None else line.number_of("stp_state", stp) != 0,
        None if priority is None else line.number_of("priority", priority),
    )


def _link_layer(parts: list[str], line: _Line, name: str) -> list[str]:
    """The words of the `link/TYPE [ADDRESS] [brd ADDRESS] ...` part."""
    words = parts[0].split() if parts else []
    if not words or not words[0].startswith("link/"):
        raise line.error(f"{name}: no link/ part after the flags (run ip with -o)")
    return words


def _kind_words(parts: list[str]) -> list[str]:
    """The words of the device's linkinfo: its kind, then its settings.

    ip prints the kind right after the link/ part; a port's `bridge_slave ...` is its
    master's kind, not its own, and alias, altname and vf parts are no kind at all.
    """
    words = parts[0].split() if parts else []
    if not words or words[0] in _NOT_KINDS or words[0].endswith("_slave"):
        return []
    return words if _KIND.fullmatch(words[0]) else []


def parse_ip_addr_text(text: str) -> list[Address]:
    """Parse `ip -o -4 addr show`, one address a line, in the order ip lists them.

    The device is the one ip names first: an address labelled eth0:1 belongs to eth0, as
    in ip's JSON. EL6's kernel gives IPv4 addresses no lifetimes, so its lines end at the
    label; later ones add `valid_lft ...` after a backslash.
    """
    return [_text_address(line) for line in _lines(text, IP_ADDR_TEXT)]


def _text_address(line: _Line) -> Address:
    head = line.text.split(_SEGMENT)[0]
    match = _ADDR_LINE.fullmatch(head.strip())
    if match is None:
        raise line.error(f"expected 'N: DEVICE inet ADDRESS/PREFIX ...' (ip -o), got {head!r}")
    device = match["device"]
    if match["family"] != "inet":
        raise line.error(f"{device}: expected an inet address, got {match['family']!r}")
    words = match["rest"].split()
    local, _, prefix = words[0].partition("/") if words else ("", "", "")
    # A point-to-point address prints as LOCAL peer PEER/PREFIX.
    if not prefix and words[1:2] == ["peer"] and len(words) > 2:
        prefix = words[2].partition("/")[2]
    if not prefix.isdigit():
        raise line.error(f"{device}: expected ADDRESS/PREFIX, got {' '.join(words[:3])!r}")
    try:
        return Address(device, IPv4Interface(f"{local}/{prefix}"))
    except ValueError as exc:
        raise line.error(f"{device}: {exc}") from None


def parse_ip_route_text(text: str) -> list[Route]:
    """Parse `ip -4 route show` (the main table). EL6's and EL7's iproute put two spaces
    between some words, which splits the same."""
    routes: list[Route] = []
    for line in _lines(text, IP_ROUTE_TEXT):
        if line.text[:1].isspace():
            _nexthop(line, bool(routes))
        else:
            routes.append(_text_route(line))
    return routes


def _nexthop(line: _Line, after_a_route: bool) -> None:
    # A multipath route lists its gateways on indented lines; the route itself has no
    # single gateway or device, and JSON keeps them apart in "nexthops" too.
    if not after_a_route or line.text.split()[:1] != ["nexthop"]:
        raise line.error(f"expected a route, got {line.text!r}")


def _text_route(line: _Line) -> Route:
    dst, gateway, device, metric = text_route_fields(
        line, _ROUTE_KEYS, IPv4Interface, IPv4Address, "IPv4"
    )
    assert gateway is None or isinstance(gateway, IPv4Address)
    return Route(dst=dst, gateway=gateway, device=device, metric=metric)


def text_route_fields(
    line: _Line,
    keys: frozenset[str],
    prefix: Callable[[str], object],
    address: Callable[[str], IPv4Address | IPv6Address],
    family: str,
) -> tuple[str, IPv4Address | IPv6Address | None, str | None, int]:
    """One line of `ip route show` (either family: `keys` the words it may hold, `prefix`
    and `address` its types): its destination ("default" or the prefix as ip prints it),
    gateway, device and metric."""
    words = line.text.split()
    if words and words[0] in _ROUTE_TYPES:
        words = words[1:]
    if not words:
        raise line.error(f"expected a route, got {line.text!r}")
    dst, fields = words[0], _keyed(words[1:], keys, line)
    if dst != "default":
        try:
            prefix(dst)
        except ValueError:
            raise line.error(f"expected default or an {family} prefix, got {dst!r}") from None
    try:
        gateway = None if "via" not in fields else address(fields["via"])
    except ValueError as exc:
        raise line.error(str(exc)) from None
    device = None if "dev" not in fields else line.ifname(fields["dev"])
    return dst, gateway, device, line.number_of("metric", fields.get("metric", "0"))


def state_from_text_outputs(
    brctl_show: str | None, ip_link: str, ip_addr: str, ip_route: str
) -> NetState:
    """`state_from_outputs` for ip's text (`IP_LINK_TEXT`, `IP_ADDR_TEXT`, `IP_ROUTE_TEXT`).

    Without brctl the bridges come from the links, which only an ip that prints kinds and
    bridge settings can give; on older hosts this raises, naming bridge-utils.
    """
    read = _text_links(ip_link)
    links = [link for link, _ in read]
    if brctl_show is None:
        reason = _why_links_hide_bridges(read)
        if reason is not None:
            raise ParseError(
                IP_LINK_TEXT,
                f"{reason}, so the bridges cannot be read without brctl:"
                " this host needs brctl (bridge-utils)",
            )
    return _assemble(
        brctl_show,
        links,
        IP_LINK_TEXT,
        parse_ip_addr_text(ip_addr),
        parse_ip_route_text(ip_route),
    )


def _why_links_hide_bridges(read: list[tuple[Link, bool]]) -> str | None:
    links = {link.name: link for link, _ in read}
    if not all(details for _, details in read):
        # An ip that prints no promiscuity is too old to trust for kinds: EL6's 2.6.32
        # prints none, and EL6's kernel reports no kind for a bridge at all.
        return "this ip prints no link details (-d), hence no device kinds"
    for link in links.values():
        master = links.get(link.master or "")
        if master is not None and master.kind is None:
            return f"ip shows no kind for {master.name}, the master of {link.name}"
        if link.kind == "bridge" and (link.stp is None or link.priority is None):
            return f"ip shows bridge {link.name} without its stp_state and priority"
    return None


# verify


def verify(expected: Sequence[ExpectedBridge], state: NetState) -> list[str]:
    """Every way `state` differs from what `expected` asks for, one sentence each,
    naming the bridge first; an empty list means the host is as planned."""
    # chainverify reads this module's types: imported here, not at the top, to break the cycle.
    from hvbridge import chainverify

    problems: list[str] = []
    for want in expected:
        bridge = _find_bridge(state, want.name)
        if bridge is None:
            problems.append(f"{want.name}: bridge is missing ({_bridges_seen(state)})")
        else:
            problems += _check_link(want, state)
            problems += _check_ports(want, bridge, state)
            problems += _check_bridge_address(want, state)
        # The address left on a port and a wrong default route matter even when the
        # bridge is missing: they say how far the change got.
        problems += _check_port_addresses(want, state)
        problems += _check_default_route(want, state)
        problems += chainverify.check_chain(want, state)
    return problems


def _find_bridge(state: NetState, name: str) -> Bridge | None:
    return next((bridge for bridge in state.bridges if bridge.name == name), None)


def _bridges_seen(state: NetState) -> str:
    names = ", ".join(bridge.name for bridge in state.bridges)
    return f"{state.bridges_from}: {'bridges ' + names if names else 'no bridges'}"


def _check_link(want: ExpectedBridge, state: NetState) -> list[str]:
    link = next((link for link in state.links if link.name == want.name), None)
    if link is None:
        return [f"{want.name}: not in ip link although {state.bridges_from} lists it"]
    if not link.up:
        return [f"{want.name}: link is administratively down"]
    if link.state not in _RUNNING_STATES:
        # A bridge has no carrier until one of its ports forwards.
        return [f"{want.name}: link is down (state {link.state}, no port forwarding)"]
    return []


def _check_ports(want: ExpectedBridge, bridge: Bridge, state: NetState) -> list[str]:
    return [
        f"{want.name}: port {port} is not in the bridge ({_why_not_a_port(port, bridge, state)})"
        for port in want.ports
        if port not in bridge.ports
    ]


def _why_not_a_port(port: str, bridge: Bridge, state: NetState) -> str:
    elsewhere = next((other.name for other in state.bridges if port in other.ports), None)
    if elsewhere is not None:
        return f"{state.bridges_from}: {port} is a port of {elsewhere}"
    link = next((link for link in state.links if link.name == port), None)
    if link is None:
        return f"there is no device {port}"
    if link.master is not None:
        return f"ip link: {port} is enslaved to {link.master}"
    held = ", ".join(bridge.ports)
    return f"{state.bridges_from}: {bridge.name} has {'ports ' + held if held else 'no ports'}"


def _check_bridge_address(want: ExpectedBridge, state: NetState) -> list[str]:
    if want.address is None:
        return []
    held = [address.ip for address in state.addresses if address.device == want.name]
    if want.address in held:
        return []
    same_ip = [ip for ip in held if ip.ip == want.address.ip]
    if same_ip:
        return [f"{want.name}: has {same_ip[0]}, expected {want.address}"]
    has = ", ".join(str(ip) for ip in held) or "no IPv4 address"
    return [f"{want.name}: address {want.address} is not on {want.name} ({want.name} has {has})"]


def _check_port_addresses(want: ExpectedBridge, state: NetState) -> list[str]:
    problems = []
    for address in state.addresses:
        if address.device not in want.ports:
            continue
        if want.address is not None and address.ip.ip == want.address.ip:
            problems.append(
                f"{want.name}: address {address.ip} is still on port {address.device};"
                f" it belongs on {want.name}"
            )
        else:
            problems.append(
                f"{want.name}: port {address.device} carries {address.ip};"
                " a bridge port must carry no IPv4 address"
            )
    return problems


def _check_default_route(want: ExpectedBridge, state: NetState) -> list[str]:
    if not want.defroute:
        return []
    expected = _describe_route(want.gateway, want.name)
    route = _default_route(state)
    if route is None:
        return [f"{want.name}: no default route (expected default {expected})"]
    if route.device != want.name or (want.gateway is not None and route.gateway != want.gateway):
        actual = _describe_route(route.gateway, route.device)
        return [f"{want.name}: default route is {actual}, expected {expected}"]
    return []


def _default_route(state: NetState) -> Route | None:
    """The default route the kernel uses: the lowest metric, the first of equals."""
    defaults = [route for route in state.routes if route.dst == "default"]
    return min(defaults, key=lambda route: route.metric, default=None)


def _describe_route(gateway: IPv4Address | None, device: str | None) -> str:
    parts = [] if gateway is None else [f"via {gateway}"]
    parts.append(f"dev {device}" if device is not None else "without a device")
    return " ".join(parts)


# facts


def facts(state: NetState) -> dict[str, Any]:
    """A JSON-serialisable summary of `state` for reports: bridges, addresses and the
    default route; with the chain read (bonds, VLANs, bridge settings, IPv6, resolver)
    every device's kind and MTU, the bonds and VLANs, IPv6 and DNS too."""
    addresses: dict[str, list[str]] = {}
    for address in state.addresses:
        addresses.setdefault(address.device, []).append(str(address.ip))
    route = _default_route(state)
    chain = state.chain
    settings = {} if chain is None else chain.bridge_settings
    links = {link.name: link for link in state.links}
    found: dict[str, Any] = {
        "bridges": {
            bridge.name: {
                "id": bridge.bridge_id,
                "stp": bridge.stp,
                "ports": list(bridge.ports),
                "mtu": links[bridge.name].mtu if bridge.name in links else None,
                "forward_delay": settings[bridge.name].forward_delay / 100
                if bridge.name in settings
                else None,
            }
            for bridge in state.bridges
        },
        "bridges_from": state.bridges_from,
        "addresses": addresses,
        "default_route": None
        if route is None
        else {
            "gateway": None if route.gateway is None else str(route.gateway),
            "device": route.device,
            "metric": route.metric,
        },
    }
    if chain is not None:
        from hvbridge import chainfacts  # chainfacts reads this module's types

        found.update(chainfacts.chain_facts(state, chain))
    return found


# reading ip's JSON


def _items(text: str, source: str) -> list[_Fields]:
    """The objects of ip's top-level JSON list."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(source, f"invalid JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(data, list):
        raise ParseError(source, f"expected a JSON list, got {type(data).__name__}")
    return [_Fields.of(item, source, f"item {index}") for index, item in enumerate(data, 1)]


class _Fields:
    """One JSON object from ip, read with type checks; errors say which item and key."""

    def __init__(self, obj: dict[str, Any], source: str, where: str) -> None:
        self._obj = obj
        self._source = source
        self._where = where

    @classmethod
    def of(cls, value: object, source: str, where: str) -> _Fields:
        if not isinstance(value, dict):
            raise ParseError(source, f"{where}: expected an object, got {value!r}")
        return cls(value, source, where)

    def named(self, name: str) -> _Fields:
        """The same object, its errors naming the device too."""
        return _Fields(self._obj, self._source, f"{self._where} ({name})")

    def error(self, message: str) -> ParseError:
        return ParseError(self._source, f"{self._where}: {message}")

    def _get(self, key: str, kind: type) -> Any:
        value = self._obj.get(key)
        # bool is an int to isinstance, and never a valid number here.
        if not isinstance(value, kind) or isinstance(value, bool):
            raise self.error(f"'{key}' must be {kind.__name__}, got {value!r}")
        return value

    def string(self, key: str) -> str:
        value: str = self._get(key, str)
        return value

    def opt_string(self, key: str) -> str | None:
        return self.string(key) if key in self._obj else None

    def integer(self, key: str) -> int:
        value: int = self._get(key, int)
        return value

    def opt_integer(self, key: str) -> int | None:
        return self.integer(key) if key in self._obj else None

    def flags(self) -> list[str]:
        """The keys ip prints as `"key": true` for a flag it sets (and leaves out unset)."""
        return sorted(key for key, value in self._obj.items() if value is True)

    def strings(self, key: str) -> list[str]:
        values: list[Any] = self._get(key, list)
        if not all(isinstance(value, str) for value in values):
            raise self.error(f"'{key}' must be a list of strings, got {values!r}")
        return values

    def child(self, key: str) -> _Fields:
        return _Fields.of(self._get(key, dict), self._source, f"{self._where}.{key}")

    def opt_child(self, key: str) -> _Fields | None:
        return self.child(key) if key in self._obj else None

    def children(self, key: str) -> list[_Fields]:
        values: list[Any] = self._get(key, list)
        where = f"{self._where}.{key}"
        return [_Fields.of(value, self._source, f"{where}[{i}]") for i, value in enumerate(values)]
