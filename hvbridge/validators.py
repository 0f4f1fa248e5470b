"""The grammar of every inventory value that reaches a network file, a shell, libvirt XML or ssh.

Each check is a plain function that takes the text as written and returns it in canonical
form, or raises `ValueError` saying what is wrong (the value shown with `repr`, so that a
newline or an escape sequence cannot hide in a message). The `Annotated` types at the end
apply the same checks to strict pydantic fields.

The grammars are deliberately narrower than what the kernel, initscripts or libvirt accept:
a value that passes here is safe unquoted in a shell word, inside double quotes in a network
file and in an XML attribute, so no caller has to think about escaping it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from ipaddress import (
    AddressValueError,
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    NetmaskValueError,
)
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, StrictStr

__all__ = [
    "ConfigName",
    "DomainName",
    "GuestMac",
    "HwAddr",
    "IPHost",
    "IPv4Host",
    "IPv6Addr",
    "IPv6Host",
    "InterfaceName",
    "InventoryName",
    "LocalPath",
    "LoginName",
    "Netmask",
    "Prefix",
    "SSHHost",
    "SearchDomain",
    "config_name",
    "domain_name",
    "host_address",
    "interface_name",
    "inventory_name",
    "ip_host",
    "ipv4_address",
    "ipv6_host",
    "ipv6_interface",
    "local_path",
    "login_name",
    "mac_address",
    "mac_for_libvirt",
    "netmask",
    "netmask_prefix",
    "prefix_length",
    "search_domain",
    "ssh_host",
    "tcp_port",
]

# The kernel allows up to 15 bytes and anything but `/`, `:`, whitespace, `.` and `..`;
# we keep to the characters that need no quoting anywhere and start with a letter or digit
# so that a name can never be read as a command-line option.
_INTERFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}", re.ASCII)
# Directories under /proc/sys/net/ipv4/conf/: an interface of that name would be ambiguous.
_RESERVED_INTERFACES = frozenset({"all", "default"})
# A file beside the devices in /sys/class/net once bonding is loaded: no device can take it.
_BONDING_MASTERS = "bonding_masters"
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}", re.ASCII)
_DOTTED_QUAD = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", re.ASCII)
# libvirt accepts almost any name; these are the ones that are safe in a file name, a shell
# word and an XML attribute alike.
_DOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}", re.ASCII)
# What a shell-sourced network file can hold (hvbridge.platforms quote it for their files,
# and refuse shell syntax even inside quotes when they read a file back).
_CONFIG_NAME_CHAR = r"[A-Za-z0-9_.:/@+,=%-]"
_CONFIG_NAME = re.compile(
    rf"{_CONFIG_NAME_CHAR}(?:(?:{_CONFIG_NAME_CHAR}| ){{0,62}}{_CONFIG_NAME_CHAR})?", re.ASCII
)
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?", re.ASCII)
# useradd's default NAME_REGEX, plus `.` which sites use in login names.
_LOGIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}", re.ASCII)
_INVENTORY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,252}", re.ASCII)
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def interface_name(value: str) -> str:
    """A kernel interface name: 1 to 15 of `A-Za-z0-9_.-`, starting with a letter or digit."""
    if not _INTERFACE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid interface name: 1 to 15 of A-Z a-z 0-9 _ . -,"
            " starting with a letter or digit"
        )
    if value in _RESERVED_INTERFACES:
        raise ValueError(f"{value!r} is reserved by the kernel (/proc/sys/net/ipv4/conf/{value})")
    if value == _BONDING_MASTERS:
        raise ValueError(
            f"{value!r} is reserved by the kernel's bonding driver (/sys/class/net/{value})"
        )
    return value


def mac_address(value: str) -> str:
    """A unicast Ethernet address, six hex pairs with `:`; returned in upper case, as network
    files write it."""
    if not _MAC.fullmatch(value):
        raise ValueError(f"{value!r} is not a MAC address (six hex pairs separated by ':')")
    if int(value[:2], 16) & 1:
        raise ValueError(f"{value} is a multicast address (odd first octet); a NIC needs unicast")
    if int(value.replace(":", ""), 16) == 0:
        raise ValueError(f"{value} is the all-zero address")
    return value.upper()


def mac_for_libvirt(value: str) -> str:
    """`mac_address`, in lower case as libvirt writes it in domain XML."""
    return mac_address(value).lower()


def ipv4_address(value: str) -> IPv4Address:
    """A dotted-quad IPv4 address (no leading zeros, no shorthand such as `10.1`)."""
    if not _DOTTED_QUAD.fullmatch(value):
        raise ValueError(f"{value!r} is not an IPv4 address (a.b.c.d)")
    try:
        return IPv4Address(value)
    except AddressValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 address: {exc}") from None


def host_address(value: str) -> IPv4Address:
    """An IPv4 address an interface or a gateway can have: unicast, not loopback or 0.0.0.0."""
    address = ipv4_address(value)
    for unusable, what in (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "reserved (240.0.0.0/4 or the broadcast address)"),
    ):
        if unusable:
            raise ValueError(f"{address} is {what}, not a host address")
    return address


def ipv6_interface(value: str) -> IPv6Interface:
    """A global IPv6 address of an interface with its prefix length, `ADDR/LEN` (LEN 1 to
    128): the form every platform's network files write."""
    if "/" not in value:
        raise ValueError(f"{value!r} has no prefix length: write it as ADDRESS/LENGTH")
    try:
        interface = IPv6Interface(value)
    except (AddressValueError, NetmaskValueError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IPv6 address with a prefix length: {exc}") from None
    if not 1 <= interface.network.prefixlen <= 128:
        raise ValueError(f"{value!r}: prefix length must be 1 to 128")
    _check_ipv6_host(interface.ip)
    return interface


def ipv6_host(value: str) -> IPv6Address:
    """An IPv6 address a gateway or a DNS server can have (a gateway may be link-local)."""
    try:
        address = IPv6Address(value)
    except AddressValueError as exc:
        raise ValueError(f"{value!r} is not an IPv6 address: {exc}") from None
    _check_ipv6_host(address, link_local=True)
    return address


def _check_ipv6_host(address: IPv6Address, link_local: bool = False) -> None:
    for unusable, what in (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "the loopback address"),
        (address.is_multicast, "a multicast address"),
        (address.is_link_local and not link_local, "link-local (the kernel adds fe80:: itself)"),
        (address.ipv4_mapped is not None, "an IPv4-mapped address"),
    ):
        if unusable:
            raise ValueError(f"{address} is {what}, not a host address")


def ip_host(value: str) -> IPv4Address | IPv6Address:
    """An IPv4 or IPv6 host address (a DNS server's)."""
    return ipv6_host(value) if ":" in value else host_address(value)


def search_domain(value: str) -> str:
    """A DNS search domain: dot-separated labels of letters, digits and `-`, at most 253."""
    if len(value) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in value.split(".")):
        raise ValueError(
            f"{value!r} is not a DNS domain: labels of A-Z a-z 0-9 -, separated by dots"
        )
    return value.lower()


def netmask(value: str) -> IPv4Address:
    """A contiguous netmask from 128.0.0.0 (/1) to 255.255.255.255 (/32)."""
    mask = ipv4_address(value)
    bits = int(mask)
    inverted = ~bits & 0xFFFFFFFF
    # A contiguous mask is ones then zeros, so its complement plus one is a power of two.
    if bits == 0 or inverted & (inverted + 1):
        raise ValueError(
            f"{mask} is not a contiguous netmask between 128.0.0.0 and 255.255.255.255"
        )
    return mask


def netmask_prefix(mask: IPv4Address) -> int:
    """The prefix length of a contiguous netmask."""
    return IPv4Network(f"0.0.0.0/{mask}").prefixlen


def prefix_length(value: int) -> int:
    """A prefix length of 1 to 32: /0 would put the whole internet on the bridge's link."""
    if not 1 <= value <= 32:
        raise ValueError(f"prefix {value} is not between 1 and 32")
    return value


def domain_name(value: str) -> str:
    """A libvirt domain name: 1 to 64 of `A-Za-z0-9_.+-`, starting with a letter or digit."""
    if not _DOMAIN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a supported domain name: 1 to 64 of A-Z a-z 0-9 _ . + -,"
            " starting with a letter or digit"
        )
    return value


def config_name(value: str) -> str:
    """A NIC's `name` in its network file (`NAME=`), such as `System eth0`.

    1 to 64 characters of letters, digits, inner spaces and `_.:/@+,=%-`: no quotes, `$`,
    backquote, backslash, `#`, shell operators or line breaks.
    """
    if not _CONFIG_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid NAME: 1 to 64 of letters, digits, inner spaces"
            " and _ . : / @ + , = % -"
        )
    return value


def ssh_host(value: str) -> str:
    """An address ssh can be pointed at: IPv4, IPv6 (without brackets) or a DNS name.

    DNS labels may hold `_` (site-local names and ssh_config aliases do); none may start
    with `-`, so the name can never be read as an ssh option.
    """
    if _DOTTED_QUAD.fullmatch(value):
        return str(ipv4_address(value))
    if ":" in value:
        # A zone (`fe80::1%eth0`) is refused: Python accepts any text after the `%`.
        try:
            if "%" in value:
                raise ValueError
            return str(IPv6Address(value))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IPv6 address (zones are not supported)"
            ) from None
    labels = value.split(".")
    if len(value) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(
            f"{value!r} is not a host name or IP address (dot-separated labels of"
            " A-Z a-z 0-9 _ -, each starting and ending with a letter or digit)"
        )
    return value


def tcp_port(value: str) -> int:
    """A TCP port written in decimal, 1 to 65535 (ssh_config's `Port`)."""
    if not re.fullmatch(r"[0-9]{1,5}", value, re.ASCII) or not 1 <= int(value) <= 65535:
        raise ValueError(f"{value!r} is not a TCP port (1 to 65535)")
    return int(value)


def login_name(value: str) -> str:
    """A login name: 1 to 32 of `A-Za-z0-9_.-`, starting with a letter or `_`."""
    if not _LOGIN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid user name: 1 to 32 of A-Z a-z 0-9 _ . -,"
            " starting with a letter or _"
        )
    return value


def inventory_name(value: str) -> str:
    """A Nornir host or group name: it appears in reports, logs and file names."""
    if not _INVENTORY_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid inventory name: A-Z a-z 0-9 _ . -,"
            " starting with a letter or digit"
        )
    return value


def local_path(value: str) -> Path:
    """A path on the controller (key, known_hosts, ssh_config); `~` is expanded."""
    if not value or _CONTROL.search(value):
        raise ValueError(f"{value!r} is not a usable path (empty, or has control characters)")
    return Path(value).expanduser()


_T = TypeVar("_T")


def _text(check: Callable[[str], _T]) -> Callable[[object], _T]:
    """Run `check` on a string; anything else (a YAML number or list) is a type error."""

    def validate(value: object) -> _T:
        if not isinstance(value, str):
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise ValueError(f"expected a string, got {shown} ({type(value).__name__})")
        return check(value)

    return validate


InterfaceName = Annotated[StrictStr, AfterValidator(interface_name)]
HwAddr = Annotated[StrictStr, AfterValidator(mac_address)]
"""A NIC's address in upper case, as network files write it."""
GuestMac = Annotated[StrictStr, AfterValidator(mac_for_libvirt)]
"""A guest interface's address in lower case, as libvirt writes it."""
IPv4Host = Annotated[IPv4Address, BeforeValidator(_text(host_address))]
Netmask = Annotated[IPv4Address, BeforeValidator(_text(netmask))]
IPv6Host = Annotated[IPv6Address, BeforeValidator(_text(ipv6_host))]
IPv6Addr = Annotated[IPv6Interface, BeforeValidator(_text(ipv6_interface))]
IPHost = Annotated[IPv4Address | IPv6Address, BeforeValidator(_text(ip_host))]
SearchDomain = Annotated[StrictStr, AfterValidator(search_domain)]
Prefix = Annotated[int, Field(strict=True), AfterValidator(prefix_length)]
DomainName = Annotated[StrictStr, AfterValidator(domain_name)]
ConfigName = Annotated[StrictStr, AfterValidator(config_name)]
SSHHost = Annotated[StrictStr, AfterValidator(ssh_host)]
LoginName = Annotated[StrictStr, AfterValidator(login_name)]
InventoryName = Annotated[StrictStr, AfterValidator(inventory_name)]
LocalPath = Annotated[Path, BeforeValidator(_text(local_path))]
