"""The network files of initscripts (EL6, EL7): `ifcfg-NAME` under network-scripts.

What EL6 and EL7 share: the templates under `templates/initscripts/`, how a value is
written so that bash (initscripts `source` the files) reads it back unchanged, which
other files `service network` would also apply, and which interface names it ignores.
They differ in their service manager and their sshd, given to `Initscripts`.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hvbridge.platforms.base import Checkpoint, Finding, NetworkAction, Preflight, ServiceAction
from hvbridge.platforms.ifcfg import IfcfgError, ignored_config_name, parse_ifcfg
from hvbridge.platforms.iproute import STATE_COMMAND
from hvbridge.render import RenderError, render

SCRIPTS_DIR = "/etc/sysconfig/network-scripts"
PREFIX = "ifcfg-"
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+,-]+$")
_QUOTABLE = re.compile(r"^[ A-Za-z0-9_.:/@+,=%-]+$")


def ifcfg_value(value: Any) -> str:
    """A value as initscripts (which `source` the file) read it back unchanged."""
    text = str(value)
    if _BARE.match(text):
        return text
    if _QUOTABLE.match(text):
        return f'"{text}"'
    raise RenderError(f"value {text!r} cannot be written safely to an ifcfg file")


FILTERS = (("ifcfg_value", ifcfg_value),)


def config_path(device: str) -> str:
    return f"{SCRIPTS_DIR}/{PREFIX}{device}"


def render_files(
    templates: Path, search: tuple[str, ...], model: Any, *, nm_controlled_key: bool = False
) -> dict[str, str]:
    """Every ifcfg file the host's bridges and NICs call for: path -> content.

    `nm_controlled_key`: the bridge's file says NM_CONTROLLED=no (a NIC's always says it, or
    `nm_controlled: true`): where NetworkManager may run beside initscripts (EL7), it would
    otherwise take the bridge too."""
    port_of = {port: name for name, bridge in model.bridges.items() for port in bridge.ports}
    files: dict[str, str] = {}
    for name, bridge in model.bridges.items():
        files[config_path(name)] = render(
            templates, search, "ifcfg-bridge.j2", FILTERS, name=name, bridge=bridge,
            nm_controlled_key=nm_controlled_key,
        )  # fmt: skip
    for name, nic in model.nics.items():
        if name in port_of:
            content = render(
                templates, search, "ifcfg-port.j2", FILTERS, name=name, nic=nic,
                bridge=port_of[name],
            )  # fmt: skip
        else:
            content = render(templates, search, "ifcfg-nic.j2", FILTERS, name=name, nic=nic)
        files[config_path(name)] = content
    return files


def conflict_candidates(ours: Iterable[str], names: Iterable[str]) -> list[str]:
    """The other ifcfg files that initscripts read (not ignored ones)."""
    mine = {posixpath.basename(path) for path in ours}
    return [
        f"{SCRIPTS_DIR}/{name}"
        for name in names
        if name.startswith(PREFIX) and name not in mine and not ignored_config_name(name)
    ]


def conflicts(ours: Iterable[str], existing: Mapping[str, str]) -> list[str]:
    """Other ifcfg files that initscripts would also apply to the devices we write (a file
    that does not parse is not ours to judge: initscripts may still read it)."""
    devices = {posixpath.basename(path).removeprefix(PREFIX) for path in ours}
    problems = []
    for path, text in sorted(existing.items()):
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
    for name, bridge in data.bridges.items():
        yield ("bridges", name), name
        for i, port in enumerate(bridge.ports):
            yield ("bridges", name, "ports", i), port
    for domain, guest in data.guests.items():
        for i, iface in enumerate(guest.interfaces):
            yield ("guests", domain, "interfaces", i, "bridge"), iface.bridge


def inventory_problems(data: Any) -> list[Finding]:
    """Interface names whose ifcfg file initscripts would ignore (`eth0.bak`,
    `eth0-range1`): a kernel accepts them, `service network` would not apply them."""
    return [
        (loc, f"{name!r} cannot be used: initscripts ignore a file named {PREFIX}{name}")
        for loc, name in _interface_names(data)
        if ignored_config_name(f"{PREFIX}{name}")
    ]


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
    config_dir: str = SCRIPTS_DIR
    state_command: str = STATE_COMMAND
    file_mode: int = 0o644

    @property
    def template_dirs(self) -> tuple[str, ...]:
        return (self.name, "initscripts")

    def render(self, templates: Path, model: Any) -> dict[str, str]:
        return render_files(
            templates, self.template_dirs, model, nm_controlled_key=self.networkmanager_aware
        )

    @property
    def preflight_command(self) -> str:
        return NM_ACTIVE_COMMAND if self.networkmanager_aware else ""

    def preflight(
        self, host: str, output: str, files: Mapping[str, str], existing: Mapping[str, str]
    ) -> Preflight:
        if not self.networkmanager_aware:
            return Preflight()
        return Preflight(problems=tuple(networkmanager_problems(host, output, files)))

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
        return inventory_problems(data)
