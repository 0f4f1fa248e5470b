"""The network files of NetworkManager (EL8, EL9): keyfile profiles in
/etc/NetworkManager/system-connections, applied by `nmcli connection reload`.

What EL8 and EL9 share: a profile per bridge and per port (`templates/networkmanager/`),
written with the keys every supported NetworkManager reads (`master=`/`slave-type=`: 1.42
ignores the newer `controller=`/`port-type=`), with EL6's bridge values (STP off, forward
delay 0) rather than NetworkManager's (STP on, 15 s); the profiles that own a port now,
wherever they live (a keyfile, an ifcfg file read through ifcfg-rh, a profile in /run),
taken out of the way and kept for the revert; and a NetworkManager checkpoint around the
apply, the inner undo inside the host guard's.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvbridge.platforms.base import (
    Checkpoint,
    Finding,
    NetworkAction,
    Preflight,
    ServiceAction,
)
from hvbridge.platforms.bridges import address
from hvbridge.platforms.iproute import STATE_COMMAND
from hvbridge.platforms.nmcli import (
    ACTIVE_FIELDS,
    DEVICE_FIELDS,
    PROFILE_FIELDS,
    Dns,
    Keyfile,
    NmcliError,
    parse_active,
    parse_devices,
    parse_general,
    parse_keyfile,
    parse_profile_dns,
    parse_profiles,
)
from hvbridge.render import RenderError, render

CONNECTIONS_DIR = "/etc/NetworkManager/system-connections"
SUFFIX = ".nmconnection"
MARK = "@@hvbridge-nm@@"
# NetworkManager reads a keyfile only when no one else may (it ignores a readable one).
KEYFILE_MODE = 0o600
# Files the keyfile plugin ignores (nm_keyfile_utils_ignore_filename): hidden, backups,
# package managers' leftovers.
_IGNORED_SUFFIXES = ("~", ".bak", ".orig", ".rej", ".swp", ".tmp", ".rpmnew", ".rpmsave",
                     ".rpmorig", ".dpkg-dist", ".dpkg-old", ".dpkg-new", ".dpkg-tmp")  # fmt: skip
# Profiles under these come with the system, read-only: they cannot be moved aside.
_READ_ONLY_DIRS = ("/usr/lib/NetworkManager/", "/lib/NetworkManager/")
_SAFE = re.compile(r"^[A-Za-z0-9_.:/,@+-]+$")
# What `systemctl is-active` prints for a unit that runs, or is on its way.
_RUNNING = frozenset({"active", "activating", "reloading"})
# Any UUID will do, as long as it is the same on every run (idempotence).
_NAMESPACE = uuid.UUID("6f1f1d3e-6a0c-4d39-9a43-3d1f0e7b9b1e")
_BUS = (
    "busctl --system call org.freedesktop.NetworkManager /org/freedesktop/NetworkManager"
    " org.freedesktop.NetworkManager"
)
# CheckpointCreate flags: delete the connections made after it, disconnect new devices.
_CHECKPOINT_FLAGS = 0x2 | 0x4
# Until no device is on its way up or down (reload returns before NetworkManager has
# activated what it now reads); a minute at most, the guard verifies what came of it.
_SETTLE = (
    "for i in $(seq 60); do sleep 1;"
    " nmcli -t -f STATE device | grep -q -e connecting -e deactivating || break; done"
)
RELOAD = f"nmcli connection reload && {_SETTLE}"


def keyfile_value(value: Any) -> str:
    """A value as NetworkManager's keyfile reader reads it back unchanged; anything that
    would need GLib's escapes (spaces, `;`, `#`, `\\`) is refused, never quoted."""
    text = str(value)
    if _SAFE.match(text):
        return text
    raise RenderError(f"value {text!r} cannot be written safely to a keyfile")


FILTERS = (("keyfile_value", keyfile_value),)


def profile_uuid(host: str, profile: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{host}/{profile}"))


def bridge_path(name: str) -> str:
    return f"{CONNECTIONS_DIR}/{name}{SUFFIX}"


def port_id(bridge: str, port: str) -> str:
    return f"{bridge}-port-{port}"


def port_path(bridge: str, port: str) -> str:
    return f"{CONNECTIONS_DIR}/{port_id(bridge, port)}{SUFFIX}"


def render_files(templates: Path, search: tuple[str, ...], model: Any) -> dict[str, str]:
    """A bridge profile per bridge, a port profile per port: path -> content."""
    host = str(getattr(model, "name", ""))
    files: dict[str, str] = {}
    for name, bridge in model.bridges.items():
        files[bridge_path(name)] = render(
            templates, search, "bridge.nmconnection.j2", FILTERS, name=name, bridge=bridge,
            uuid=profile_uuid(host, name), address=address(bridge),
        )  # fmt: skip
        for port in bridge.ports:
            files[port_path(name, port)] = render(
                templates, search, "port.nmconnection.j2", FILTERS, name=port,
                nic=model.nics[port], bridge=name, id=port_id(name, port),
                uuid=profile_uuid(host, port_id(name, port)),
            )  # fmt: skip
    return files


def conflict_candidates(ours: Iterable[str], names: Iterable[str]) -> list[str]:
    """The other keyfiles NetworkManager reads."""
    mine = {posixpath.basename(path) for path in ours}
    return [
        f"{CONNECTIONS_DIR}/{name}"
        for name in names
        if name not in mine and not name.startswith(".") and not name.endswith(_IGNORED_SUFFIXES)
    ]


def _parsed(files: Mapping[str, str]) -> list[Keyfile]:
    """The keyfiles that parse (one that does not is not ours to judge)."""
    found = []
    for path, text in sorted(files.items()):
        try:
            found.append(parse_keyfile(text, path))
        except NmcliError:
            continue
    return found


@dataclass(frozen=True)
class _Ours:
    ids: dict[str, str]  # profile id -> its path
    bridges: set[str]
    ports: dict[str, str]  # port -> its MAC, upper case
    bridge_of: dict[str, str]  # port -> its bridge
    paths: set[str]


def _ours(files: Mapping[str, str]) -> _Ours:
    parsed = [parse_keyfile(text, path) for path, text in files.items()]
    return _Ours(
        ids={k.id: k.path for k in parsed},
        bridges={k.interface_name for k in parsed if k.type == "bridge"},
        ports={k.interface_name: k.mac for k in parsed if k.master},
        bridge_of={k.interface_name: k.master for k in parsed if k.master},
        paths=set(files),
    )


def preflight_command() -> str:
    return (
        f"systemctl is-active NetworkManager.service 2>/dev/null; echo {MARK};"
        f" nmcli -t -f RUNNING,VERSION general 2>&1; echo {MARK};"
        f" nmcli -t -f {PROFILE_FIELDS} connection show 2>&1; echo {MARK};"
        # Each profile's DNS, whatever file it lives in (keyfile, ifcfg): carried over.
        " nmcli -g UUID connection show 2>/dev/null | while read -r u; do"
        ' nmcli -t -f connection.uuid,ipv4.dns,ipv4.dns-search connection show uuid "$u"'
        " 2>/dev/null; done"
    )


def preflight(
    host: str, output: str, files: Mapping[str, str], existing: Mapping[str, str]
) -> Preflight:
    """NetworkManager must run and answer; no other profile may have one of our profiles'
    names or hold one of our bridges; the profiles that own a port now are displaced."""
    parts = output.split(f"{MARK}\n")
    if len(parts) != 4:
        return Preflight(problems=(f"{host}: cannot read NetworkManager's state: {output!r}",))
    active, general_text, profiles_text, dns_text = parts
    said = active.split()
    if not said or said[-1] not in _RUNNING:
        state = said[-1] if said else "no answer"
        return Preflight(
            problems=(
                f"{host}: NetworkManager is not running (systemctl is-active NetworkManager:"
                f" {state}): refusing to change the host; start it first"
                " (systemctl start NetworkManager)",
            )
        )
    general = parse_general(general_text)
    if general is None or not general.running:
        return Preflight(
            problems=(
                f"{host}: NetworkManager does not answer (nmcli general:"
                f" {general_text.strip() or 'no output'}): refusing to change the host",
            )
        )
    ours = _ours(files)
    problems: list[str] = []
    displaced: list[str] = []

    def displace(path: str, what: str) -> None:
        if not path:
            problems.append(
                f"{host}: {what} is kept in memory only, with no file to keep for the"
                " revert: save or delete it first (nmcli connection modify/delete)"
            )
        elif path.startswith(_READ_ONLY_DIRS):
            problems.append(f"{host}: {what} comes with the system ({path}): delete it first")
        elif path not in displaced:
            displaced.append(path)

    try:
        profiles = parse_profiles(profiles_text)
    except NmcliError as exc:
        return Preflight(problems=(f"{host}: {exc}",))
    for profile in profiles:
        if profile.filename in ours.paths:
            continue
        where = profile.filename or "in memory"
        if profile.name in ours.ids:
            problems.append(
                f"{host}: a profile named {profile.name} already exists ({where}): rename or"
                " delete it, hvbridge writes its own"
            )
        elif profile.device in ours.bridges:
            problems.append(
                f"{host}: profile {profile.name} ({where}) is active on {profile.device}:"
                " delete it, hvbridge writes its own"
            )
        elif profile.device in ours.ports:
            if posixpath.dirname(profile.filename) == CONNECTIONS_DIR and (
                profile.filename not in existing
            ):
                # Moved aside already (a run that stopped before the reload): the profile
                # lives on in NetworkManager's memory only until the next reload.
                continue
            displace(profile.filename, f"profile {profile.name} on {profile.device}")
    for keyfile in _parsed(existing):
        if keyfile.path in ours.paths or keyfile.path in displaced:
            continue
        if keyfile.id in ours.ids:
            problems.append(
                f"{host}: {keyfile.path} also names a profile {keyfile.id}: rename or delete it"
            )
        elif keyfile.interface_name in ours.bridges:
            problems.append(
                f"{host}: {keyfile.path} also configures {keyfile.interface_name}: delete it"
            )
        elif keyfile.interface_name in ours.ports or (
            keyfile.mac and keyfile.mac in ours.ports.values()
        ):
            displaced.append(keyfile.path)
    notes = [f"NetworkManager {general.version}"]
    # Where each bridge's DNS comes from: its own profile (a rerun keeps what it carried),
    # then the profiles on its ports that go (active on a port, or a keyfile displaced).
    sources: dict[str, list[tuple[str, str]]] = {name: [] for name in ours.bridges}
    for profile in profiles:
        if profile.filename in ours.paths and profile.name in ours.bridges:
            sources[profile.name].insert(0, (profile.uuid, ""))
        elif profile.filename not in ours.paths and profile.device in ours.bridge_of:
            sources[ours.bridge_of[profile.device]].append((profile.uuid, profile.name))
    for keyfile in _parsed(existing):
        port = keyfile.interface_name or next(
            (p for p, mac in ours.ports.items() if mac and mac == keyfile.mac), ""
        )
        if keyfile.path in displaced and port in ours.bridge_of:
            sources[ours.bridge_of[port]].append((keyfile.uuid, keyfile.id))
    try:
        rewritten, said = carry_dns(files, sources, parse_profile_dns(dns_text))
    except RenderError as exc:
        return Preflight(problems=(f"{host}: the DNS of a profile that goes: {exc}",))
    notes += said
    return Preflight(
        problems=tuple(problems),
        displaced=tuple(displaced),
        rewritten=rewritten,
        notes=tuple(notes),
    )


def carry_dns(
    files: Mapping[str, str],
    sources: Mapping[str, Sequence[tuple[str, str]]],
    dns: Mapping[str, Dns],
) -> tuple[dict[str, str], list[str]]:
    """Each bridge's profile with the DNS servers and search domains of its `sources`
    ((UUID, name) of the profiles it takes over; name empty for its own), in their order,
    each once: path -> content, and what was carried from whom."""
    rewritten: dict[str, str] = {}
    notes: list[str] = []
    for bridge, found in sorted(sources.items()):
        servers: list[str] = []
        domains: list[str] = []
        givers: list[str] = []
        for uuid_, name in found:
            got = dns.get(uuid_, Dns())
            servers += [v for v in got.servers if v not in servers]
            domains += [v for v in got.domains if v not in domains]
            if name and (got.servers or got.domains) and name not in givers:
                givers.append(name)
        if not servers and not domains:
            continue
        lines = [f"dns={''.join(f'{keyfile_value(v)};' for v in servers)}"] if servers else []
        if domains:
            lines.append(f"dns-search={''.join(f'{keyfile_value(v)};' for v in domains)}")
        path = bridge_path(bridge)
        rewritten[path] = files[path].replace("\n[ipv4]\n", f"\n[ipv4]\n{chr(10).join(lines)}\n")
        if givers:
            search = f", search {' '.join(domains)}" if domains else ""
            notes.append(
                f"DNS {', '.join(servers) or 'no servers'}{search} carried to {bridge}'s"
                f" profile from {', '.join(givers)}'s"
            )
    return rewritten, notes


def verify_command() -> str:
    return (
        f"nmcli -t -f {DEVICE_FIELDS} device 2>&1; echo {MARK};"
        f" nmcli -t -f {ACTIVE_FIELDS} connection show --active 2>&1"
    )


def verify_problems(output: str, model: Any) -> list[str]:
    """NetworkManager's view after the reload: each bridge's profile and each port's
    active on its device (`nmcli device`, and `connection show --active` by UUID: a
    profile of the same name elsewhere is not ours)."""
    devices_text, mark, active_text = output.partition(f"{MARK}\n")
    if not mark:
        return [f"NetworkManager's view could not be read: {output.strip()!r}"]
    try:
        devices = parse_devices(devices_text)
        active = parse_active(active_text)
    except NmcliError as exc:
        return [f"NetworkManager's view could not be read: {exc}"]
    host = str(getattr(model, "name", ""))
    wanted = {}  # device -> the profile that must be active on it
    for name, bridge in model.bridges.items():
        wanted[name] = name
        for port in bridge.ports:
            wanted[port] = port_id(name, port)
    problems = []
    for device, profile in wanted.items():
        found = devices.get(device)
        if found is None:
            problems.append(f"NetworkManager does not list {device} (nmcli device)")
            continue
        if found.state != "connected" or found.connection != profile:
            has = f"profile {found.connection}" if found.connection else "no profile"
            problems.append(
                f"NetworkManager says {device} is {found.state} with {has}, not {profile}"
                " (nmcli device)"
            )
            continue
        uuid_ = profile_uuid(host, profile)
        if not any(a.uuid == uuid_ and a.device == device and a.state == "activated"
                   for a in active):  # fmt: skip
            states = [f"{a.name} {a.state}" for a in active if a.device == device]
            problems.append(
                f"NetworkManager has not activated hvbridge's profile {profile} ({uuid_}) on"
                f" {device}: {', '.join(states) or 'nothing active'}"
                " (nmcli connection show --active)"
            )
    return problems


def checkpoint(directory: str, seconds: int) -> Checkpoint:
    d = shlex.quote(directory)
    return Checkpoint(
        create=(
            f"{_BUS} CheckpointCreate aouu 0 {seconds} {_CHECKPOINT_FLAGS} > {d}/checkpoint.out"
            f" && sed -n 's/^o \"\\(.*\\)\"$/\\1/p' {d}/checkpoint.out > {d}/checkpoint"
            f" && [ -s {d}/checkpoint ]"
        ),
        rollback=(
            f"if [ -s {d}/checkpoint ]; then read -r cp < {d}/checkpoint;"
            f' rm -f {d}/checkpoint; if {_BUS} CheckpointRollback o "$cp" > /dev/null; then'
            f' echo "NetworkManager rolled back to checkpoint $cp"; else echo "checkpoint $cp:'
            ' no rollback (NetworkManager rolls it back itself at its timeout)"; fi; fi'
        ),
        destroy=(
            f"{{ [ ! -s {d}/checkpoint ] || {{ read -r cp < {d}/checkpoint"
            f' && {_BUS} CheckpointDestroy o "$cp" > /dev/null && rm -f {d}/checkpoint; }}; }}'
        ),
    )


def inventory_problems(data: Any) -> list[Finding]:
    """What hvbridge does not write to keyfiles yet, and what NetworkManager refuses."""
    found: list[Finding] = []
    ports = {port for bridge in data.bridges.values() for port in bridge.ports}
    for name, nic in data.nics.items():
        if name not in ports:
            found.append((("nics", name), f"{name!r}: a NIC outside a bridge is not written"
                          " on NetworkManager platforms yet"))  # fmt: skip
        if nic.mtu is not None:
            found.append((("nics", name, "mtu"), "mtu is not written to keyfiles yet"))
    for name, bridge in data.bridges.items():
        if bridge.mtu is not None:
            found.append((("bridges", name, "mtu"), "mtu is not written to keyfiles yet"))
        if bridge.stp and bridge.delay == 1:
            found.append(
                (("bridges", name, "delay"), "NetworkManager takes a forward delay of 0 or 2-30")
            )
    return found


@dataclass(frozen=True, eq=False)
class NetworkManagerPlatform:
    """A NetworkManager platform; `libvirt_units` are the systemd units that restart what
    `libvirtd` means on it (EL9: modular daemons)."""

    name: str
    libvirt_units: Sequence[str] = ("libvirtd",)
    ssh_disabled_algorithms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    config_dir: str = CONNECTIONS_DIR
    state_command: str = STATE_COMMAND
    file_mode: int = KEYFILE_MODE

    @property
    def template_dirs(self) -> tuple[str, ...]:
        return (self.name, "networkmanager")

    def render(self, templates: Path, model: Any) -> dict[str, str]:
        return render_files(templates, self.template_dirs, model)

    def conflict_candidates(self, ours: Iterable[str], names: Iterable[str]) -> list[str]:
        return conflict_candidates(ours, names)

    def conflicts(self, ours: Iterable[str], existing: Mapping[str, str]) -> list[str]:
        # Clashes by name or interface are found with the running profiles, in preflight.
        return []

    @property
    def preflight_command(self) -> str:
        return preflight_command()

    def preflight(
        self, host: str, output: str, files: Mapping[str, str], existing: Mapping[str, str]
    ) -> Preflight:
        return preflight(host, output, files, existing)

    def checkpoint(self, directory: str, seconds: int) -> Checkpoint | None:
        return checkpoint(directory, seconds)

    @property
    def verify_command(self) -> str:
        return verify_command()

    def verify_problems(self, output: str, model: Any) -> list[str]:
        return verify_problems(output, model)

    def network_command(self, action: NetworkAction) -> str:
        # NetworkManager is never stopped: that would take every connection down, the
        # controller's too. Applying is reading the profiles again; a checkpoint and the
        # restored files undo it.
        return {"restart": RELOAD, "start": RELOAD, "stop": "true"}[action]

    def revert_commands(self) -> tuple[str, str]:
        return "true", RELOAD

    @property
    def restart_diagnostics(self) -> str:
        return "nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device"

    def service_command(self, service: str, action: ServiceAction) -> str:
        units = self.libvirt_units if service == "libvirtd" else (service,)
        return f"systemctl {action} {' '.join(shlex.quote(unit) for unit in units)}"

    def inventory_problems(self, data: Any) -> list[Finding]:
        return inventory_problems(data)
