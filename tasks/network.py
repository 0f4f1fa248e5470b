"""The host's network: its files rendered and pushed (only what differs, atomically), then
the network restarted, guarded by an on-host revert, when a network file changed or the
host does not run what its files describe. What the files are and how the network is
restarted is the host's platform's (hvbridge.platforms)."""

from __future__ import annotations

import difflib
import posixpath
from typing import Annotated

from nornir.core.task import Result, Task
from pydantic import Field

from hvbridge import remote
from hvbridge.apply import guarded_restart
from hvbridge.hostrun import HostRun
from hvbridge.hoststate import expected_bridges, mac_mismatches
from hvbridge.hosttask import files_only, host_task, read_only
from hvbridge.netstate import verify
from hvbridge.platforms.base import Preflight
from hvbridge.results import Applied, Problems, Pushed, Rendered, Said, Steps
from hvbridge.ssh import SSHError

from . import bridge as bridge_tasks
from . import facts as facts_tasks


@read_only
def render(task: Task, ctx: HostRun) -> Result:
    """The network files for the host's bridges and NICs, from the platform's templates."""
    ctx.rendered = ctx.platform.render(ctx.templates, ctx.model)
    names = ", ".join(posixpath.basename(p) for p in sorted(ctx.rendered))
    return Result(host=task.host, result=Rendered(f"rendered {names}", dict(ctx.rendered)))


def _diff(path: str, old: str | None, new: str | None) -> str:
    """None: the file does not exist (before), or is removed (after)."""
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile=path if old is not None else "/dev/null",
        tofile=path if new is not None else "/dev/null",
    )
    return "".join(lines)


def _existing(task: Task, ctx: HostRun, names: list[str]) -> dict[str, str | None]:
    """The other files of the platform's config directory that it reads to find conflicts
    (`names`: the directory's listing), each None when missing."""
    conn = ctx.connect(task)
    candidates = ctx.platform.conflict_candidates(ctx.rendered, names)
    return {path: remote.read(conn, path).content for path in candidates}


def _preflight(task: Task, ctx: HostRun, existing: dict[str, str]) -> Preflight:
    """The platform's view of the host before anything changes (EL7: NetworkManager runs;
    EL8/9: the profiles that own our ports now)."""
    command = ctx.platform.preflight_command
    output = ctx.connect(task).run(command).stdout if command else ""
    return ctx.platform.preflight(task.host.name, output, ctx.rendered, existing)


def _leftover_temps(task: Task, ctx: HostRun, names: list[str]) -> list[str]:
    """Temp files of a push that was killed before it renamed them (never read by the
    network service: they start with a dot), removed unless in check mode."""
    conn = ctx.connect(task)
    directory = ctx.platform.config_dir
    found = [
        f"{directory}/{name}"
        for name in names
        if name.startswith(".") and name.endswith(remote.TEMP_SUFFIX)
    ]
    if found and not ctx.check and not remote.remove(conn, found):
        raise SSHError(f"{conn.label}: cannot remove {', '.join(found)}")
    return found


@files_only
def push(task: Task, ctx: HostRun) -> Result:
    """Write the rendered files that differ from the host's (check mode: only diff)."""
    if not ctx.rendered:
        return Result(
            host=task.host, failed=True, result=Said("nothing rendered: run network.render first")
        )
    # The directory listed once, and each file read once, for the conflict check and the
    # diff alike: nothing writes there in between (each SFTP request costs a round trip).
    names = remote.list_dir(ctx.connect(task), ctx.platform.config_dir)
    read_now = _existing(task, ctx, names)
    existing = {path: content or "" for path, content in read_now.items()}
    found = _preflight(task, ctx, existing)
    conflicts = ctx.platform.conflicts(ctx.rendered, existing) + list(found.problems)
    if conflicts:
        return Result(host=task.host, failed=True, result=Problems.of(conflicts))
    # Before anything changes: a NIC whose MAC is not the inventory's would not come up.
    mismatches = mac_mismatches(task.host.name, ctx.model, ctx.network_state(task)[0])
    if mismatches:
        return Result(host=task.host, failed=True, result=Problems.of(mismatches))
    leftovers = _leftover_temps(task, ctx, names)
    conn = ctx.connect(task)

    def current(path: str) -> str | None:
        if path not in read_now:
            read_now[path] = remote.read(conn, path).content
        return read_now[path]

    diffs, writes = [], {}
    # What the platform rewrites besides (a file less a port's old stanza) is written,
    # and kept for the revert, as what it renders.
    for path, content in sorted({**ctx.rendered, **found.rewritten}.items()):
        now = current(path)
        if now != content:
            diffs.append(_diff(path, now, content))
            writes[path] = content
    # Files that would configure our devices besides ours go, kept for the revert.
    diffs += [_diff(path, current(path), None) for path in found.displaced]
    if writes and not ctx.check:
        remote.write_all_atomic(conn, writes, ctx.run_id, ctx.platform.file_mode)
    if found.displaced and not ctx.check:
        remote.remove_kept(conn, list(found.displaced), ctx.run_id)
    changed = [posixpath.basename(path) for path in writes]
    ctx.changes.network_files += changed + [posixpath.basename(p) for p in found.displaced]
    verb = "would write" if ctx.check else "wrote"
    summary = f"{verb} {', '.join(changed)}" if changed else "all files already as rendered"
    if found.displaced:
        verb = "would take" if ctx.check else "took"
        summary += f"; {verb} {', '.join(found.displaced)} out of the way (kept for the revert)"
    summary += "".join(f"; {note}" for note in found.notes)
    if leftovers:
        temps = ", ".join(posixpath.basename(path) for path in leftovers)
        removed = "would remove" if ctx.check else "removed"
        summary += f"; {removed} {temps} (left by a push that was interrupted)"
    return Result(
        host=task.host,
        changed=bool(changed or leftovers or found.displaced),
        diff="".join(diffs),
        result=Pushed(summary, tuple(writes), tuple(leftovers), tuple(found.displaced)),
    )


@host_task
def apply(
    task: Task,
    ctx: HostRun,
    timeout: Annotated[int, Field(ge=10, le=3600)] = 120,
    force: bool = False,
) -> Result:
    """Restart the network (the platform's command) when this run changed a network file,
    when the running state differs from the files (a rerun after a failure between push
    and apply), or with force; never when a NIC's MAC is not the inventory's `hwaddr`.

    `timeout`: seconds the host waits for the controller to reconnect and verify
    before it reverts by itself.
    """
    # Decided from the host itself, not from this run's history: the files are as
    # rendered (network.push came before), so what the inventory plans is what they say.
    # The state push read for its MAC check is still the running one (push writes files
    # only): no second read before anything here changes the network.
    state = ctx.network_state_at_start(task)[0]
    mismatches = mac_mismatches(task.host.name, ctx.model, state)
    if mismatches:
        return Result(host=task.host, failed=True, result=Problems.of(mismatches))
    why = None
    changed = ctx.changes.network_files
    if changed:
        reason = f"{', '.join(changed)} {'would change' if ctx.check else 'changed'}"
    elif force or ctx.force:
        reason = "forced"
    else:
        differences = verify(expected_bridges(ctx.model, ctx.platform), state)
        if not differences:
            ctx.remember_netstate(state)
            said = "no network file changed: not restarted"
            return Result(host=task.host, result=Applied(said))
        why = "the host does not run its network files: " + "; ".join(differences)
        reason = why
    if ctx.check:
        ctx.changes.network_would_restart = True
        said = f"check mode: would restart the network (guarded, {timeout}s): {reason}"
        return Result(host=task.host, changed=True, result=Applied(said, True, reason))
    result = guarded_restart(task, ctx, timeout, state, why)
    result.result = Applied(str(result.result), True, reason, ctx.changes.rolled_back)
    return result


@host_task
def bridge(
    task: Task,
    ctx: HostRun,
    timeout: Annotated[int, Field(ge=10, le=3600)] = 120,
    force: bool = False,
) -> Result:
    """The network half of the seed's procedure on the host, as runbooks/bridge-network.yaml
    runs it: render, push, apply (guarded), verify the bridges, collect facts; each a
    subtask, so its result and a processor's events are there as with `nr.run` of each.

    `timeout`, `force`: as network.apply's.
    """
    # Subtasks get the run's dry_run from Nornir, not one given to this task: say it.
    check = ctx.check
    results = {
        "render": task.run(task=render, dry_run=check)[0],
        "push": task.run(task=push, dry_run=check)[0],
        "apply": task.run(task=apply, timeout=timeout, force=force, dry_run=check)[0],
        "verify": task.run(task=bridge_tasks.verify, dry_run=check)[0],
        "facts": task.run(task=facts_tasks.collect, dry_run=check)[0],
    }
    changed = [name for name, result in results.items() if result.changed]
    what = f"changed by {', '.join(changed)}" if changed else "nothing to change"
    if ctx.check and changed:
        what = f"would be changed by {', '.join(changed)}"
    said = f"{what}; {results['facts'].result}"
    data = {name: result.result for name, result in results.items()}
    return Result(host=task.host, changed=bool(changed), result=Steps(said, data))
