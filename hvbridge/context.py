"""Each host's `HostRun` for hvbridge's tasks, in any Nornir run.

A task finds its host's context here (`of(task)`). The runner attaches the ones it
made for its run; a plain Nornir script gets one per host, made on first use from
`task.host`: its `data` validated once (hvbridge.inventory's own checks, with the same
messages), then kept for that Host object only, never shared. A script's context starts
a new run (a new run id, nothing changed yet) with each `nr.run`; what the host's
tasks left (rendered files, facts) stays. Check mode is always the task's own:
Nornir's `dry_run` (`InitNornir(dry_run=True)`, `nr.run(..., dry_run=True)` through
`task.is_dry_run()`).
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

from nornir.core.configuration import Config
from nornir.core.inventory import Host
from nornir.core.task import Task

from hvbridge import inventory
from hvbridge.hostrun import HostRun

_lock = threading.Lock()
# Host objects compare and hash by identity: two inventories' hv01 are two keys.
_contexts: dict[Host, HostRun] = {}
# The run each script context serves (the root task of an `nr.run`), by host.
_runs: dict[Host, Task] = {}


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def attach(host: Host, ctx: HostRun) -> None:
    """`ctx` is `host`'s context for the run that made it (the runner's), whatever task."""
    with _lock:
        _contexts[host] = ctx
        _runs.pop(host, None)


def detach(host: Host) -> None:
    with _lock:
        _contexts.pop(host, None)
        _runs.pop(host, None)


def of(task: Task, dry_run: bool | None = None) -> HostRun:
    """The context of `task`'s host, made from the host's data on first use; its check
    mode is the task's (`dry_run` overriding the run's, as Nornir's tasks take it)."""
    host = task.host
    with _lock:
        ctx = _contexts.get(host)
    if ctx is None:
        made = HostRun(run_id=new_run_id(), model=model_of(host, task.nornir.config))
        with _lock:
            ctx = _contexts.setdefault(host, made)
            _runs[host] = _root(task)
    with _lock:
        served = _runs.get(host)
        if served is not None and served is not _root(task):
            # A script's next `nr.run`: a new run on the host, as the CLI's would be.
            _runs[host] = _root(task)
            ctx.run_id = new_run_id()
            ctx.changes = type(ctx.changes)()
    ctx.check = task.is_dry_run(dry_run)
    return ctx


def _root(task: Task) -> Task:
    while task.parent_task is not None:
        task = task.parent_task
    return task


def model_of(host: Host, config: Config | None = None) -> inventory.HostModel:
    """`host`'s data and connection settings, validated as `hvbridge inventory validate`
    validates them; InventoryError naming the host and each field otherwise, and the file
    when Nornir read the inventory with SimpleInventory."""
    return inventory.validate_host(host, _files(config))


def _files(config: Config | None) -> inventory.InventoryFiles | None:
    """The files a SimpleInventory read (as Nornir's config names them), else None."""
    if config is None or config.inventory.plugin != "SimpleInventory":
        return None
    options = config.inventory.options
    return inventory.InventoryFiles(
        Path(options.get("host_file", "inventory/hosts.yaml")),
        Path(options.get("group_file", "inventory/groups.yaml")),
        Path(options.get("defaults_file", "inventory/defaults.yaml")),
    )
