"""A host's IPv6 addresses and routes, read from `ip -6` in its text (every iproute since
EL6's 2.6.32) and JSON forms. Pure and strict, like hvbridge.netstate, whose line and
JSON readers these parsers share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Interface

from hvbridge.netstate import (
    _SEGMENT,
    _items,
    _keyed,
    _Line,
    _lines,
    text_route_fields,
)

IP6_ADDR = "ip -j -6 addr show"
IP6_ROUTE = "ip -j -6 route show"
IP6_ADDR_TEXT = "ip -o -6 addr show"
IP6_ROUTE_TEXT = "ip -6 route show"

_ADDR_LINE = re.compile(r"\d+:\s+(?P<device>[^/:@\s]{1,15})\s+(?P<family>\S+)(?P<rest>.*)")
# The words after ADDRESS/PREFIX that are flags, not `key value` pairs.
_VALUED = frozenset({"scope", "peer", "brd", "label", "metric", "proto"})
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
        "error",
        "expires",
        "pref",
        "mtu",
        "advmss",
        "hoplimit",
        "nhid",
        "weight",
        "realms",
    }
)


@dataclass(frozen=True)
class Address6:
    """`flags` as ip names them (tentative, dadfailed, deprecated, nodad, ...), sorted."""

    device: str
    ip: IPv6Interface
    scope: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route6:
    dst: str
    gateway: IPv6Address | None
    device: str | None
    metric: int = 0


def parse_ip6_addr_text(text: str) -> list[Address6]:
    """Parse `ip -o -6 addr show`, one address a line."""
    return [_text_address(line) for line in _lines(text, IP6_ADDR_TEXT)]


def _text_address(line: _Line) -> Address6:
    head = line.text.split(_SEGMENT)[0]
    match = _ADDR_LINE.fullmatch(head.strip())
    if match is None:
        raise line.error(f"expected 'N: DEVICE inet6 ADDRESS/PREFIX ...' (ip -o), got {head!r}")
    device = match["device"]
    if match["family"] != "inet6":
        raise line.error(f"{device}: expected an inet6 address, got {match['family']!r}")
    words = match["rest"].split()
    if not words:
        raise line.error(f"{device}: no address after inet6")
    rest = words[1:]
    fields = _keyed(rest, _VALUED, line)
    flags, skip = [], False
    for word in rest:
        if skip:
            skip = False
        elif word in _VALUED:
            skip = True
        else:
            flags.append(word)
    local = words[0]
    if "/" not in local and "peer" in fields:
        local = f"{local}/{fields['peer'].partition('/')[2]}"
    try:
        ip = IPv6Interface(local)
    except ValueError as exc:
        raise line.error(f"{device}: {exc}") from None
    if "/" not in local:
        raise line.error(f"{device}: expected ADDRESS/PREFIX, got {words[0]!r}")
    return Address6(device, ip, fields.get("scope", "global"), tuple(sorted(flags)))


def parse_ip6_addr_json(text: str) -> list[Address6]:
    """Parse `ip -j -6 addr show`."""
    found: list[Address6] = []
    for item in _items(text, IP6_ADDR):
        device = item.string("ifname")
        item = item.named(device)
        for info in item.children("addr_info"):
            if info.string("family") != "inet6":
                raise info.error(f"expected an inet6 address, got {info.string('family')!r}")
            try:
                ip = IPv6Interface(f"{info.string('local')}/{info.integer('prefixlen')}")
            except ValueError as exc:
                raise info.error(str(exc)) from None
            found.append(Address6(device, ip, info.string("scope"), tuple(info.flags())))
    return found


def parse_ip6_route_text(text: str) -> list[Route6]:
    """Parse `ip -6 route show` (the main table); a multipath route's `nexthop` lines
    belong to the route above them."""
    routes: list[Route6] = []
    for line in _lines(text, IP6_ROUTE_TEXT):
        if line.text[:1].isspace():
            if not routes or line.text.split()[:1] != ["nexthop"]:
                raise line.error(f"expected a route, got {line.text!r}")
        else:
            routes.append(_text_route(line))
    return routes


def _text_route(line: _Line) -> Route6:
    dst, gateway, device, metric = text_route_fields(
        line, _ROUTE_KEYS, IPv6Interface, IPv6Address, "IPv6"
    )
    assert gateway is None or isinstance(gateway, IPv6Address)
    return Route6(dst=dst, gateway=gateway, device=device, metric=metric)


def parse_ip6_route_json(text: str) -> list[Route6]:
    """Parse `ip -j -6 route show`."""
    routes: list[Route6] = []
    for item in _items(text, IP6_ROUTE):
        gateway = item.opt_string("gateway")
        try:
            gateway_ip = None if gateway is None else IPv6Address(gateway)
        except ValueError as exc:
            raise item.error(str(exc)) from None
        dst = item.string("dst")
        if dst != "default":
            try:
                IPv6Interface(dst)
            except ValueError:
                raise item.error(f"expected default or an IPv6 prefix, got {dst!r}") from None
        routes.append(
            Route6(dst, gateway_ip, item.opt_string("dev"), item.opt_integer("metric") or 0)
        )
    return routes
