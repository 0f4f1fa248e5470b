"""Run a runbook on an inventory with Nornir: every host runs all steps, in parallel.

Everything is validated first (inventory, runbook, --limit); only then does
any connection open. A host stops at its first failed step; the others go on.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir.core import Nornir
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.task import AggregatedResult, MultiResult, Result, Task
from nornir.plugins.runners import ThreadedRunner

from hvbridge.hostrun import HostRun
from hvbridge.inventory import LoadedInventory, load_inventory
from hvbridge.runbook import Runbook, Step
from hvbridge.runbook import load as load_runbook
from hvbridge.ssh import SSHError

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_CHANGED = 2
EXIT_FAILED = 4
EXIT_ROLLED_BACK = 8


class RunInputError(ValueError):
    pass


@dataclass(frozen=True)
class StepOutcome:
    name: str
    changed: bool
    failed: bool
    message: str
    diff: str
    seconds: float = 0.0


@dataclass
class HostOutcome:
    name: str
    steps: list[StepOutcome] = field(default_factory=list)
    failed: bool = False
    changed: bool = False
    rolled_back: str | None = None
    facts: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        if self.rolled_back:
            return "rolled back"
        if self.failed:
            return "failed"
        return "changed" if self.changed else "ok"


@dataclass
class RunOutcome:
    run_id: str
    runbook: str
    check: bool
    hosts: dict[str, HostOutcome]
    seconds: float

    @property
    def exit_code(self) -> int:
        code = EXIT_OK
        for host in self.hosts.values():
            if host.changed:
                code |= EXIT_CHANGED
            if host.failed:
                code |= EXIT_FAILED
            if host.rolled_back:
                code |= EXIT_ROLLED_BACK
        return code


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def connection_params(
    name: str, inventory: LoadedInventory, password: str | None
) -> dict[str, Any]:
    """What the connection plugin gets, from the validated model (Nornir's own lookup
    writes inherited values into the shared group objects)."""
    model = inventory.models[name]
    conn = model.connection
    extras = conn.extras.model_dump(mode="json", exclude_none=True)
    extras["jump"] = [str(hop) for hop in inventory.jump_hops(name)]
    return {
        "hostname": conn.hostname,
        "username": conn.username,
        "password": conn.password.get_secret_value() if conn.password else password,
        "port": conn.port,
        "platform": model.platform,
        "extras": extras,
    }


def select_hosts(inventory: LoadedInventory, limit: Sequence[str]) -> list[str]:
    names = list(inventory.inventory.hosts)
    if not limit:
        return names
    unknown = [name for name in limit if name not in inventory.inventory.hosts]
    if unknown:
        raise RunInputError(
            f"--limit: no such host(s) {', '.join(unknown)} in the inventory"
            f" (have: {', '.join(names)})"
        )
    return [name for name in names if name in limit]


def _pipeline(task: Task, steps: Sequence[Step], runs: dict[str, HostRun]) -> Result:
    ctx = runs[task.host.name]
    try:
        for step in steps:
            started = time.monotonic()
            try:
                task.run(task=step.func, name=step.name, ctx=ctx, **step.args)
            finally:
                ctx.step_seconds.append(time.monotonic() - started)
    finally:
        ctx.disconnect(task)
    return Result(host=task.host)


def _message(result: Result) -> str:
    if result.exception is not None and not isinstance(result.result, str):
        exc = result.exception
        if isinstance(exc, SSHError):
            return str(exc)
        return f"{type(exc).__name__}: {exc}"
    return "" if result.result is None else str(result.result)


def _outcome(name: str, multi: MultiResult, ctx: HostRun) -> HostOutcome:
    host = HostOutcome(name, rolled_back=ctx.rolled_back, facts=ctx.facts)
    for result, seconds in zip(list(multi)[1:], ctx.step_seconds, strict=False):
        step = StepOutcome(
            str(result.name), bool(result.changed), bool(result.failed), _message(result),
            result.diff or "", round(seconds, 3),
        )  # fmt: skip
        host.steps.append(step)
    host.failed = multi.failed
    host.changed = any(s.changed for s in host.steps)
    if not host.steps and multi.failed:
        host.steps.append(StepOutcome("run", False, True, _message(multi[0]), ""))
    return host


@dataclass(frozen=True)
class RunRequest:
    project: Path
    runbook: Path
    inventory: Path
    limit: tuple[str, ...] = ()
    check: bool = False
    force: bool = False
    workers: int = 20
    password: str | None = None


def prepare(request: RunRequest) -> tuple[LoadedInventory, Runbook, list[str]]:
    """Everything that can be wrong with the input, found before any connection."""
    runbook = load_runbook(request.runbook, request.project / "tasks")
    inventory = load_inventory(request.inventory)
    return inventory, runbook, select_hosts(inventory, request.limit)


def run(request: RunRequest) -> RunOutcome:
    inventory, runbook, names = prepare(request)
    run_id = new_run_id()
    runs = {
        name: HostRun(
            run_id=run_id,
            project=request.project,
            model=inventory.models[name],
            check=request.check,
            force=request.force,
            connection_params=connection_params(name, inventory, request.password),
        )
        for name in names
    }
    # Loads connection plugins from their entry points, hvbridge's among them.
    ConnectionPluginRegister.auto_register()
    nornir = Nornir(
        inventory=inventory.inventory, runner=ThreadedRunner(num_workers=request.workers)
    ).filter(filter_func=lambda h: h.name in runs)
    started = time.monotonic()
    results: AggregatedResult = nornir.run(
        task=_pipeline, name=runbook.name, steps=runbook.steps, runs=runs
    )
    hosts = {name: _outcome(name, results[name], runs[name]) for name in names}
    return RunOutcome(run_id, runbook.name, request.check, hosts, time.monotonic() - started)
