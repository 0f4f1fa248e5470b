"""The network files of ifupdown (Debian): stanzas in /etc/network/interfaces and the files
it sources, applied by `ifdown` and `ifup`.

hvbridge writes a file of its own, `/etc/network/interfaces.d/hvbridge`, which
/etc/network/interfaces must source (Debian's default does: `source
/etc/network/interfaces.d/*`): each bridge and the chain under it, bottom up
(hvbridge.platforms.ifupdown_stanzas: NICs `inet manual`, bonds, VLANs, the bridge with
STP and forward delay always written, the default route on the bridge, the bridge's MAC its
first port's). The `iface` stanzas that configure one of those devices now (a port, a
bond's slave, the second NIC), in whatever file ifupdown reads them from, are taken out of
that file and every other byte of it left as it was; the file is kept for the revert like
every file a run replaces. What the inventory does not set on a bridge the host keeps: the
DNS options of those old stanzas (`dns-nameservers`, `dns-search`) go to the bridge's
stanza, so that resolvconf keeps the servers, and their `inet6` stanzas become the
bridge's (same method, same options: addresses, gateway, `accept_ra`, `autoconf`), so that
IPv6 and router advertisements stay as they were.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hvbridge.platforms import devices
from hvbridge.platforms.base import Checkpoint, Finding, NetworkAction, Preflight, ServiceAction
from hvbridge.platforms.ifupdown_stanzas import stanzas
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
# Said before MARK when the tool's bond helper is not installed.
NO_BONDS = "@@hvbridge-no-bond-helper@@"
DNS_OPTIONS = ("dns-nameservers", "dns-search")
FLUSH_IPV6 = "ip -6 addr flush dev"
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


@dataclass(frozen=True)
class Dialect:
    """How one ifupdown writes what the other writes too."""

    # bridge-utils' option names (ifupdown) or ifupdown2's: ports, MAC, STP, forward delay.
    bridge_ports: str = "bridge_ports"
    bridge_hw: str = "bridge_hw"
    bridge_stp: str = "bridge_stp"
    bridge_fd: str = "bridge_fd"
    # ifupdown2 has no `inet6 auto` method (`unsupported address method 'auto'`).
    inet6_auto: bool = True
    # ifenslave (ifupdown) enslaves a NIC that comes up on its own (`allow-hotplug`) only
    # when its stanza names the bond; ifupdown2 enslaves the bond's `bond-slaves` itself.
    bond_master: bool = True
    # ifupdown creates a VLAN only from a dotted name (`bond0.100`); ifupdown2 also from
    # `vlan-raw-device` and `vlan-id`.
    named_vlans: bool = False
    # The largest `bond-miimon` the tool accepts (ifupdown2 validates 0..255).
    max_miimon: int | None = None


def render_files(
    templates: Path, search: tuple[str, ...], model: Any, dialect: Dialect = Dialect()
) -> dict[str, str]:
    """One file of hvbridge's own with every bridge and the chain under it: path -> content."""
    attribute = {
        "ports": dialect.bridge_ports,
        "hw": dialect.bridge_hw,
        "stp": dialect.bridge_stp,
        "fd": dialect.bridge_fd,
    }
    devices = [
        replace(device, master=None) if not dialect.bond_master else device
        for device in stanzas(model)
    ]
    text = render(templates, search, "interfaces.j2", FILTERS, devices=devices, attribute=attribute)
    return {OWN_FILE: text}


def preflight_command(version_command: str = "ifup -V", bond_helper: str | None = None) -> str:
    missing = f"[ -e {bond_helper} ] || echo {NO_BONDS}; " if bond_helper else ""
    return f"{{ {version_command}; }} 2>&1 | head -n 1; {missing}echo {MARK}; {DUMP_COMMAND}"


@dataclass(frozen=True)
class _Ours:
    """What our rendered file configures: each device under a bridge -> that bridge (the
    first one, in file order, when two share it), and each bridge -> whether the inventory
    already set its DNS and its IPv6 (then nothing of the host's is carried to it)."""

    owner: dict[str, str]
    bridges: dict[str, tuple[bool, bool]]
    bonds: list[str]


def _ours(files: Mapping[str, str]) -> _Ours:
    iface: dict[str, dict[str, str]] = {}  # name -> its options, `-` spelt `_`
    families: dict[str, set[str]] = {}
    for path, text in files.items():
        for stanza in parse_stanzas(path, text):
            if stanza.word == "iface":
                # ifupdown2 reads `bridge-ports` and `bridge_ports` alike.
                options = {name.replace("-", "_"): value for name, value in stanza.options}
                iface.setdefault(stanza.name, {}).update(options)
                families.setdefault(stanza.name, set()).add(stanza.family)
    owner: dict[str, str] = {}
    bridges: dict[str, tuple[bool, bool]] = {}
    for name, options in iface.items():
        if "bridge_ports" not in options:
            continue
        bridges[name] = (any(o in options for o in ("dns_nameservers", "dns_search")),
                         "inet6" in families[name])  # fmt: skip
        todo = options["bridge_ports"].split()
        while todo:
            device = todo.pop(0)
            if device in owner or device in bridges:
                continue
            owner[device] = name
            below = iface.get(device, {})
            todo += below.get("bond_slaves", "").split()
            parent = below.get("vlan_raw_device") or (device.rpartition(".")[0] or None)
            if parent is not None and parent in iface:
                todo.append(parent)
    # A device of ours outside every chain (none is rendered so) still is ours.
    owner.update({name: name for name in iface if name not in owner and name not in bridges})
    bonds = [name for name, options in iface.items() if "bond_slaves" in options]
    return _Ours(owner=owner, bridges=bridges, bonds=bonds)


def _dns(stanzas: Iterable[Stanza]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for stanza in stanzas:
        found += [(n, v) for n, v in stanza.options if n in DNS_OPTIONS and (n, v) not in found]
    return found


def _flushes(old: Iterable[Stanza], previous: Iterable[Stanza]) -> list[tuple[str, str]]:
    """For each device whose old stanza gave it a static IPv6 address, a `pre-up` of its
    bridge that flushes it: the device goes down by its new `inet manual` stanza, which
    flushes only IPv4, and an address left on a bridge port holds the route to its prefix
    away from the bridge. On a rerun (the old stanzas gone), the ones our file has."""
    found = [("pre-up", f"{FLUSH_IPV6} {s.name} scope global") for s in old
             if s.family == "inet6" and s.method == "static"]  # fmt: skip
    if not found:
        found = [(n, v) for s in previous if s.family == "inet" for n, v in s.options
                 if n == "pre-up" and v.startswith(FLUSH_IPV6)]  # fmt: skip
    return list(dict.fromkeys(found))


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
    # ifupdown makes bonds through a hook of another package (ifenslave's); None: the
    # tool makes them itself (ifupdown2).
    bond_helper: str | None = "/etc/network/if-pre-up.d/ifenslave"
    bond_package: str = "ifenslave"


def preflight(host: str, output: str, files: Mapping[str, str], tool: Tool = Tool()) -> Preflight:
    """The tool installed; /etc/network/interfaces sourcing our file; no other stanza for
    our bridges; the stanzas that configure our ports now taken out of their files."""
    said, sep, dump = output.partition(f"{MARK}\n")
    version, _, rest = said.partition("\n")
    if not sep or tool.version_says not in version:
        answer = version.strip() or "no output"
        return Preflight(
            problems=(f"{host}: {tool.name} does not answer ({answer}): is it installed?",)
        )
    try:
        read = parse_dump(dump)
        parsed = {path: parse_stanzas(path, text) for path, text in read.items()}
    except InterfacesError as exc:
        return Preflight(problems=(f"{host}: {exc}",))
    if INTERFACES not in read:
        return Preflight(problems=(f"{host}: there is no {INTERFACES}: is ifupdown in use?",))
    problems: list[str] = []
    ours = _ours(files)
    if NO_BONDS in rest and ours.bonds:
        problems.append(
            f"{host}: {tool.name} makes no bond without {tool.bond_package}, which is not"
            f" installed: install it (apt-get install {tool.bond_package}) before a bond"
            f" ({', '.join(ours.bonds)}) is written"
        )
    if not sources(read, OWN_FILE):
        problems.append(
            f"{host}: {INTERFACES} does not source {OWN_FILE}, where hvbridge writes its"
            f" stanzas: add `source {INTERFACES_D}/*` (Debian's default) to it"
        )
    old: dict[str, list[Stanza]] = {}  # path -> the stanzas of our devices in it
    for path, stanzas_ in parsed.items():
        if path in files:
            continue
        for stanza in stanzas_:
            if stanza.word != "iface":
                continue
            if stanza.name in ours.bridges:
                problems.append(
                    f"{host}: {path} also configures {stanza.name} (iface {stanza.name}"
                    f" {stanza.family} {stanza.method}): remove it, hvbridge writes its own"
                )
            elif stanza.name in ours.owner:
                old.setdefault(path, []).append(stanza)
    if problems:
        return Preflight(problems=tuple(problems))
    rewritten: dict[str, str] = {}
    notes: list[str] = []
    for path, stanzas_ in old.items():
        names = sorted({stanza.name for stanza in stanzas_})
        rewritten[path] = without_ifaces(read[path], names, path)
        notes.append(f"the stanza of {', '.join(names)} out of {path}")
    # What the inventory does not set on a bridge, the host keeps: the DNS and the inet6
    # stanzas of the old stanzas of the devices under it, or (on a rerun, they are gone)
    # what our file on the host says.
    for path, text in files.items():
        new = text
        for bridge, (has_dns, has_inet6) in ours.bridges.items():
            below = [s for stanzas_ in old.values() for s in stanzas_
                     if ours.owner.get(s.name) == bridge]  # fmt: skip
            previous = [s for s in parsed.get(path, []) if s.word == "iface" and s.name == bridge]
            if not has_dns:
                new = with_options(new, bridge, _dns(below) or _dns(previous), path)
            new = with_options(new, bridge, _flushes(below, previous), path)
            if not has_inet6:
                inet6 = below if any(s.family == "inet6" for s in below) else previous
                new = with_inet6(new, bridge, inet6)
        if new != text:
            rewritten[path] = new
    return Preflight(rewritten=rewritten, notes=(version.strip(), *notes))


def inventory_problems(data: Any, dialect: Dialect = Dialect()) -> list[Finding]:
    """What hvbridge does not write to interfaces files (yet), or the tool would refuse."""
    found: list[Finding] = []
    used = {device for name in data.bridges for device in devices.chain(data, name)}
    tables = (("nics", "NIC"), ("bonds", "bond"), ("vlans", "VLAN"))
    for table, what in tables:
        for name in getattr(data, table, None) or {}:
            if name not in used:
                found.append(((table, name), f"{name!r}: a {what} outside a bridge is not"
                              " written on ifupdown platforms yet"))  # fmt: skip
    for name, vlan in (getattr(data, "vlans", None) or {}).items():
        dotted = name == f"{vlan.parent}.{vlan.id}"
        if not dotted and ("." in name or not dialect.named_vlans):
            found.append((("vlans", name), f"ifupdown creates a VLAN from its name: call it"
                          f" {vlan.parent}.{vlan.id}"))  # fmt: skip
    for name, bond in (getattr(data, "bonds", None) or {}).items():
        if dialect.max_miimon is not None and bond.miimon > dialect.max_miimon:
            found.append((("bonds", name, "miimon"), f"ifupdown2 takes a bond-miimon of 0 to"
                          f" {dialect.max_miimon} ms"))  # fmt: skip
    for name, bridge in data.bridges.items():
        if bridge.bootproto == "dhcp" and not bridge.defroute:
            found.append((("bridges", name, "defroute"), "ifupdown takes the DHCP server's"
                          " default route: defroute: false is not written for dhcp"))  # fmt: skip
        autoconf = getattr(bridge, "ipv6_autoconf", None)
        if getattr(bridge, "ipv6addr", None) is None and autoconf and not dialect.inet6_auto:
            found.append((("bridges", name, "ipv6_autoconf"), "ifupdown2 has no inet6 auto"
                          " method: set ipv6addr too, or leave ipv6_autoconf unset (the"
                          " kernel's default accepts router advertisements)"))  # fmt: skip
        if getattr(bridge, "ipv6addr", None) is None:
            # accept_ra and the IPv6 gateway are options of an `inet6 static` stanza.
            if getattr(bridge, "ipv6_autoconf", None) is False:
                found.append((("bridges", name, "ipv6_autoconf"), "ifupdown turns router"
                              " advertisements off in an inet6 static stanza: set ipv6addr"
                              " too"))  # fmt: skip
            if getattr(bridge, "ipv6_gateway", None) is not None:
                found.append((("bridges", name, "ipv6_gateway"), "ifupdown writes an IPv6"
                              " gateway in an inet6 static stanza: set ipv6addr too"))  # fmt: skip
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
    dialect: Dialect = Dialect()
    # Shell that applies the files (restart), and the guard's revert: stop with the files
    # as they are, then start on the restored ones.
    restart: str = RESTART
    revert: tuple[str, str] = (REVERT_STOP, UP)

    @property
    def template_dirs(self) -> tuple[str, ...]:
        return (self.name, "ifupdown")

    def render(self, templates: Path, model: Any) -> dict[str, str]:
        return render_files(templates, self.template_dirs, model, self.dialect)

    def conflict_candidates(self, ours: Iterable[str], names: Iterable[str]) -> list[str]:
        # ifupdown reads what /etc/network/interfaces sources: preflight follows it.
        return []

    def conflicts(self, ours: Iterable[str], existing: Mapping[str, str]) -> list[str]:
        return []

    @property
    def preflight_command(self) -> str:
        return preflight_command(self.tool.version_command, self.tool.bond_helper)

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
        return inventory_problems(data, self.dialect)
