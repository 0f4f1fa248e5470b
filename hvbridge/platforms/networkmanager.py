"""The network files of NetworkManager (EL8, EL9): keyfile profiles in
/etc/NetworkManager/system-connections, applied by `nmcli connection reload`.

What EL8 and EL9 share: a profile per device of each bridge's chain (bridge, its ports,
bonds and their slaves, VLANs and their parents: hvbridge.platforms.keyfiles), written with
the keys every supported NetworkManager reads (`master=`/`slave-type=`: 1.42 ignores the
newer `controller=`/`port-type=`), with EL6's bridge values (STP off, forward delay 0)
rather than NetworkManager's (STP on, 15 s); the profiles that own a device of a chain now,
wherever they live (a keyfile, an ifcfg file read through ifcfg-rh, a profile in /run),
taken out of the way and kept for the revert, their DNS and IPv6 carried to the bridge's
profile where the inventory leaves them to the host (hvbridge.platforms.nmcarry); and a
NetworkManager checkpoint around the apply, the inner undo inside the host guard's.
"""

from __future__ import annotations

import ipaddress
import posixpath
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvbridge.platforms import devices
from hvbridge.platforms.base import (
    Checkpoint,
    Finding,
    NetworkAction,
    Preflight,
    ServiceAction,
)
from hvbridge.platforms.iproute import STATE_COMMAND
from hvbridge.platforms.keyfiles import (
    CONNECTIONS_DIR,
    ipv6,
    plan,
    profile_uuid,
    render_files,
)
from hvbridge.platforms.nmcarry import carry
from hvbridge.platforms.nmcli import (
    ACTIVE_FIELDS,
    DEVICE_FIELDS,
    PROFILE_FIELDS,
    SETTINGS_FIELDS,
    Keyfile,
    NmcliError,
    parse_active,
    parse_devices,
    parse_general,
    parse_keyfile,
    parse_profile_settings,
    parse_profiles,
)
from hvbridge.render import RenderError

MARK = "@@hvbridge-nm@@"
# NetworkManager reads a keyfile only when no one else may (it ignores a readable one).
KEYFILE_MODE = 0o600
# Files the keyfile plugin ignores (nm_keyfile_utils_ignore_filename): hidden, backups,
# package managers' leftovers.
_IGNORED_SUFFIXES = ("~", ".bak", ".orig", ".rej", ".swp", ".tmp", ".rpmnew", ".rpmsave",
                     ".rpmorig", ".dpkg-dist", ".dpkg-old", ".dpkg-new", ".dpkg-tmp")  # fmt: skip
# Profiles under these come with the system, read-only: they cannot be moved aside.
_READ_ONLY_DIRS = ("/usr/lib/NetworkManager/", "/lib/NetworkManager/")
# What `systemctl is-active` prints for a unit that runs, or is on its way.
_RUNNING = frozenset({"active", "activating", "reloading"})
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
    ids: set[str]  # our profiles' ids
    paths: set[str]
    bridges: set[str]
    devices: dict[str, str]  # every other device of the chains -> its MAC (NICs), upper case
    vlans: dict[tuple[str, str], str]  # (parent, id) -> our VLAN
    bridge_of: dict[str, str]  # device -> the bridge whose profile takes over its settings


def _ours(files: Mapping[str, str]) -> _Ours:
    parsed = [parse_keyfile(text, path) for path, text in files.items()]
    by_device = {k.interface_name: k for k in parsed}

    def bridge_of(device: str, seen: frozenset[str] = frozenset()) -> str | None:
        """Up the chain: a port's master; a VLAN parent's first VLAN (a bond carrying two
        VLANs gives what it had to the first bridge)."""
        keyfile = by_device.get(device)
        if keyfile is None or device in seen:
            return None
        if keyfile.type == "bridge":
            return device
        if keyfile.master:
            return bridge_of(keyfile.master, seen | {device})
        vlan = next((k for k in parsed if k.type == "vlan" and k.parent == device), None)
        return bridge_of(vlan.interface_name, seen | {device}) if vlan else None

    others = [k for k in parsed if k.type != "bridge"]
    return _Ours(
        ids={k.id for k in parsed},
        paths=set(files),
        bridges={k.interface_name for k in parsed if k.type == "bridge"},
        devices={k.interface_name: k.mac for k in others},
        vlans={(k.parent, k.vlan_id): k.interface_name for k in others if k.type == "vlan"},
        bridge_of={
            k.interface_name: found for k in parsed if (found := bridge_of(k.interface_name))
        },
    )


def _owns(keyfile: Keyfile, ours: _Ours) -> bool:
    """Whether an inactive keyfile would configure one of our devices besides ours: by its
    interface name, its MAC, or (a VLAN) its parent and id."""
    macs = {mac for mac in ours.devices.values() if mac}
    return (
        keyfile.interface_name in ours.devices
        or bool(keyfile.mac and keyfile.mac in macs)
        or (keyfile.type == "vlan" and (keyfile.parent, keyfile.vlan_id) in ours.vlans)
    )


def _device_of(keyfile: Keyfile, ours: _Ours) -> str:
    """The device of ours an inactive keyfile configures ("" for none)."""
    if keyfile.interface_name:
        return keyfile.interface_name
    if keyfile.type == "vlan" and (keyfile.parent, keyfile.vlan_id) in ours.vlans:
        return ours.vlans[keyfile.parent, keyfile.vlan_id]
    by_mac = {mac: device for device, mac in ours.devices.items() if mac}
    return by_mac.get(keyfile.mac, "")


def preflight_command() -> str:
    return (
        f"systemctl is-active NetworkManager.service 2>/dev/null; echo {MARK};"
        f" nmcli -t -f RUNNING,VERSION general 2>&1; echo {MARK};"
        f" nmcli -t -f {PROFILE_FIELDS} connection show 2>&1; echo {MARK};"
        # Each profile's DNS and IPv6, whatever file it lives in (keyfile, ifcfg): carried.
        " nmcli -g UUID connection show 2>/dev/null | while read -r u; do"
        f' nmcli -t -f {SETTINGS_FIELDS} connection show uuid "$u" 2>/dev/null; done'
    )


def preflight(
    host: str, output: str, files: Mapping[str, str], existing: Mapping[str, str]
) -> Preflight:
    """NetworkManager must run and answer; no other profile may have one of our profiles'
    names or hold one of our bridges; the profiles that own a device of a chain now (a
    port, a bond's slave, a bond, a VLAN or its parent) are displaced, and what they set of
    DNS and IPv6 carried to their bridge's profile (hvbridge.platforms.nmcarry)."""
    parts = output.split(f"{MARK}\n")
    if len(parts) != 4:
        return Preflight(problems=(f"{host}: cannot read NetworkManager's state: {output!r}",))
    active, general_text, profiles_text, settings_text = parts
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
        if profile.device in ours.devices:
            if posixpath.dirname(profile.filename) == CONNECTIONS_DIR and (
                profile.filename not in existing
            ):
                # Moved aside already (a run that stopped before the reload): the profile
                # lives on in NetworkManager's memory only until the next reload.
                continue
            displace(profile.filename, f"profile {profile.name} on {profile.device}")
        elif profile.name in ours.ids:
            problems.append(
                f"{host}: a profile named {profile.name} already exists ({where}): rename or"
                " delete it, hvbridge writes its own"
            )
        elif profile.device in ours.bridges:
            problems.append(
                f"{host}: profile {profile.name} ({where}) is active on {profile.device}:"
                " delete it, hvbridge writes its own"
            )
    for keyfile in _parsed(existing):
        if keyfile.path in ours.paths or keyfile.path in displaced:
            continue
        if _owns(keyfile, ours):
            displaced.append(keyfile.path)
        elif keyfile.id in ours.ids:
            problems.append(
                f"{host}: {keyfile.path} also names a profile {keyfile.id}: rename or delete it"
            )
        elif keyfile.interface_name in ours.bridges:
            problems.append(
                f"{host}: {keyfile.path} also configures {keyfile.interface_name}: delete it"
            )
    notes = [f"NetworkManager {general.version}"]
    # Where each bridge's DNS and IPv6 come from: its own profile (a rerun keeps what it
    # carried), then the profiles on its chain that go (active there, or displaced).
    sources: dict[str, list[tuple[str, str]]] = {name: [] for name in ours.bridges}
    for profile in profiles:
        if profile.filename in ours.paths and profile.name in ours.bridges:
            sources[profile.name].insert(0, (profile.uuid, ""))
        elif profile.filename not in ours.paths and profile.device in ours.bridge_of:
            sources[ours.bridge_of[profile.device]].append((profile.uuid, profile.name))
    for keyfile in _parsed(existing):
        device = _device_of(keyfile, ours)
        if keyfile.path in displaced and device in ours.bridge_of:
            sources[ours.bridge_of[device]].append((keyfile.uuid, keyfile.id))
    try:
        rewritten, carried = carry(files, sources, parse_profile_settings(settings_text))
    except RenderError as exc:
        return Preflight(problems=(f"{host}: the settings of a profile that goes: {exc}",))
    return Preflight(
        problems=tuple(problems),
        displaced=tuple(displaced),
        rewritten=rewritten,
        notes=tuple(notes + carried),
    )


def verify_command() -> str:
    return (
        f"nmcli -t -f {DEVICE_FIELDS} device 2>&1; echo {MARK};"
        f" nmcli -t -f {ACTIVE_FIELDS} connection show --active 2>&1"
    )


def verify_problems(output: str, model: Any) -> list[str]:
    """NetworkManager's view after the reload: each of hvbridge's profiles (bridges, and
    every device of their chains: ports, bonds, their slaves, VLANs and their parents)
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
    problems = []
    for planned in plan(model):
        device, profile = planned.device, planned.id
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
    chained = {device for bridge in data.bridges for device in devices.chain(data, bridge)}
    for name in data.nics:
        if name not in chained:
            found.append((("nics", name), f"{name!r}: a NIC outside a bridge is not written"
                          " on NetworkManager platforms yet"))  # fmt: skip
    for name, bridge in data.bridges.items():
        if bridge.delay == 1:
            # Whether STP is on or not: it refuses the whole profile.
            found.append(
                (("bridges", name, "delay"), "NetworkManager takes a forward delay of 0 or 2-30")
            )
        said = getattr(bridge, "dns", None)
        servers = said.servers if said is not None else []
        if any(ipaddress.ip_address(str(s)).version == 6 for s in servers) and (
            ipv6(bridge)["method"] not in ("auto", "manual")
        ):
            found.append((("bridges", name, "dns", "servers"), "an IPv6 DNS server needs IPv6"
                          " on the bridge itself: NetworkManager refuses ipv6.dns on a profile"
                          " without (set ipv6addr, or ipv6_autoconf: true)"))  # fmt: skip
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
