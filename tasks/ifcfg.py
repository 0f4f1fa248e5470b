"""Render the host's ifcfg files and push only what differs, atomically."""

from __future__ import annotations

import difflib
import posixpath

from nornir.core.task import Result, Task

from hvbridge import remote
from hvbridge.hostrun import HostRun
from hvbridge.hoststate import mac_mismatches
from hvbridge.ifcfg import IfcfgError, ignored_config_name, parse_ifcfg
from hvbridge.render import SCRIPTS_DIR, ifcfg_files
from hvbridge.ssh import SSHError


def render(task: Task, ctx: HostRun) -> Result:
    """ifcfg files for the host's bridges and NICs, from templates/<platform>|common."""
    ctx.rendered = ifcfg_files(ctx.templates, ctx.platform, ctx.model)
    names = ", ".join(posixpath.basename(p) for p in sorted(ctx.rendered))
    return Result(host=task.host, result=f"rendered {names}")


def _diff(path: str, old: str | None, new: str) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=path if old is not None else "/dev/null",
        tofile=path,
    )
    return "".join(lines)


def _conflicts(task: Task, ctx: HostRun) -> list[str]:
    """Other ifcfg files that initscripts would also apply to the devices we write."""
    conn = ctx.connect(task)
    ours = {posixpath.basename(p) for p in ctx.rendered}
    devices = {name.removeprefix("ifcfg-") for name in ours}
    problems = []
    for name in remote.list_dir(conn, SCRIPTS_DIR):
        if not name.startswith("ifcfg-") or name in ours or ignored_config_name(name):
            continue
        path = f"{SCRIPTS_DIR}/{name}"
        text = remote.read(conn, path).content or ""
        try:
            device = parse_ifcfg(text, path).get("DEVICE", name.removeprefix("ifcfg-"))
        except IfcfgError:
            continue
        if device in devices:
            problems.append(
                f"{path} also configures DEVICE={device}: remove it, or rename it so that"
                " initscripts ignore it (e.g. with a .bak suffix)"
            )
    return problems


def _leftover_temps(task: Task, ctx: HostRun) -> list[str]:
    """Temp files of a push that was killed before it renamed them (never read by
    initscripts: they start with a dot), removed unless in check mode."""
    conn = ctx.connect(task)
    found = [
        f"{SCRIPTS_DIR}/{name}"
        for name in remote.list_dir(conn, SCRIPTS_DIR)
        if name.startswith(".") and name.endswith(remote.TEMP_SUFFIX)
    ]
    if found and not ctx.check and not remote.remove(conn, found):
        raise SSHError(f"{conn.label}: cannot remove {', '.join(found)}")
    return found


def push(task: Task, ctx: HostRun) -> Result:
    """Write the rendered files that differ from the host's (check mode: only diff)."""
    if not ctx.rendered:
        return Result(
            host=task.host, failed=True, result="nothing rendered: run ifcfg.render first"
        )
    conflicts = _conflicts(task, ctx)
    if conflicts:
        return Result(host=task.host, failed=True, result="\n".join(conflicts))
    # Before anything changes: a NIC whose MAC is not the inventory's would not come up.
    mismatches = mac_mismatches(task.host.name, ctx.model, ctx.network_state(task)[0])
    if mismatches:
        return Result(host=task.host, failed=True, result="\n".join(mismatches))
    leftovers = _leftover_temps(task, ctx)
    conn = ctx.connect(task)
    diffs, writes = [], {}
    for path, content in sorted(ctx.rendered.items()):
        current = remote.read(conn, path)
        if current.content != content:
            diffs.append(_diff(path, current.content, content))
            writes[path] = content
    if writes and not ctx.check:
        remote.write_all_atomic(conn, writes, ctx.run_id)
    changed = [posixpath.basename(path) for path in writes]
    ctx.network_changed += changed
    verb = "would write" if ctx.check else "wrote"
    summary = f"{verb} {', '.join(changed)}" if changed else "all files already as rendered"
    if leftovers:
        names = ", ".join(posixpath.basename(path) for path in leftovers)
        removed = "would remove" if ctx.check else "removed"
        summary += f"; {removed} {names} (left by a push that was interrupted)"
    return Result(
        host=task.host,
        changed=bool(changed or leftovers),
        diff="".join(diffs),
        result=summary,
    )
