"""The network files of initscripts (EL6, EL7): `ifcfg-NAME` under network-scripts.

What EL6 and EL7 share: the templates under `templates/initscripts/` (a file per bridge,
bond, VLAN and NIC: a bond's slaves say MASTER/SLAVE, a bridge's ports BRIDGE), how a value
is written so that bash (initscripts `source` the files) reads it back unchanged, which
other files `service network` would also apply, what a bridge keeps of its ports' old files
(hvbridge.platforms.ifcfg_carry), and which names and values initscripts cannot take. They
differ in their service manager, their sshd, TYPE=Bond, how many DNS servers ifup-post
writes and their kernel's bonding driver, given to `Initscripts`.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hvbridge.platforms import ifcfg_carry
from hvbridge.platforms.base import Checkpoint, Finding, NetworkAction, Preflight, ServiceAction
from hvbridge.platforms.ifcfg import (
    IfcfgError,
    ifcfg_value,
    ignored_config_name,
    parse_ifcfg,
)
from hvbridge.platforms.iproute import STATE_COMMAND
from hvbridge.render import render

SCRIPTS_DIR = "/etc/sysconfig/network-scripts"
PREFIX = "ifcfg-"

FILTERS = (("ifcfg_value", ifcfg_value),)


def config_path(device: str) -> str:
    return f"{SCRIPTS_DIR}/{PREFIX}{device}"


def bonding_opts(bond: Any) -> str:
    """BONDING_OPTS as initscripts hand it to the bonding driver's sysfs files: mode first
    (the driver takes a mode only while it has no slaves), then what the model sets."""
    options = {
        "mode": bond.mode,
        "miimon": bond.miimon,
        "lacp_rate": bond.lacp_rate,
        "xmit_hash_policy": bond.xmit_hash_policy,
        "primary": bond.primary,
    }
    return " ".join(f"{key}={value}" for key, value in options.items() if value is not None)


def vlan_physdev(name: str, vlan: Any) -> str | None:
    """PHYSDEV for a VLAN's file: None when its name (PARENT.ID) already says the parent,
    the way initscripts read it."""
    return None if name == f"{vlan.parent}.{vlan.id}" else str(vlan.parent)


def _table(model: Any, kind: str) -> Mapping[str, Any]:
    # Models are duck-typed (hvbridge.platforms.devices): one without bonds has none.
    table: Mapping[str, Any] = getattr(model, kind, None) or {}
    return table


def _ipv6(bridge: Any) -> dict[str, Any]:
    return {
        "addr": getattr(bridge, "ipv6addr", None),
        "gateway": getattr(bridge, "ipv6_gateway", None),
        "autoconf": getattr(bridge, "ipv6_autoconf", None),
    }


def render_files(
    templates: Path,
    search: tuple[str, ...],
    model: Any,
    *,
    nm_controlled_key: bool = False,
    type_bond: bool = False,
) -> dict[str, str]:
    """Every ifcfg file the host's bridges, bonds, VLANs and NICs call for: path -> content.

    `nm_controlled_key`: the files of the devices hvbridge creates (bridges, bonds, VLANs)
    say NM_CONTROLLED=no (a NIC's always says it, or `nm_controlled: true`): where
    NetworkManager may run beside initscripts (EL7), it would otherwise take them too.
    `type_bond`: a bond's file says TYPE=Bond (EL7's initscripts and NetworkManager read
    it; EL6's know a bond by its BONDING_OPTS)."""
    port_of = {port: name for name, bridge in model.bridges.items() for port in bridge.ports}
    bonds, vlans = _table(model, "bonds"), _table(model, "vlans")
    master_of = {slave: name for name, bond in bonds.items() for slave in bond.slaves}
    files: dict[str, str] = {}

    def add(device: str, template: str, **context: Any) -> None:
        files[config_path(device)] = render(
            templates, search, template, FILTERS, name=device, **context
        )

    for name, bridge in model.bridges.items():
        add(name, "ifcfg-bridge.j2", bridge=bridge, ipv6=_ipv6(bridge),
            dns=getattr(bridge, "dns", None), nm_controlled_key=nm_controlled_key)  # fmt: skip
    for name, bond in bonds.items():
        add(name, "ifcfg-bond.j2", bond=bond, options=bonding_opts(bond),
            bridge=port_of.get(name), type_key=type_bond,
            nm_controlled_key=nm_controlled_key)  # fmt: skip
    for name, vlan in vlans.items():
        add(name, "ifcfg-vlan.j2", vlan=vlan, physdev=vlan_physdev(name, vlan),
            bridge=port_of.get(name), nm_controlled_key=nm_controlled_key)  # fmt: skip
    for name, nic in model.nics.items():
        if name in master_of:
            bond = bonds[master_of[name]]
            # The driver gives every slave the bond's MTU: the file says the same.
            mtu = bond.mtu if bond.mtu is not None else nic.mtu
            add(name, "ifcfg-slave.j2", nic=nic, master=master_of[name], mtu=mtu)
        elif name in port_of:
            add(name, "ifcfg-port.j2", nic=nic, bridge=port_of[name])
        else:
            add(name, "ifcfg-nic.j2", nic=nic)
    return files


def conflict_candidates(ours: Iterable[str], names: Iterable[str]) -> list[str]:
    """The ifcfg files that initscripts read (not ignored ones): the others, for conflicts,
    and ours as they are on the host now, for what a bridge keeps of its ports' old files
    (hvbridge.platforms.ifcfg_carry)."""
    return [
        f"{SCRIPTS_DIR}/{name}"
        for name in names
        if name.startswith(PREFIX) and not ignored_config_name(name)
    ]


def conflicts(ours: Iterable[str], existing: Mapping[str, str]) -> list[str]:
    """Other ifcfg files that initscripts would also apply to the devices we write (a file
    that does not parse is not ours to judge: initscripts may still read it)."""
    paths = set(ours)
    devices = {posixpath.basename(path).removeprefix(PREFIX) for path in paths}
    problems = []
    for path, text in sorted(existing.items()):
        if path in paths:
            continue
        name = posixpath.basename(path)
        try:
            device = parse_ifcfg(text, path).get("DEVICE", name.removeprefix(PREFIX))
        except IfcfgError:
            continue
        if device in devices:
            problems.append(
                f"{path} also configures DEVICE={device}: remove it, or rename it so that"
                " initscripts ignore it (e.g. with a .bak suffix)"
            )
    return problems


def preflight(host: str, files: Mapping[str, str], existing: Mapping[str, str]) -> Preflight:
    """The bridges' files with what they keep of the host's files (DNS, IPv6), refusing a
    host whose file to keep from does not parse."""
    rewritten, notes, problems = ifcfg_carry.carry(files, existing)
    if problems:
        return Preflight(problems=tuple(f"{host}: {problem}" for problem in problems))
    return Preflight(rewritten=rewritten, notes=tuple(notes))


# NetworkManager's ifcfg-rh reads NM_CONTROLLED as a boolean (svParseBoolean).
_FALSE = frozenset({"no", "n", "false", "0", "off"})
# What `systemctl is-active` prints for a unit that runs, or is on its way.
_RUNNING = frozenset({"active", "activating", "reloading", "deactivating"})
NM_ACTIVE_COMMAND = "systemctl is-active NetworkManager.service 2>/dev/null || true"


def networkmanager_problems(host: str, output: str, files: Mapping[str, str]) -> list[str]:
    """Where NetworkManager runs (`output`: `systemctl is-active NetworkManager`), it reads
    every ifcfg file through ifcfg-rh and manages each device whose file does not say
    NM_CONTROLLED=no, while initscripts configure it too: refuse, naming those files."""
    said = output.split()
    if not said or said[-1] not in _RUNNING:
        return []
    managed = []
    for path, text in sorted(files.items()):
        value = parse_ifcfg(text, path).get("NM_CONTROLLED")
        if value is None or value.strip().lower() not in _FALSE:
            managed.append(f"{posixpath.basename(path)} (NM_CONTROLLED={value or 'unset'})")
    if not managed:
        return []
    return [
        f"{host}: NetworkManager is running and would manage {', '.join(managed)} beside"
        f" initscripts: refusing to change the host. Stop and disable NetworkManager"
        f" (systemctl disable --now NetworkManager), or set nm_controlled: false"
    ]


def _interface_names(data: Any) -> Iterable[tuple[tuple[str | int, ...], str]]:
    for name in data.nics:
        yield ("nics", name), name
    for name, bond in _table(data, "bonds").items():
        yield ("bonds", name), name
        for i, slave in enumerate(bond.slaves):
            yield ("bonds", name, "slaves", i), slave
    for name, vlan in _table(data, "vlans").items():
        yield ("vlans", name), name
        yield ("vlans", name, "parent"), vlan.parent
    for name, bridge in data.bridges.items():
        yield ("bridges", name), name
        for i, port in enumerate(bridge.ports):
            yield ("bridges", name, "ports", i), port
    for domain, guest in data.guests.items():
        for i, iface in enumerate(guest.interfaces):
            yield ("guests", domain, "interfaces", i, "bridge"), iface.bridge


# How initscripts' ifup finds a VLAN's id: from the name, PARENT.ID, or vlanID (with
# PHYSDEV); `service network` brings up only such names after the devices they sit on.
_VLAN_PLUS_VID = re.compile(r"vlan0*(?P<id>[1-9][0-9]{0,3})")


def _vlan_problem(name: str, vlan: Any) -> str | None:
    # A dotted name that disagrees with its parent or id is refused by the inventory's
    # own cross-check (hvbridge.inventory.stacking), for every platform: not twice.
    if name == f"{vlan.parent}.{vlan.id}" or "." in name:
        return None
    match = _VLAN_PLUS_VID.fullmatch(name)
    if match and int(match.group("id")) == vlan.id:
        return None
    return (
        f"{name!r}: initscripts take a VLAN's id from its name: name it"
        f" {vlan.parent}.{vlan.id} or vlan{vlan.id}"
    )


def inventory_problems(
    data: Any, *, dns_servers: int = 3, hash_policies: frozenset[str] | None = None
) -> list[Finding]:
    """What initscripts would ignore or misread: interface names whose ifcfg file they
    ignore (`eth0.bak`, `eth0-range1`: a kernel accepts them, `service network` would not
    apply them); a VLAN name they take no id from; more DNS servers than their DNS1..
    variables (`dns_servers`); a bond's transmit hash their kernel lacks (`hash_policies`,
    None: any)."""
    found: list[Finding] = [
        (loc, f"{name!r} cannot be used: initscripts ignore a file named {PREFIX}{name}")
        for loc, name in _interface_names(data)
        if ignored_config_name(f"{PREFIX}{name}")
    ]
    for name, vlan in _table(data, "vlans").items():
        problem = _vlan_problem(name, vlan)
        if problem:
            found.append((("vlans", name), problem))
    for name, bond in _table(data, "bonds").items():
        policy = bond.xmit_hash_policy
        if hash_policies is not None and policy is not None and policy not in hash_policies:
            known = ", ".join(sorted(hash_policies))
            found.append((("bonds", name, "xmit_hash_policy"),
                          f"{policy!r}: this platform's bonding driver knows {known}"))  # fmt: skip
    for name, bridge in data.bridges.items():
        dns = getattr(bridge, "dns", None)
        # More than resolv.conf's 3 the inventory's own cross-check refuses everywhere.
        if dns is not None and dns_servers < len(dns.servers) <= 3:
            found.append((("bridges", name, "dns", "servers"),
                          f"initscripts here write at most {dns_servers} servers"
                          f" (DNS1..DNS{dns_servers}), not {len(dns.servers)}"))  # fmt: skip
    return found


@dataclass(frozen=True, eq=False)
class Initscripts:
    """An initscripts platform; `services` is how it starts things: SysV `service` (EL6)
    or systemd's `systemctl` (EL7, where `network.service` runs the same initscripts)."""

    name: str
    services: Literal["sysv", "systemd"]
    ssh_disabled_algorithms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # NetworkManager may run beside initscripts (EL7 installs it by default): the network
    # files say NM_CONTROLLED=no, and a host where it runs and would manage one is refused.
    networkmanager_aware: bool = False
    # A bond's file says TYPE=Bond (EL7); EL6's initscripts know a bond by BONDING_OPTS.
    type_bond: bool = False
    # How many of DNS1.. ifup-post writes to resolv.conf (EL6: DNS1 and DNS2).
    dns_servers: int = 3
    # The transmit hashes its kernel's bonding driver knows; None: every one.
    hash_policies: frozenset[str] | None = None
    config_dir: str = SCRIPTS_DIR
    state_command: str = STATE_COMMAND
    file_mode: int = 0o644

    @property
    def template_dirs(self) -> tuple[str, ...]:
        return (self.name, "initscripts")

    def render(self, templates: Path, model: Any) -> dict[str, str]:
        return render_files(
            templates, self.template_dirs, model,
            nm_controlled_key=self.networkmanager_aware, type_bond=self.type_bond,
        )  # fmt: skip

    @property
    def preflight_command(self) -> str:
        return NM_ACTIVE_COMMAND if self.networkmanager_aware else ""

    def preflight(
        self, host: str, output: str, files: Mapping[str, str], existing: Mapping[str, str]
    ) -> Preflight:
        found = preflight(host, files, existing)
        if not self.networkmanager_aware or found.problems:
            return found
        problems = networkmanager_problems(host, output, files)
        return dataclasses.replace(found, problems=tuple(problems)) if problems else found

    def checkpoint(self, directory: str, seconds: int) -> Checkpoint | None:
        return None

    def conflict_candidates(self, ours: Iterable[str], names: Iterable[str]) -> list[str]:
        return conflict_candidates(ours, names)

    def conflicts(self, ours: Iterable[str], existing: Mapping[str, str]) -> list[str]:
        return conflicts(ours, existing)

    def network_command(self, action: NetworkAction) -> str:
        return self.service_command("network", action)

    def revert_commands(self) -> tuple[str, str]:
        if self.services == "systemd":
            # systemd does nothing to stop a unit whose start failed, and nothing to start
            # one it still thinks active: the init script itself (`service` without the
            # redirect to systemctl) stops the interfaces the new files name, and a
            # restart brings the restored ones up.
            return (
                "SYSTEMCTL_SKIP_REDIRECT=1 service network stop",
                self.network_command("restart"),
            )
        return self.network_command("stop"), self.network_command("start")

    @property
    def restart_diagnostics(self) -> str:
        # `systemctl restart` prints only "Job for network.service failed"; the init
        # script's own words are in the journal, between systemd's "Starting ..." and its
        # lines about the failed unit. Only the last start's words, without the journal's
        # prefix (as EL6's `service network restart` prints them): what the stop before it
        # and earlier starts said (all "[  OK  ]") is not why this restart failed.
        if self.services != "systemd":
            return ""
        return (
            "journalctl -u network.service -q -n 200 --no-pager | awk"
            " '/ systemd\\[1\\]: Starting /{n=0; next} / systemd\\[1\\]: /{next}"
            ' {sub(/^[^]]*\\]: /, ""); said[n++]=$0} END{for(i=0;i<n;i++) print said[i]}\''
        )

    def service_command(self, service: str, action: ServiceAction) -> str:
        if self.services == "systemd":
            return f"systemctl {action} {shlex.quote(service)}"
        return f"service {shlex.quote(service)} {action}"

    def inventory_problems(self, data: Any) -> list[Finding]:
        return inventory_problems(
            data, dns_servers=self.dns_servers, hash_policies=self.hash_policies
        )
