"""An SSH endpoint (a jump hop or the target) and the one grammar a hop is written in.

A hop is written `[user@]host[:port]`: an IPv6 address in brackets, the port 22 when left
out, the user the target's when left out. In the inventory's `jump` list a bare word (no
`@`, no `:port`) is always the name of a host of the inventory, never a DNS name, so that a
misspelt name is reported instead of looked up; hvbridge.inventory resolves it to that
host's own hops and address before any connection (the connection plugin cannot see the
inventory). ssh_config's `ProxyJump` keeps OpenSSH's meaning: a bare word there is a
`Host` of that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from hvbridge.validators import inventory_name, login_name, ssh_host

__all__ = ["DEFAULT_PORT", "DEFAULT_USER", "Hop", "inventory_hop", "parse_hop"]

DEFAULT_PORT = 22
# Who hvbridge logs in as when neither the inventory nor ssh_config says.
DEFAULT_USER = "root"

_HOP = re.compile(
    r"(?:(?P<user>[^@]*)@)?(?:\[(?P<ipv6>[^\]]*)\]|(?P<host>[^:@\[\]]*))(?::(?P<port>[0-9]{1,5}))?",
    re.ASCII,
)


@dataclass(frozen=True)
class Hop:
    """One SSH endpoint. `user` None: the target's user (a hop written without one).
    `name`: what messages call it, such as the inventory host it stands for; it does not
    take part in comparisons (two hops to the same place are the same hop)."""

    host: str
    port: int = DEFAULT_PORT
    user: str | None = DEFAULT_USER
    name: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        return f"{user}{host}:{self.port}"

    @property
    def short(self) -> str:
        """`user@host`, with `:port` only when it is not 22: how messages show the target."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        return f"{user}{host}" + ("" if self.port == DEFAULT_PORT else f":{self.port}")

    @property
    def label(self) -> str:
        """What messages call this hop: its name, else the hop as written."""
        return self.name or str(self)

    def with_user(self, user: str) -> Hop:
        """This hop, logging in as `user` when it names no user of its own."""
        return self if self.user else replace(self, user=user)


def parse_hop(text: str) -> Hop:
    """`[user@]host[:port]`, with an IPv6 host in brackets; `user` None when not written."""
    match = _HOP.fullmatch(text)
    if match is None:
        raise ValueError(f"not a jump host (want [user@]host[:port]): {text!r}")
    user = match["user"]
    host = match["ipv6"] if match["ipv6"] is not None else match["host"]
    if match["ipv6"] is not None and ":" not in host:
        raise ValueError(f"not a jump host: {text!r}: only an IPv6 address goes in brackets")
    port = int(match["port"]) if match["port"] else DEFAULT_PORT
    if not 1 <= port <= 65535:
        raise ValueError(f"not a jump host: {text!r}: port {port} is not between 1 and 65535")
    try:
        return Hop(ssh_host(host), port, login_name(user) if user is not None else None)
    except ValueError as exc:
        raise ValueError(f"not a jump host: {text!r}: {exc}") from None


def inventory_hop(text: str) -> str | Hop:
    """A hop of the inventory's `jump`: a bare word is an inventory host name (returned as
    is); anything with `@` or `:port` is a host outside the inventory (parsed)."""
    if "@" in text or ":" in text:
        return parse_hop(text)
    try:
        return inventory_name(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither an inventory host name nor user@host:port") from None
