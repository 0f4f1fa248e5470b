"""What a bridge's ifcfg file keeps of the host's own files when the inventory leaves it
unsaid: the DNS servers and IPv6 settings its ports' old files gave.

initscripts apply DNS1.. and DOMAIN (to /etc/resolv.conf) and IPV6INIT, IPV6ADDR,
IPV6_AUTOCONF, IPV6_DEFAULTGW of the file of the device that holds the address. Once the
address moves from a NIC (or a bond) to the bridge, those lines must move with it, or the
host loses its IPv6 address and route, and the next ifdown restores an older resolv.conf.
The sources are the files under the bridge as they are on the host now, top down (a port,
a bond's slaves, a VLAN's parent), then the bridge's own file (a rerun: the ports' files
are already hvbridge's, and what was kept lives in the bridge's). Which devices are under
which bridge is read from the rendered files, as initscripts read them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from hvbridge.platforms.ifcfg import IfcfgError, ifcfg_value, parse_ifcfg
from hvbridge.render import RenderError

DNS_KEYS = ("DNS1", "DNS2", "DNS3", "DOMAIN", "PEERDNS")
IPV6_KEYS = ("IPV6INIT", "IPV6_AUTOCONF", "IPV6ADDR", "IPV6ADDR_SECONDARIES", "IPV6_DEFAULTGW")
# A fixed line, so that a rerun (which keeps the same lines from the bridge's own file)
# writes the same bytes.
HEADER = "# Kept from the host's files (the inventory does not set it):"
PREFIX = "ifcfg-"


def _device(path: str, fields: Mapping[str, str]) -> str:
    return fields.get("DEVICE") or posixpath.basename(path).removeprefix(PREFIX)


def _vlan_parent(fields: Mapping[str, str], device: str) -> str | None:
    if fields.get("VLAN") != "yes":
        return None
    return fields.get("PHYSDEV") or (device.rsplit(".", 1)[0] if "." in device else None)


def chains(files: Mapping[str, str]) -> dict[str, list[str]]:
    """Per bridge in the rendered `files`, the paths of the files of the devices under it,
    top down (its ports, then a bond's slaves, a VLAN's parent)."""
    parsed = {path: parse_ifcfg(text, path) for path, text in files.items()}
    path_of = {_device(path, fields): path for path, fields in parsed.items()}
    found: dict[str, list[str]] = {}
    for path, fields in parsed.items():
        if fields.get("TYPE") != "Bridge":
            continue
        bridge = _device(path, fields)
        todo = [dev for dev, p in path_of.items() if parsed[p].get("BRIDGE") == bridge]
        order: list[str] = []
        while todo:
            device = todo.pop(0)
            if device in order or device not in path_of:
                continue
            order.append(device)
            fields_ = parsed[path_of[device]]
            parent = _vlan_parent(fields_, device)
            if parent is not None:
                todo.append(parent)
            todo += [dev for dev, p in path_of.items() if parsed[p].get("MASTER") == device]
        found[path] = [path_of[device] for device in order]
    return found


def carry(
    files: Mapping[str, str], existing: Mapping[str, str]
) -> tuple[dict[str, str], list[str], list[str]]:
    """The bridges' files with what they keep (path -> content, only those that change),
    notes for the operator, and problems (a file to keep from that does not parse).

    `files`: the rendered files; `existing`: the host's files now (path -> content). A
    bridge's rendered file without any DNS key keeps the first source's DNS lines; without
    any IPv6 key, the first source's IPv6 lines."""
    rewritten: dict[str, str] = {}
    notes: list[str] = []
    problems: list[str] = []
    for path, under in chains(files).items():
        rendered = parse_ifcfg(files[path], path)
        sources = [source for source in [*under, path] if source in existing]
        try:
            old = {source: parse_ifcfg(existing[source], source) for source in sources}
        except IfcfgError as exc:
            problems.append(_unreadable(exc, path))
            continue
        lines: list[str] = []
        for keys in (DNS_KEYS, IPV6_KEYS):
            if any(key in rendered for key in keys):
                continue
            source = next((s for s in sources if any(key in old[s] for key in keys)), None)
            if source is None:
                continue
            try:
                kept = [
                    f"{key}={ifcfg_value(old[source][key])}" for key in keys if key in old[source]
                ]
            except RenderError as exc:
                problems.append(_unreadable(f"{source}: {exc}", path))
                continue
            lines += kept
            if source != path:
                names = ", ".join(line.split("=", 1)[0] for line in kept)
                notes.append(
                    f"kept {names} of {posixpath.basename(source)} in {posixpath.basename(path)}"
                )
        if lines:
            rewritten[path] = files[path] + "\n".join([HEADER, *lines]) + "\n"
    return rewritten, notes, problems


def _unreadable(error: object, path: str) -> str:
    return (
        f"{error}: hvbridge cannot tell what {posixpath.basename(path)} must keep of it (DNS,"
        " IPv6); fix the file, or set dns and ipv6 in the inventory"
    )
