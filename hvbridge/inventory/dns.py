"""DNS set on bridges: what resolv.conf can hold. glibc reads at most 3 nameservers (MAXNS)
and, before 2.26 (EL6, EL7), at most 6 search domains in at most 255 characters, and ignores
the rest without a word: a longer list would look written and never be used."""

from __future__ import annotations

from collections.abc import Sequence

from hvbridge.inventory.models import HostData
from hvbridge.inventory.problems import Loc

Finding = tuple[Loc, str]

MAXNS = 3
MAXDNSRCH = 6
# glibc before 2.26 keeps the search line in a 256-byte buffer (`defdname`), NUL included.
SEARCH_CHARS = 255


def dns_settings(data: HostData) -> list[Finding]:
    found: list[Finding] = []
    for name, bridge in data.bridges.items():
        dns = bridge.dns
        if dns is None:
            continue
        loc = ("bridges", name, "dns")
        if not dns.servers and not dns.search:
            found.append(
                (
                    loc,
                    "empty: give servers or search, or leave dns out to keep what"
                    " the host resolves with now",
                )
            )
        if len(dns.servers) > MAXNS:
            found.append(
                (
                    (*loc, "servers"),
                    f"{len(dns.servers)} servers: resolv.conf takes at"
                    f" most {MAXNS} (glibc's MAXNS) and silently ignores the rest",
                )
            )
        if len(dns.search) > MAXDNSRCH:
            found.append(
                (
                    (*loc, "search"),
                    f"{len(dns.search)} domains: at most {MAXDNSRCH}"
                    " (glibc before 2.26, as on EL6 and EL7, silently ignores the"
                    " rest)",
                )
            )
        if len(" ".join(dns.search)) > SEARCH_CHARS:
            found.append(
                (
                    (*loc, "search"),
                    f"{len(' '.join(dns.search))} characters: at most"
                    f" {SEARCH_CHARS} with the spaces between domains (glibc before 2.26"
                    " cuts the search line there)",
                )
            )
        found += _twice((*loc, "servers"), [str(server) for server in dns.servers])
        found += _twice((*loc, "search"), dns.search)
    return found


def _twice(loc: Loc, values: Sequence[str]) -> list[Finding]:
    return [
        ((*loc, index), f"{value} is listed twice")
        for index, value in enumerate(values)
        if value in values[:index]
    ]
