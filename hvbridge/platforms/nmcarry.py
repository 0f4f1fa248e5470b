"""What a bridge's profile takes over from the profiles it displaces (EL8, EL9): the DNS
servers and search domains, where the inventory sets no `dns`, and the IPv6 method,
addresses and gateway, where it leaves the bridge's IPv6 to the host (no `ipv6addr`, no
`ipv6_autoconf`). Pure: the preflight reads each profile's settings (nmcli) and hands them
here with the rendered files; the bridges' profiles come back rewritten.

A bridge's own profile comes first among its sources, so that a rerun keeps what the first
run carried and renders the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hvbridge.platforms.keyfiles import CARRIED_IPV6, bridge_path, keyfile_value
from hvbridge.platforms.nmcli import Settings, parse_sections

# IPv6 methods that cannot hold IPv6 DNS servers (NetworkManager refuses the profile).
_NO_IPV6 = frozenset({"ignore", "disabled"})


def _merged(values: list[str], more: Sequence[str]) -> None:
    values += [v for v in more if v not in values]


def _list(key: str, values: Sequence[str]) -> list[str]:
    return [f"{key}={''.join(f'{keyfile_value(v)};' for v in values)}"] if values else []


def carry(
    files: Mapping[str, str],
    sources: Mapping[str, Sequence[tuple[str, str]]],
    settings: Mapping[str, Settings],
) -> tuple[dict[str, str], list[str]]:
    """Each bridge's profile with what its `sources` ((UUID, name) of the profiles it takes
    over; name empty for its own) set, in their order, each value once: path -> content,
    and what was carried from whom."""
    rewritten: dict[str, str] = {}
    notes: list[str] = []
    for bridge, found in sorted(sources.items()):
        path = bridge_path(bridge)
        sections = parse_sections(files[path])
        ipv4, ipv6 = sections.get("ipv4", {}), sections.get("ipv6", {})
        carry_dns = not any(k in s for s in (ipv4, ipv6) for k in ("dns", "dns-search"))
        carry_ipv6 = ipv6.get("method") == CARRIED_IPV6
        servers: list[str] = []
        servers6: list[str] = []
        domains: list[str] = []
        dns_from: list[str] = []
        method, gateway, ipv6_from = CARRIED_IPV6, "", ""
        addresses: tuple[str, ...] = ()
        for uuid_, name in found:
            got = settings.get(uuid_, Settings())
            if carry_dns and (got.dns.servers or got.dns.servers6 or got.dns.domains):
                _merged(servers, got.dns.servers)
                _merged(servers6, got.dns.servers6)
                _merged(domains, got.dns.domains)
                if name and name not in dns_from:
                    dns_from.append(name)
            if carry_ipv6 and method == CARRIED_IPV6 and got.ipv6.method not in ("", CARRIED_IPV6):
                method, addresses, gateway = got.ipv6.method, got.ipv6.addresses, got.ipv6.gateway
                ipv6_from = name
        if (ipv6.get("method") if method == CARRIED_IPV6 else method) in _NO_IPV6:
            servers6 = []  # NetworkManager refuses them where the bridge has no IPv6
        if not (servers or servers6 or domains) and method == CARRIED_IPV6:
            continue
        head, mark, tail = files[path].partition("\n[ipv6]\n")
        v4 = _list("dns", servers) + _list("dns-search", domains)
        head = head.replace("\n[ipv4]\n", "\n[ipv4]\n" + "".join(f"{line}\n" for line in v4))
        v6 = _list("dns", servers6) + [
            line
            for line in tail.splitlines()
            if method == CARRIED_IPV6 or not line.startswith("method=")
        ]
        if method != CARRIED_IPV6:
            v6.append(f"method={keyfile_value(method)}")
            for n, addr in enumerate(addresses, 1):
                via = f",{keyfile_value(gateway)}" if n == 1 and gateway else ""
                v6.append(f"address{n}={keyfile_value(addr)}{via}")
        rewritten[path] = head + mark + "".join(f"{line}\n" for line in v6)
        if dns_from:
            search = f", search {' '.join(domains)}" if domains else ""
            notes.append(
                f"DNS {', '.join(servers + servers6) or 'no servers'}{search} carried to"
                f" {bridge}'s profile from {', '.join(dns_from)}'s"
            )
        if ipv6_from:
            on = f" {', '.join(addresses)}" if addresses else ""
            notes.append(f"IPv6 ({method}{on}) carried to {bridge}'s profile from {ipv6_from}'s")
    return rewritten, notes
