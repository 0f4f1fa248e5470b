"""The network files of netplan rendered for systemd-networkd (Ubuntu server): YAML in
/etc/netplan, applied by `netplan apply`.

hvbridge writes a file of its own, `/etc/netplan/90-hvbridge.yaml` (mode 0600, as netplan
wants): each port by name (netplan matches a MAC as networkd's PermanentMACAddress=, which
a virtual NIC does not have; the push refuses a port whose MAC is not the inventory's before
anything changes), each bridge with EL6's values (STP off, forward
delay 0, the default route, the port's MAC). netplan merges every file it reads, so a
file that configures a port now must go: hvbridge takes whole files out of the way (kept
for the revert) and never rewrites YAML it does not own, so a file that also configures
other interfaces is refused with a reason. The port's `nameservers` go to its bridge, and
its IPv6 (`dhcp6`, `accept-ra`, IPv6 `addresses`, `gateway6`, IPv6 `routes`): networkd
leaves router advertisements off on a bridge unless told, so the RA behaviour the port had
is said explicitly (`ipv6_of`).
NetworkManager-rendered netplan (desktops) is refused: out of scope.

`netplan try` refuses bridges with parameters ("reverting custom parameters for bridges
and bonds is not supported"): the host guard is the only undo. Its revert keeps the new
files aside as netplan's previous state (`netplan apply --state`), so that netplan deletes
the bridge the restored files no longer define.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hvbridge.platforms.base import Checkpoint, Finding, NetworkAction, Preflight, ServiceAction
from hvbridge.platforms.bridges import contexts
from hvbridge.platforms.interfaces import MARK as DUMP_MARK
from hvbridge.platforms.interfaces import InterfacesError, parse_dump
from hvbridge.platforms.iproute import STATE_COMMAND
from hvbridge.render import RenderError, render

CONFIG_DIR = "/etc/netplan"
# Read in this order; a file of the same name in a later one hides the earlier one's.
DIRS = ("/lib/netplan", "/etc/netplan", "/run/netplan")
OWN_FILE = f"{CONFIG_DIR}/90-hvbridge.yaml"
MARK = "@@hvbridge-netplan@@"
DEVICE_KINDS = ("ethernets", "bridges", "bonds", "vlans", "tunnels", "wifis", "vrfs", "modems")
_SAFE = re.compile(r"^[A-Za-z0-9_.:/,@+-]+$")
# netplan's previous configuration for the revert: the files as this run left them.
STATE = "/run/hvbridge-netplan"
REVERT_STOP = f"rm -rf {STATE} && mkdir -p {STATE}/etc && cp -a {CONFIG_DIR} {STATE}/etc/"
APPLY = "netplan apply"
REVERT_START = f"netplan apply --state {STATE}"


def netplan_value(value: Any) -> str:
    """A value as a double-quoted YAML scalar: only what needs no escape."""
    text = str(value)
    if _SAFE.match(text):
        return f'"{text}"'
    raise RenderError(f"value {text!r} cannot be written safely to a netplan file")


FILTERS = (("netplan_value", netplan_value),)


def render_files(templates: Path, search: tuple[str, ...], model: Any) -> dict[str, str]:
    bridges = contexts(model)
    ports = [port for bridge in model.bridges.values() for port in bridge.ports]
    return {
        OWN_FILE: render(
            templates, search, "netplan.yaml.j2", FILTERS, bridges=bridges, ports=ports
        )
    }


def preflight_command() -> str:
    files = " ".join(f"{d}/*.yaml" for d in DIRS)
    return (
        "dpkg-query -W -f 'netplan.io ${Version}\\n' netplan.io 2>/dev/null"
        f" || echo 'no netplan.io'; systemctl is-active systemd-networkd.service 2>&1;"
        f' echo {MARK}; m={DUMP_MARK}; for f in {files}; do [ -f "$f" ] || continue;'
        ' printf \'%s file %s\\n\' "$m" "$f"; cat -- "$f"; printf \'\\n%s end\\n\' "$m"; done'
    )


def effective(files: Mapping[str, str]) -> dict[str, str]:
    """The files netplan reads, path -> content: one per name, the last directory's."""
    by_name: dict[str, tuple[int, str]] = {}
    for path in files:
        directory, name = posixpath.split(path)
        if directory in DIRS:
            rank = DIRS.index(directory)
            if name not in by_name or by_name[name][0] < rank:
                by_name[name] = (rank, path)
    return {path: files[path] for _, (_, path) in sorted(by_name.items())}


def _network(path: str, text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InterfacesError(f"{path}: not YAML netplan reads: {exc}") from exc
    network = data.get("network") if isinstance(data, dict) else None
    return network if isinstance(network, dict) else {}


def _devices(network: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every device the file defines, id -> its definition (with `kind`)."""
    found: dict[str, dict[str, Any]] = {}
    for kind in DEVICE_KINDS:
        section = network.get(kind)
        if isinstance(section, dict):
            for name, definition in section.items():
                found[str(name)] = {"kind": kind, **(definition or {})}
    return found


def _names_port(device_id: str, definition: Mapping[str, Any], port: str, mac: str) -> bool:
    match = definition.get("match")
    if not isinstance(match, dict):
        return device_id == port
    macaddress = str(match.get("macaddress", "")).lower()
    # netplan matches names with shell wildcards (`en*` takes every onboard NIC).
    name = match.get("name")
    by_name = isinstance(name, str) and fnmatch.fnmatchcase(port, name)
    return by_name or (bool(macaddress) and macaddress == mac)


def _with_nameservers(text: str, bridge: str, nameservers: Mapping[str, Any]) -> str:
    """Our rendered YAML with `nameservers` under the bridge (its key line, 4 spaces in)."""
    lines = []
    for key in ("addresses", "search"):
        values = [netplan_value(v) for v in nameservers.get(key) or []]
        if values:
            lines.append(f"        {key}: [{', '.join(values)}]\n")
    if not lines:
        return text
    anchor = f"    {bridge}:\n"
    at = text.index(anchor) + len(anchor)
    return text[:at] + "      nameservers:\n" + "".join(lines) + text[at:]


# A port's IPv6 settings that go to its bridge as they are (netplan's keys).
IPV6_KEYS = ("dhcp6", "dhcp6-overrides", "accept-ra", "gateway6", "ipv6-privacy",
             "ipv6-address-generation", "ipv6-address-token")  # fmt: skip


def _is_ipv6(value: Any) -> bool:
    text = str(next(iter(value)) if isinstance(value, dict) and value else value)
    return ":" in text


def ipv6_of(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The IPv6 configuration of a port's netplan definition, as its bridge takes it: the
    keys above, its IPv6 `addresses` and `routes`; and `accept-ra` as networkd ran it.
    networkd accepts router advertisements on an ethernet unless told not to or without
    an IPv6 link-local address, but never on a bridge unless told: where the port said
    nothing and had one, `accept-ra: true` says it for the bridge."""
    found = {key: definition[key] for key in IPV6_KEYS if key in definition}
    addresses = [a for a in definition.get("addresses") or [] if _is_ipv6(a)]
    if addresses:
        found["addresses"] = addresses
    routes = [
        r
        for r in definition.get("routes") or []
        if isinstance(r, dict) and (_is_ipv6(r.get("to", "")) or _is_ipv6(r.get("via", "")))
    ]
    if routes:
        found["routes"] = routes
    link_local = definition.get("link-local", ["ipv6"])
    if "accept-ra" not in found and isinstance(link_local, list) and "ipv6" in link_local:
        found["accept-ra"] = True
    return found


def _with_ipv6(text: str, bridge: str, ipv6: Mapping[str, Any]) -> str:
    """Our rendered YAML with the IPv6 settings under the bridge: the scalars after its
    key line, IPv6 addresses and routes added to its lists (JSON: YAML's flow style)."""
    if not ipv6:
        return text
    lines = text.splitlines(keepends=True)
    start = lines.index(f"    {bridge}:\n") + 1
    end = start
    while end < len(lines) and lines[end].startswith("      "):
        end += 1
    block = lines[start:end]
    head = [f"      {key}: {json.dumps(ipv6[key])}\n" for key in IPV6_KEYS if key in ipv6]
    addresses = [json.dumps(a) for a in ipv6.get("addresses", [])]
    if addresses:
        at = next((n for n, line in enumerate(block) if line.startswith("      addresses: [")), -1)
        if at < 0:
            head.append(f"      addresses: [{', '.join(addresses)}]\n")
        else:
            block[at] = block[at].rstrip("]\n") + f", {', '.join(addresses)}]\n"
    routes = [f"        - {json.dumps(r)}\n" for r in ipv6.get("routes", [])]
    if routes:
        if "      routes:\n" in block:
            at = block.index("      routes:\n") + 1
            block[at:at] = routes
        else:
            head += ["      routes:\n", *routes]
    return "".join(lines[:start] + head + block + lines[end:])


def _bridge_ipv6(definition: Mapping[str, Any]) -> dict[str, Any]:
    """On a rerun, what our own file's bridge says of IPv6 beyond what we render."""
    found = {key: definition[key] for key in IPV6_KEYS if key in definition}
    for key in ("addresses", "routes"):
        ipv6 = ipv6_of({key: definition.get(key), "link-local": []}).get(key)
        if ipv6:
            found[key] = ipv6
    return found


def preflight(host: str, output: str, files: Mapping[str, str]) -> Preflight:
    """netplan installed and rendering for systemd-networkd, which runs; the files that
    configure our ports now taken out of the way whole; no other file for our bridges."""
    head, sep, dump = output.partition(f"{MARK}\n")
    said = head.split("\n")
    if not sep or not said[0].startswith("netplan.io "):
        return Preflight(
            problems=(
                f"{host}: netplan does not answer ({said[0].strip() or 'no output'}):"
                " is it installed?",
            )
        )
    active = said[1].strip() if len(said) > 1 else ""
    if active not in ("active", "activating", "reloading"):
        return Preflight(
            problems=(
                f"{host}: systemd-networkd is not running (systemctl is-active:"
                f" {active or 'no answer'}): refusing to change the host",
            )
        )
    try:
        read = effective(parse_dump(dump))
        networks = {path: _network(path, text) for path, text in read.items()}
        ours = {path: _network(path, text) for path, text in files.items()}
    except InterfacesError as exc:
        return Preflight(problems=(f"{host}: {exc}",))
    own_devices = {d: v for network in ours.values() for d, v in _devices(network).items()}
    bridges = {d: v for d, v in own_devices.items() if v["kind"] == "bridges"}
    port_bridge = {p: b for b, v in bridges.items() for p in v.get("interfaces", [])}
    # A port's MAC, to find an old file that matches it by MAC (cloud-init's do): the
    # bridge's own is its first port's.
    first = {v["interfaces"][0]: b for b, v in bridges.items() if v.get("interfaces")}
    ports = {
        port: str(bridges[first[port]].get("macaddress", "")).lower() if port in first else ""
        for port, v in own_devices.items()
        if v["kind"] == "ethernets"
    }
    problems: list[str] = []
    displaced: list[str] = []
    nameservers: dict[str, dict[str, Any]] = {}
    ipv6: dict[str, dict[str, Any]] = {}
    for path, network in networks.items():
        if path in files:
            continue
        devices = _devices(network)
        if network.get("renderer") == "NetworkManager" or any(
            d.get("renderer") == "NetworkManager" for d in devices.values()
        ):
            problems.append(
                f"{host}: {path} hands devices to NetworkManager (renderer: NetworkManager):"
                " netplan rendered for NetworkManager is not supported, only for networkd"
            )
            continue
        mine = {
            d: (port, v)
            for d, v in devices.items()
            for port, mac in ports.items()
            if v["kind"] == "ethernets" and _names_port(d, v, port, mac)
        }
        for d in devices:
            if d in bridges:
                problems.append(
                    f"{host}: {path} also defines {d}: remove it, hvbridge writes its own"
                )
        if not mine:
            continue
        others = sorted(set(devices) - set(mine))
        if others:
            problems.append(
                f"{host}: {path} configures {', '.join(sorted(mine))} and also"
                f" {', '.join(others)}: move {', '.join(sorted(mine))} to a file of its own"
                " first (hvbridge takes whole netplan files out of the way, never rewrites"
                " YAML it does not own)"
            )
        elif posixpath.dirname(path) == "/lib/netplan":
            problems.append(f"{host}: {path} comes with the system: override it in /etc/netplan")
        else:
            displaced.append(path)
            for port, definition in mine.values():
                if isinstance(definition.get("nameservers"), dict):
                    nameservers.setdefault(port_bridge.get(port, ""), definition["nameservers"])
                ipv6.setdefault(port_bridge.get(port, ""), ipv6_of(definition))
    if problems:
        return Preflight(problems=tuple(problems))
    rewritten: dict[str, str] = {}
    for path, text in files.items():
        new = text
        for bridge in bridges:
            dns = nameservers.get(bridge)
            if dns is None and path in networks:
                # A rerun: the old file is gone, our file carries them.
                current = _devices(networks[path]).get(bridge, {}).get("nameservers")
                dns = current if isinstance(current, dict) else None
            if dns:
                new = _with_nameservers(new, bridge, dns)
            carried = ipv6.get(bridge)
            if carried is None and path in networks:
                carried = _bridge_ipv6(_devices(networks[path]).get(bridge, {}))
            new = _with_ipv6(new, bridge, carried or {})
        if new != text:
            rewritten[path] = new
    return Preflight(displaced=tuple(displaced), rewritten=rewritten, notes=(said[0].strip(),))


def inventory_problems(data: Any) -> list[Finding]:
    found: list[Finding] = []
    ports = {port for bridge in data.bridges.values() for port in bridge.ports}
    for name, nic in data.nics.items():
        if name not in ports:
            found.append((("nics", name), f"{name!r}: a NIC outside a bridge is not written"
                          " on netplan platforms yet"))  # fmt: skip
        if nic.mtu is not None:
            found.append((("nics", name, "mtu"), "mtu is not written to netplan files yet"))
    for name, bridge in data.bridges.items():
        if bridge.mtu is not None:
            found.append((("bridges", name, "mtu"), "mtu is not written to netplan files yet"))
    return found


@dataclass(frozen=True, eq=False)
class Netplan:
    name: str
    libvirt_units: Sequence[str] = ("libvirtd",)
    ssh_disabled_algorithms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    config_dir: str = CONFIG_DIR
    state_command: str = STATE_COMMAND
    file_mode: int = 0o600
    restart_diagnostics: str = "networkctl list --no-pager"

    @property
    def template_dirs(self) -> tuple[str, ...]:
        return (self.name, "netplan")

    def render(self, templates: Path, model: Any) -> dict[str, str]:
        return render_files(templates, self.template_dirs, model)

    def conflict_candidates(self, ours: Iterable[str], names: Iterable[str]) -> list[str]:
        return []

    def conflicts(self, ours: Iterable[str], existing: Mapping[str, str]) -> list[str]:
        return []

    @property
    def preflight_command(self) -> str:
        return preflight_command()

    def preflight(
        self, host: str, output: str, files: Mapping[str, str], existing: Mapping[str, str]
    ) -> Preflight:
        return preflight(host, output, files)

    def checkpoint(self, directory: str, seconds: int) -> Checkpoint | None:
        return None

    def network_command(self, action: NetworkAction) -> str:
        return {"restart": APPLY, "stop": REVERT_STOP, "start": REVERT_START}[action]

    def revert_commands(self) -> tuple[str, str]:
        return REVERT_STOP, REVERT_START

    def service_command(self, service: str, action: ServiceAction) -> str:
        units = self.libvirt_units if service == "libvirtd" else (service,)
        return f"systemctl {action} {' '.join(shlex.quote(unit) for unit in units)}"

    def inventory_problems(self, data: Any) -> list[Finding]:
        return inventory_problems(data)
