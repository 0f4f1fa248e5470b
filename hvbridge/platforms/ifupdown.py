"""The network files of ifupdown (Debian): stanzas in /etc/network/interfaces and the files
it sources, applied by `ifdown` and `ifup`.

hvbridge writes a file of its own, `/etc/network/interfaces.d/hvbridge`, which
/etc/network/interfaces must source (Debian's default does: `source
/etc/network/interfaces.d/*`): each bridge with EL6's values (STP off, forward delay 0,
the default route on the bridge, the bridge's MAC the port's), and each port as `inet
manual` (bridge-utils' hook enslaves it). The `iface` stanzas that configure a port now,
in whatever file ifupdown reads them from, are taken out of that file and every other
byte of it left as it was; the file is kept for the revert like every file a run replaces.
The DNS options of a port's old stanza (`dns-nameservers`, `dns-search`) go to its
bridge's stanza, so that resolvconf keeps the servers; its `inet6` stanzas become the
bridge's (same method, same options: addresses, gateway, `accept_ra`, `autoconf`), so that
IPv6 and router advertisements stay as they were.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvbridge.platforms.base import Checkpoint, Finding, NetworkAction, Preflight, ServiceAction
from hvbridge.platforms.bridges import contexts
from hvbridge.platforms.interfaces import (
    DUMP_COMMAND,
    INTERFACES,
    InterfacesError,
    Stanza,
    parse_dump,
    parse_stanzas,
    sources,
    with_options,
    without_ifaces,
)
from hvbridge.platforms.iproute import STATE_COMMAND
from hvbridge.render import RenderError, render

INTERFACES_D = "/etc/network/interfaces.d"
# A name that `source-directory` reads too (letters, digits, `_` and `-` only).
OWN_FILE = f"{INTERFACES_D}/hvbridge"
MARK = "@@hvbridge-ifup@@"
DNS_OPTIONS = ("dns-nameservers", "dns-search")
_SAFE = re.compile(r"^[A-Za-z0-9_.:/,@+-]+$")

# Every interface ifupdown brought up goes down, with the files as they are now (a port
# whose stanza is now `inet manual` loses its address: ifupdown flushes it), then up:
# `auto` ones, and the `allow-hotplug` ones whose device exists, as Debian's
# networking service does at boot (an installer's eth0 is `allow-hotplug`).
DOWN = "ifdown -a --exclude=lo"
UP = (
    "rc=0; ifup -a --exclude=lo || rc=$?;"
    " for i in $(ifquery --list --allow=hotplug --exclude=lo); do"
    ' [ -e "/sys/class/net/$i" ] || continue; ifup --allow=hotplug "$i" || rc=$?; done;'
    " [ $rc = 0 ]"
)
RESTART = f"{DOWN}; {UP}"
# The revert's stop: also what the state file does not know of (a bridge whose `ifup`
# failed half-way is not recorded as up, yet holds its port), by the files as they are.
REVERT_STOP = (
    f"{DOWN}; for i in $(ifquery --list --exclude=lo); do"
    ' [ -e "/sys/class/net/$i" ] && ifdown --force "$i"; done; true'
)


def ifupdown_value(value: Any) -> str:
    """A value as ifupdown reads it back: one word, nothing it would take for a comment
    or a continuation; anything else is refused, never quoted."""
    text = str(value)
    if _SAFE.match(text):
        return text
    raise RenderError(f"value {text!r} cannot be written safely to an interfaces file")


FILTERS = (("ifupdown_value", ifupdown_value),)


def render_files(templates: Path, search: tuple[str, ...], model: Any) -> dict[str, str]:
    """One file of hvbridge's own with every bridge and its ports: path -> content."""
    bridges = contexts(model)
    return {OWN_FILE: render(templates, search, "interfaces.j2", FILTERS, bridges=bridges)}


def preflight_command(version_command: str = "ifup -V") -> str:
    return f"{{ {version_command}; }} 2>&1 | head -n 1; echo {MARK}; {DUMP_COMMAND}"


def _ours(files: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """From our rendered file: port -> its bridge, and the bridges' method by name."""
    port_of: dict[str, str] = {}
    bridges: dict[str, str] = {}
    for path, text in files.items():
        for stanza in parse_stanzas(path, text):
            if stanza.word != "iface":
                continue
            # ifupdown2 reads `bridge-ports` and `bridge_ports` alike.
            options = {name.replace("-", "_"): value for name, value in stanza.options}
            ports = options.get("bridge_ports")
            if ports is not None:
                bridges[stanza.name] = stanza.method
                port_of.update(dict.fromkeys(ports.split(), stanza.name))
    return port_of, bridges


def _dns(stanzas: Iterable[Stanza]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for stanza in stanzas:
        found += [(n, v) for n, v in stanza.options if n in DNS_OPTIONS and (n, v) not in found]
    return found


def with_inet6(text: str, bridge: str, stanzas: Iterable[Stanza]) -> str:
    """`text` with an `iface BRIDGE inet6` stanza for each inet6 stanza of `stanzas`: the
    same method and option lines (not the DNS ones, which go to the bridge's inet stanza),
    so that the bridge keeps the port's IPv6 addresses and router advertisements
    (`accept_ra`, `autoconf`). `inet6 manual` without options says nothing: not carried."""
    blocks: list[str] = []
    for stanza in stanzas:
        if stanza.word != "iface" or stanza.family != "inet6":
            continue
        options = [(n, v) for n, v in stanza.options if n not in DNS_OPTIONS]
        if stanza.method == "manual" and not options:
            continue
        block = f"\niface {bridge} inet6 {stanza.method}\n" + "".join(
            f"    {name} {value}\n" for name, value in options
        )
        if block not in blocks:
            blocks.append(block)
    if not blocks:
        return text
    return (text if text.endswith("\n") else text + "\n") + "".join(blocks)


@dataclass(frozen=True)
class Tool:
    """The ifupdown that applies the files, and how it answers for itself."""

    name: str = "ifupdown"
    version_command: str = "ifup -V"
    # What the first line of its version says when it is this tool.
    version_says: str = "ifup version"


def preflight(host: str, output: str, files: Mapping[str, str], tool: Tool = Tool()) -> Preflight:
    """The tool installed; /etc/network/interfaces sourcing our file; no other stanza for
    our bridges; the stanzas that configure our ports now taken out of their files."""
    version, sep, dump = output.partition(f"{MARK}\n")
    if not sep or tool.version_says not in version:
        said = version.strip() or "no output"
        return Preflight(
            problems=(f"{host}: {tool.name} does not answer ({said}): is it installed?",)
        )
    try:
        read = parse_dump(dump)
        parsed = {path: parse_stanzas(path, text) for path, text in read.items()}
    except InterfacesError as exc:
        return Preflight(problems=(f"{host}: {exc}",))
    if INTERFACES not in read:
        return Preflight(problems=(f"{host}: there is no {INTERFACES}: is ifupdown in use?",))
    problems: list[str] = []
    if not sources(read, OWN_FILE):
        problems.append(
            f"{host}: {INTERFACES} does not source {OWN_FILE}, where hvbridge writes its"
            f" stanzas: add `source {INTERFACES_D}/*` (Debian's default) to it"
        )
    port_of, bridges = _ours(files)
    old: dict[str, list[Stanza]] = {}  # path -> the port stanzas in it
    for path, stanzas in parsed.items():
        if path in files:
            continue
        for stanza in stanzas:
            if stanza.word != "iface":
                continue
            if stanza.name in bridges:
                problems.append(
                    f"{host}: {path} also configures {stanza.name} (iface {stanza.name}"
                    f" {stanza.family} {stanza.method}): remove it, hvbridge writes its own"
                )
            elif stanza.name in port_of:
                old.setdefault(path, []).append(stanza)
    if problems:
        return Preflight(problems=tuple(problems))
    rewritten: dict[str, str] = {}
    notes: list[str] = []
    for path, stanzas in old.items():
        names = sorted({stanza.name for stanza in stanzas})
        rewritten[path] = without_ifaces(read[path], names, path)
        notes.append(f"the stanza of {', '.join(names)} out of {path}")
    # DNS the ports' old stanzas gave, or (on a rerun, they are gone) what our file says.
    for path, text in files.items():
        new = text
        for bridge in bridges:
            ports = [port for port, owner in port_of.items() if owner == bridge]
            dns = _dns(s for stanzas in old.values() for s in stanzas if s.name in ports)
            if not dns and path in read:
                dns = _dns(s for s in parsed[path] if s.word == "iface" and s.name == bridge)
            new = with_options(new, bridge, dns, path)
            # IPv6 likewise: the ports' inet6 stanzas, or (a rerun) our file's own.
            inet6 = [s for stanzas in old.values() for s in stanzas if s.name in ports]
            if not any(s.family == "inet6" for s in inet6) and path in read:
                inet6 = [s for s in parsed[path] if s.word == "iface" and s.name == bridge]
            new = with_inet6(new, bridge, inet6)
        if new != text:
            rewritten[path] = new
    return Preflight(rewritten=rewritten, notes=(version.strip(), *notes))


def inventory_problems(data: Any) -> list[Finding]:
    """What hvbridge does not write to interfaces files yet."""
    found: list[Finding] = []
    ports = {port for bridge in data.bridges.values() for port in bridge.ports}
    for name, nic in data.nics.items():
        if name not in ports:
            found.append((("nics", name), f"{name!r}: a NIC outside a bridge is not written"
                          " on ifupdown platforms yet"))  # fmt: skip
        if nic.mtu is not None:
            found.append((("nics", name, "mtu"), "a port's mtu is the bridge's on ifupdown:"
                          " set the bridge's"))  # fmt: skip
    for name, bridge in data.bridges.items():
        if bridge.bootproto == "dhcp" and not bridge.defroute:
            found.append((("bridges", name, "defroute"), "ifupdown takes the DHCP server's"
                          " default route: defroute: false is not written for dhcp"))  # fmt: skip
    return found


@dataclass(frozen=True, eq=False)
class Ifupdown:
    """An ifupdown platform; `libvirt_units`: the systemd units that `libvirtd` means."""

    name: str
    libvirt_units: Sequence[str] = ("libvirtd",)
    ssh_disabled_algorithms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    config_dir: str = INTERFACES_D
    state_command: str = STATE_COMMAND
    file_mode: int = 0o644
    restart_diagnostics: str = ""
    tool: Tool = Tool()
    # Shell that applies the files (restart), and the guard's revert: stop with the files
    # as they are, then start on the restored ones.
    restart: str = RESTART
    revert: tuple[str, str] = (REVERT_STOP, UP)

    @property
    def template_dirs(self) -> tuple[str, ...]:
        return (self.name, "ifupdown")

    def render(self, templates: Path, model: Any) -> dict[str, str]:
        return render_files(templates, self.template_dirs, model)

    def conflict_candidates(self, ours: Iterable[str], names: Iterable[str]) -> list[str]:
        # ifupdown reads what /etc/network/interfaces sources: preflight follows it.
        return []

    def conflicts(self, ours: Iterable[str], existing: Mapping[str, str]) -> list[str]:
        return []

    @property
    def preflight_command(self) -> str:
        return preflight_command(self.tool.version_command)

    def preflight(
        self, host: str, output: str, files: Mapping[str, str], existing: Mapping[str, str]
    ) -> Preflight:
        return preflight(host, output, files, self.tool)

    def checkpoint(self, directory: str, seconds: int) -> Checkpoint | None:
        return None

    def network_command(self, action: NetworkAction) -> str:
        stop, start = self.revert
        return {"restart": self.restart, "stop": stop, "start": start}[action]

    def revert_commands(self) -> tuple[str, str]:
        return self.revert

    def service_command(self, service: str, action: ServiceAction) -> str:
        units = self.libvirt_units if service == "libvirtd" else (service,)
        return f"systemctl {action} {' '.join(shlex.quote(unit) for unit in units)}"

    def inventory_problems(self, data: Any) -> list[Finding]:
        return inventory_problems(data)
