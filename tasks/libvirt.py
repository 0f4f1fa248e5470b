"""Guests onto the bridge, the NAT network `default` gone, libvirtd restarted: the seed's
steps 5 to 7. Domain XML is edited with hvbridge.domainxml, never by string editing."""

from __future__ import annotations

import posixpath
import shlex
import time

from nornir.core.task import Result, Task

from hvbridge import remote
from hvbridge.domainxml import DomainXmlError, WantedInterface, edit_interfaces, interfaces
from hvbridge.hostrun import HostRun
from hvbridge.hosttask import host_task, read_only
from hvbridge.results import Guests, Problems, Said, Verified
from hvbridge.ssh import Connection
from hvbridge.virsh import (
    QEMU_DIR,
    VirshError,
    check_running,
    domain_names,
    domain_state,
    domiflist,
    dumpxml,
    net_info,
    virsh,
    wait_ready,
)

NAT_NETWORK = "default"


def _wanted(ctx: HostRun, domain: str) -> list[WantedInterface]:
    wanted = []
    for iface in ctx.model.guests[domain].interfaces:
        pci = None
        if iface.address is not None:
            a = iface.address
            pci = (a.domain, a.bus, a.slot, a.function)
        wanted.append(WantedInterface(iface.bridge, iface.mac.lower(), iface.model, pci))
    return wanted


def _domain_xml(conn: Connection, ctx: HostRun, domain: str) -> str:
    if ctx.model.libvirt.edit_mode == "file":
        content = remote.read(conn, f"{QEMU_DIR}/{domain}.xml").content
        if content is None:
            raise VirshError(f"{conn.label}: {QEMU_DIR}/{domain}.xml does not exist")
        return content
    return dumpxml(conn, domain)


@read_only
def preflight(task: Task, ctx: HostRun) -> Result:
    """Before anything changes: libvirtd answers, every domain exists and its edit is
    possible (no PCI clash), no other domain uses a wanted MAC or still needs `default`."""
    if not ctx.model.guests and not ctx.model.removes_default_network:
        said = "no guests and no NAT removal: nothing to check"
        return Result(host=task.host, result=Said(said))
    conn = ctx.connect(task)
    check_running(conn, ctx.platform)
    present = domain_names(conn)
    listed = ", ".join(present) or "none"
    problems = [
        f"domain {name} does not exist on this host (virsh list --all: {listed})"
        for name in ctx.model.guests
        if name not in present
    ]
    wanted_macs = {
        i.mac.lower(): name for name, g in ctx.model.guests.items() for i in g.interfaces
    }
    for name in present:
        xml = dumpxml(conn, name)
        if name in ctx.model.guests:
            try:
                edit_interfaces(xml, _wanted(ctx, name))
            except DomainXmlError as exc:
                problems.append(str(exc))
            continue
        for iface in interfaces(xml):
            owner = wanted_macs.get(iface.mac.lower()) if iface.mac else None
            if owner:
                problems.append(f"MAC {iface.mac} of {owner} is already used by domain {name}")
            if (
                ctx.model.removes_default_network
                and iface.source == NAT_NETWORK
                and iface.type == "network"
            ):
                problems.append(
                    f"domain {name} (not in the inventory) still uses network {NAT_NETWORK}:"
                    " add it to guests, or set libvirt.remove_default_network: false"
                )
    if problems:
        return Result(host=task.host, failed=True, result=Problems.of(problems))
    said = f"checked {len(ctx.model.guests)} guest(s); libvirtd answers"
    return Result(host=task.host, result=Verified(said, tuple(ctx.model.guests)))


@host_task
def edit_domains(task: Task, ctx: HostRun) -> Result:
    """Each guest's interfaces onto its bridge, same MAC; `virsh define` (or the file)."""
    conn = ctx.connect(task)
    diffs: list[str] = []
    actions: list[str] = []
    for name in ctx.model.guests:
        edit = edit_interfaces(_domain_xml(conn, ctx, name), _wanted(ctx, name))
        if not edit.changed:
            continue
        diffs.append(edit.diff)
        actions += edit.actions
        ctx.changes.guests.append(name)
        if ctx.check:
            continue
        if ctx.model.libvirt.edit_mode == "file":
            remote.write_atomic(conn, f"{QEMU_DIR}/{name}.xml", edit.xml, ctx.run_id, 0o600)
            ctx.changes.libvirtd_restart_for.append(f"{name}.xml edited")
        else:
            staged = f"{remote.run_dir(ctx.run_id)}/{name}.xml"
            conn.run(f"mkdir -p {shlex.quote(posixpath.dirname(staged))}")
            remote.upload(conn, staged, edit.xml, 0o600)
            virsh(conn, "define", staged)
    if not actions:
        return Result(host=task.host, result=Guests("every guest already on its bridge"))
    verb = "would change" if ctx.check else "changed"
    said = f"{verb}: " + "; ".join(actions)
    return Result(
        host=task.host,
        changed=True,
        diff="".join(diffs),
        result=Guests(said, tuple(ctx.changes.guests), tuple(actions)),
    )


@host_task
def remove_default_network(task: Task, ctx: HostRun) -> Result:
    """virsh net-destroy, net-autostart --disable, net-undefine `default`, as needed."""
    if not ctx.model.removes_default_network:
        return Result(host=task.host, result=Said(f"network {NAT_NETWORK} kept (by the inventory)"))
    conn = ctx.connect(task)
    info = net_info(conn, NAT_NETWORK)
    if info is None:
        return Result(host=task.host, result=Said(f"network {NAT_NETWORK} already absent"))
    steps: list[tuple[str, ...]] = []
    if info.active:
        steps.append(("net-destroy", NAT_NETWORK))
    if info.persistent and info.autostart:
        steps.append(("net-autostart", "--disable", NAT_NETWORK))
    if info.persistent:
        steps.append(("net-undefine", NAT_NETWORK))
    done = ", ".join(step[0] for step in steps)
    actions = tuple(" ".join(step) for step in steps)
    if ctx.check:
        said = f"would run virsh {done}"
        return Result(host=task.host, changed=True, result=Guests(said, (), actions))
    for step in steps:
        virsh(conn, *step)
    ctx.changes.libvirtd_restart_for.append(f"network {NAT_NETWORK} removed")
    return Result(host=task.host, changed=True, result=Guests(f"virsh {done}", (), actions))


@host_task
def restart_libvirtd(task: Task, ctx: HostRun, force: bool = False) -> Result:
    """Restart libvirtd when this run needs it (or force), then wait until virsh answers."""
    reasons = ctx.changes.libvirtd_restart_for or (["forced"] if force or ctx.force else [])
    if not reasons:
        said = "not needed: nothing this run changed needs it"
        return Result(host=task.host, result=Said(said))
    if ctx.check:
        said = f"would restart libvirtd ({', '.join(reasons)})"
        return Result(host=task.host, changed=True, result=Said(said))
    conn = ctx.connect(task)
    command = ctx.platform.service_command("libvirtd", "restart")
    result = conn.run(command)
    if not result.ok:
        said = (result.stdout + result.stderr).strip()
        return Result(host=task.host, failed=True, result=Said(f"{command} failed: {said}"))
    took = wait_ready(conn, ctx.model.libvirt.restart_timeout)
    said = f"libvirtd restarted ({', '.join(reasons)}); virsh answered after {took:.1f}s"
    return Result(host=task.host, changed=True, result=Said(said))


def _stop(conn: Connection, name: str, timeout: float) -> str:
    virsh(conn, "shutdown", name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if domain_state(conn, name) == "shut off":
            return "shut down"
        time.sleep(0.5)
    virsh(conn, "destroy", name)
    return f"destroyed after {timeout:.0f}s"


@host_task
def restart_guests(task: Task, ctx: HostRun) -> Result:
    """With libvirt.restart_guests: running guests whose definition changed are shut down
    (destroyed after shutdown_timeout) and started, so their taps join the bridge."""
    if not ctx.model.libvirt.restart_guests:
        return Result(host=task.host, result=Said("not asked (libvirt.restart_guests is false)"))
    conn = ctx.connect(task)
    running = set(domain_names(conn, running_only=True))
    chosen = [name for name in ctx.changes.guests if name in running]
    if not chosen:
        return Result(host=task.host, result=Guests("no running guest was changed"))
    if ctx.check:
        said = f"would restart {', '.join(chosen)}"
        return Result(host=task.host, changed=True, result=Guests(said, tuple(chosen)))
    done = []
    for name in chosen:
        how = _stop(conn, name, ctx.model.libvirt.shutdown_timeout)
        virsh(conn, "start", name)
        done.append(f"{name} ({how}, started)")
    said = "restarted " + "; ".join(done)
    return Result(host=task.host, changed=True, result=Guests(said, tuple(chosen), tuple(done)))


@read_only
def verify(task: Task, ctx: HostRun) -> Result:
    """Inactive XML has each interface on its bridge; running guests' taps are in
    `brctl show` under it; `default` is gone when it should be."""
    if ctx.check and (ctx.changes.guests or ctx.changes.libvirtd_restart_for):
        said = "check mode: not verified (nothing was applied)"
        return Result(host=task.host, result=Said(said))
    conn = ctx.connect(task)
    problems: list[str] = []
    ports = {b.name: set(b.ports) for b in ctx.network_state(task)[0].bridges}
    running = set(domain_names(conn, running_only=True))
    for name in ctx.model.guests:
        defined = {i.mac.lower(): i for i in interfaces(dumpxml(conn, name)) if i.mac}
        taps = {row.mac: row.target for row in domiflist(conn, name)} if name in running else {}
        for want in _wanted(ctx, name):
            have = defined.get(want.mac)
            if have is None or have.type != "bridge" or have.source != want.bridge:
                problems.append(f"{name}: interface {want.mac} is not on bridge {want.bridge}")
            elif name in running and taps.get(want.mac) not in ports.get(want.bridge, set()):
                problems.append(
                    f"{name}: running, but its tap {taps.get(want.mac, '?')} for {want.mac} is not"
                    f" under {want.bridge} in brctl show (restart the guest to move it)"
                )
    if ctx.model.removes_default_network and net_info(conn, NAT_NETWORK) is not None:
        problems.append(f"network {NAT_NETWORK} is still defined (virsh net-list --all)")
    if problems:
        return Result(host=task.host, failed=True, result=Problems.of(problems))
    said = f"verified {len(ctx.model.guests)} guest(s)"
    return Result(host=task.host, result=Verified(said, tuple(ctx.model.guests)))
