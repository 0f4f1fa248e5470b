"""The network files of netplan rendered for systemd-networkd (Ubuntu server): YAML in
/etc/netplan, applied by `netplan apply`.

hvbridge writes a file of its own, `/etc/netplan/90-hvbridge.yaml` (mode 0600, as netplan
wants): each NIC under a bridge by name (netplan matches a MAC as networkd's
PermanentMACAddress=, which a virtual NIC does not have; the push refuses a NIC whose MAC is
not the inventory's before anything changes), with its bond's MTU when it is a slave; each
bond (`parameters`: mode, mii-monitor-interval, and lacp-rate, transmit-hash-policy, primary
when given) and VLAN; each bridge with STP and its forward delay always said, its MTU, IPv4
and IPv6 addresses and default routes, accept-ra and nameservers when the inventory gives
them. Every bridge, bond and VLAN is pinned to the MAC of its first NIC down the chain
(networkd would otherwise generate one from the machine id).

netplan merges every file it reads, so a file that configures a device of a chain now (a
bridge's port, a bond's slave, a bond or VLAN of ours) must go: hvbridge takes whole files
out of the way (kept for the revert) and never rewrites YAML it does not own, so a file that
also configures other interfaces is refused with a reason. Where the inventory says nothing
of DNS (`dns`) or IPv6, the old definitions' go to the bridge above them: the
`nameservers`, and the IPv6 (`dhcp6`, `accept-ra`, IPv6 `addresses`, `gateway6`, IPv6
`routes`) of the topmost device (the one the address sat on): networkd leaves router
advertisements off on a bridge unless told, so the RA behaviour the device had is said
explicitly (`ipv6_of`).
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

from hvbridge.platforms import devices
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
# `netplan apply` returns once networkd has the new files, before a bridge with STP on has
# a carrier (its ports listen and learn for twice its forward delay, up to 60 s): the
# restart is done when every bridge of our file is up, or after SETTLE seconds (then the
# verification says which is not). One brace group, so that what the guard appends (its
# log, closing its lock) is about all of it.
SETTLE = 70
APPLY = (
    "{ netplan apply && i=0 && for b in $(sed -n '/^  bridges:/,$s/^    \\([^ ]*\\):$/\\1/p'"
    f" {OWN_FILE}); do while [ $i -lt {SETTLE * 10} ]"
    ' && [ "$(cat "/sys/class/net/$b/operstate" 2>/dev/null)" != up ];'
    " do sleep 0.1; i=$((i + 1)); done; done; }"
)
REVERT_START = f"netplan apply --state {STATE}"


def netplan_value(value: Any) -> str:
    """A value as a double-quoted YAML scalar: only what needs no escape."""
    text = str(value)
    if _SAFE.match(text):
        return f'"{text}"'
    raise RenderError(f"value {text!r} cannot be written safely to a netplan file")


FILTERS = (("netplan_value", netplan_value),)


def _ethernets(model: Any) -> list[dict[str, Any]]:
    """The NICs under the bridges, in the inventory's order, each with the MTU it gets: a
    bond's slave its bond's (the driver gives it to them), any other NIC its own."""
    used = {name for bridge in model.bridges for name in devices.chain(model, bridge)}
    bonds = getattr(model, "bonds", None) or {}
    bond_mtu = {
        slave: bond.mtu for bond in bonds.values() if bond.mtu is not None for slave in bond.slaves
    }
    return [
        {"name": name, "mtu": bond_mtu.get(name, nic.mtu)}
        for name, nic in model.nics.items()
        if name in used
    ]


def _bridges(model: Any) -> list[dict[str, Any]]:
    """bridges.contexts, plus each bridge's `addresses` (IPv4 then IPv6) and the `gateways`
    of its default routes (IPv4 when it carries it, then IPv6)."""
    found = []
    for item in contexts(model):
        bridge = item["bridge"]
        addresses = [] if item["address"] is None else [item["address"]]
        gateways = []
        if item["address"] is not None and bridge.gateway is not None and bridge.defroute:
            gateways.append(str(bridge.gateway))
        if bridge.ipv6addr is not None:
            addresses.append(str(bridge.ipv6addr))
        if bridge.ipv6_gateway is not None:
            gateways.append(str(bridge.ipv6_gateway))
        found.append({**item, "addresses": addresses, "gateways": gateways})
    return found


def render_files(templates: Path, search: tuple[str, ...], model: Any) -> dict[str, str]:
    def virtual(kind: str, key: str) -> list[dict[str, Any]]:
        table = getattr(model, kind, None) or {}
        return [
            {"name": name, key: value, "mac": devices.hwaddr_of(model, name).lower()}
            for name, value in table.items()
        ]

    return {
        OWN_FILE: render(
            templates,
            search,
            "netplan.yaml.j2",
            FILTERS,
            ethernets=_ethernets(model),
            bonds=virtual("bonds", "bond"),
            vlans=virtual("vlans", "vlan"),
            bridges=_bridges(model),
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
    # What it matches is renamed to `set-name` (cloud-init's way, with the MAC): a NIC whose
    # MAC our file does not say (a bond's second slave) is still found by its name.
    renamed = definition.get("set-name") == port
    return by_name or renamed or (bool(macaddress) and macaddress == mac)


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
    under = _under_bridges(own_devices)
    ports = _nic_macs(own_devices)
    problems: list[str] = []
    displaced: list[str] = []
    # Per bridge, the old definitions of the devices under it, by their place in its chain.
    taken: dict[str, list[tuple[int, dict[str, Any]]]] = {}
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
        configures = {d: _configures(d, v, own_devices, ports) for d, v in devices.items()}
        mine = {d: v for d, v in devices.items() if configures[d]}
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
            for d, definition in mine.items():
                for bridge, place in (under[o] for o in configures[d] if o in under):
                    taken.setdefault(bridge, []).append((place, definition))
    if problems:
        return Preflight(problems=tuple(problems))
    rewritten: dict[str, str] = {}
    for path, text in files.items():
        new = text
        for bridge, rendered in _devices(ours[path]).items():
            if rendered["kind"] != "bridges":
                continue
            current = _devices(networks[path]).get(bridge, {}) if path in networks else None
            new = _with_carried(
                new, bridge, rendered, sorted(taken.get(bridge, []), key=lambda t: t[0]), current
            )
        if new != text:
            rewritten[path] = new
    return Preflight(displaced=tuple(displaced), rewritten=rewritten, notes=(said[0].strip(),))


def _with_carried(
    text: str,
    bridge: str,
    rendered: Mapping[str, Any],
    old: Sequence[tuple[int, Mapping[str, Any]]],
    current: Mapping[str, Any] | None,
) -> str:
    """Our file with what the host has now carried to a bridge where the inventory says
    nothing of it: the nameservers of the topmost old definition under it that has some,
    and the IPv6 of the topmost one (the device the address sat on: a bond above its
    slaves); on a rerun (nothing old left, `current`: our file on the host), what that file
    carries."""
    if "nameservers" not in rendered:
        dns = next(
            (d["nameservers"] for _, d in old if isinstance(d.get("nameservers"), dict)), None
        )
        if dns is None and current is not None and isinstance(current.get("nameservers"), dict):
            dns = current["nameservers"]
        if dns:
            text = _with_nameservers(text, bridge, dns)
    if not _bridge_ipv6(rendered):
        ipv6 = ipv6_of(old[0][1]) if old else _bridge_ipv6(current or {})
        text = _with_ipv6(text, bridge, ipv6)
    return text


def _links(definition: Mapping[str, Any]) -> list[str]:
    """The devices right under one of ours: a bridge's or bond's interfaces, a VLAN's link."""
    if definition["kind"] == "vlans":
        return [str(definition["link"])] if definition.get("link") else []
    return [str(name) for name in definition.get("interfaces") or []]


def _under_bridges(own: Mapping[str, dict[str, Any]]) -> dict[str, tuple[str, int]]:
    """Each of our devices under a bridge -> (that bridge, its place in the bridge's chain,
    top down): two bridges on two NICs are two chains."""
    found: dict[str, tuple[str, int]] = {}
    for bridge, definition in own.items():
        if definition["kind"] != "bridges":
            continue
        todo, place = _links(definition), 0
        while todo:
            name = todo.pop(0)
            if name in found or name not in own:
                continue
            found[name] = (bridge, place)
            place += 1
            todo.extend(_links(own[name]))
    return found


def _nic_macs(own: Mapping[str, dict[str, Any]]) -> dict[str, str]:
    """Our NICs -> the MAC each has, where our file says it ("" elsewhere), to find an old
    file that matches a NIC by MAC (cloud-init's do): a bridge, bond or VLAN is pinned to the
    MAC of its first device down the chain."""
    macs = {name: "" for name, d in own.items() if d["kind"] == "ethernets"}
    for definition in own.values():
        mac = str(definition.get("macaddress", "")).lower()
        name: str | None = None
        links = _links(definition)
        seen: set[str] = set()
        while links and links[0] in own and links[0] not in seen:
            name = links[0]
            seen.add(name)
            links = _links(own[name]) if own[name]["kind"] != "ethernets" else []
        if mac and name in macs and not macs[name]:
            macs[name] = mac
    return macs


def _configures(
    device: str, definition: Mapping[str, Any], own: Mapping[str, Any], nics: Mapping[str, str]
) -> list[str]:
    """Which devices of our chains an old definition configures: NICs by name, wildcard or
    MAC; a bond or VLAN of ours by its name."""
    if definition["kind"] == "ethernets":
        return [nic for nic, mac in nics.items() if _names_port(device, definition, nic, mac)]
    kind = definition["kind"]
    return (
        [device] if kind in ("bonds", "vlans") and own.get(device, {}).get("kind") == kind else []
    )


def inventory_problems(data: Any) -> list[Finding]:
    used = {name for bridge in data.bridges for name in devices.chain(data, bridge)}
    return [
        (
            ("nics", name),
            f"{name!r}: a NIC outside a bridge is not written on netplan platforms yet",
        )
        for name in data.nics
        if name not in used
    ]


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
