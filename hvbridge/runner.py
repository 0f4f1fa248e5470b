"""Run a runbook on an inventory with Nornir, batch by batch.

Everything is validated first (inventory, runbook, --limit, strategy); only then
does any connection open. Each batch runs all steps on its hosts in parallel; a
host takes its lock, stops at its first failed step, and releases the lock; the
others go on. A batch whose failures exceed max_fail_percentage stops the rollout.
A SIGINT or SIGTERM (see hvbridge.interrupt) stops it too, between steps. The run's
state.json is rewritten after every step of every host (see hvbridge.rundir).
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir.core import Nornir
from nornir.core.inventory import Host
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.processor import Processors
from nornir.core.state import GlobalState
from nornir.core.task import AggregatedResult, MultiResult, Result, Task
from nornir.plugins.runners import ThreadedRunner

from hvbridge import context, guards, jumps, lock, reasons, rundir, trace
from hvbridge.context import new_run_id
from hvbridge.errors import InputError
from hvbridge.events import Fanout, JsonLines, Sink, event
from hvbridge.hostrun import HostRun, LockState
from hvbridge.hosttask import is_host_task
from hvbridge.interrupt import Interrupt
from hvbridge.inventory import LoadedInventory, load_inventory
from hvbridge.limit import LimitError, parse_limit, select
from hvbridge.platforms import DEFAULT as DEFAULT_PLATFORM
from hvbridge.runbook import Runbook, Step
from hvbridge.runbook import load as load_runbook
from hvbridge.ssh import CONNECTION_NAME, SSHError
from hvbridge.status import (
    EXIT_CHANGED,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_ROLLED_BACK,
    EXIT_STOPPED,
    STATUS_BITS,
    Status,
)
from hvbridge.stepevents import StepEvents
from hvbridge.strategy import (
    Strategy,
    StrategyError,
    budget_exceeded,
    merge,
    parse_max_fail,
    parse_serial,
)

__all__ = [
    "EXIT_CHANGED",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_ROLLED_BACK",
    "EXIT_STOPPED",
    "STATUSES",
    "HostOutcome",
    "RunInputError",
    "RunOutcome",
    "RunRequest",
    "StepOutcome",
    "new_run_id",
    "prepare",
    "run",
]

STATUSES = tuple(Status)
STATE_DIR_NAME = ".hvbridge"
# Often enough for lock.STALE_AFTER (900 s); a touch after every step cost a round trip.
HEARTBEAT_EVERY = 60.0


class RunInputError(InputError, ValueError):
    pass


@dataclass(frozen=True)
class StepOutcome:
    name: str
    changed: bool
    failed: bool
    message: str
    diff: str
    seconds: float = 0.0
    # The host rolled back, and the revert undid what this step changed.
    reverted: bool = False


@dataclass
class HostOutcome:
    name: str
    steps: list[StepOutcome] = field(default_factory=list)
    failed: bool = False
    changed: bool = False
    rolled_back: str | None = None
    facts: dict[str, Any] | None = None
    # The failure budget or a signal stopped the rollout before this host started.
    not_run: bool = False
    # A signal stopped the host between two of its steps.
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return host_status(
            not_run=self.not_run, rolled_back=bool(self.rolled_back), failed=self.failed,
            interrupted=self.interrupted, changed=self.changed,
        )  # fmt: skip


def host_status(
    *, not_run: bool, rolled_back: bool, failed: bool, interrupted: bool, changed: bool
) -> Status:
    """The one status of a host: the first that applies, in this order."""
    if not_run:
        return Status.NOT_RUN
    if rolled_back:
        return Status.ROLLED_BACK
    if failed:
        return Status.FAILED
    if interrupted:
        return Status.INTERRUPTED
    return Status.CHANGED if changed else Status.OK


@dataclass
class RunOutcome:
    run_id: str
    runbook: str
    check: bool
    hosts: dict[str, HostOutcome]
    seconds: float
    stopped: str | None = None
    started: float = 0.0  # wall clock, seconds since the epoch
    planned_steps: tuple[str, ...] = ()
    # Nornir's own results, batch by batch, for nornir_utils' print_result.
    results: list[AggregatedResult] = field(default_factory=list, repr=False)
    # The signal that stopped the run (SIGINT, SIGTERM) and the exit code it means.
    interrupted: str | None = None
    interrupt_exit: int | None = None
    # Each inventory host's platform as the run resolved it, for the reports (None: not
    # known; the CLI then reads the inventory again).
    platforms: dict[str, str] | None = field(default=None, repr=False)

    @property
    def bits(self) -> int:
        """The status bits: each host's status sets its own bit (hvbridge.status), and
        the failure budget 16."""
        code = EXIT_STOPPED if self.stopped else EXIT_OK
        for host in self.hosts.values():
            code |= STATUS_BITS.get(host.status, 0)
        return code

    @property
    def exit_code(self) -> int:
        """What the command exits with: 130 or 143 after a signal, else the bits."""
        return self.interrupt_exit if self.interrupt_exit is not None else self.bits

    def counts(self) -> dict[Status, int]:
        return counts(list(self.hosts.values()))


def connection_params(
    name: str, inventory: LoadedInventory, password: str | None
) -> dict[str, Any]:
    """What the connection plugin gets, from the validated model (Nornir's own lookup
    writes inherited values into the shared group objects)."""
    model = inventory.models[name]
    conn = model.connection
    extras = conn.extras.model_dump(mode="json", exclude_none=True)
    extras["jump"] = [str(hop) for hop in inventory.jump_hops(name)]
    # What messages call the host and its hops: `hv02 (root@198.18.129.2 via jump)`.
    extras["name"], extras["via"] = name, inventory.jump_names(name)
    return {
        "hostname": conn.hostname,
        "username": conn.username,
        "password": conn.password.get_secret_value() if conn.password else password,
        "port": conn.port,
        "platform": model.platform,
        "extras": extras,
    }


def select_hosts(inventory: LoadedInventory, limit: Sequence[str]) -> list[str]:
    if not limit:
        return list(inventory.inventory.hosts)
    try:
        return select(parse_limit(",".join(limit)), inventory)
    except LimitError as exc:
        raise RunInputError(str(exc)) from exc


@dataclass(frozen=True)
class Progress:
    """What every host's pipeline reports to, besides the event sink."""

    sink: Sink
    state: rundir.StateWriter
    interrupt: Interrupt


class RunSteps(StepEvents):
    """The run's processor: a runbook's steps (subtasks of each host's pipeline) timed and
    tallied, recorded in state.json, then announced to the run's sink."""

    def __init__(self, sink: Sink, state: rundir.StateWriter, runs: dict[str, HostRun]) -> None:
        super().__init__(sink, level=1)
        self._state = state
        self._runs = runs
        self._files: dict[int, int] = {}

    def started(self, task: Task, host: Host) -> None:
        self._files[id(task)] = len(self._runs[host.name].changes.network_files)

    def finished(
        self, task: Task, host: Host, result: Result, status: Status, seconds: float, message: str
    ) -> tuple[Status, str]:
        ctx = self._runs[host.name]
        ctx.clock.seconds.append(seconds)
        if ctx.clock.timed_out:
            status, message = Status.FAILED, ctx.clock.timed_out
        ctx.tally.failed = ctx.tally.failed or status is Status.FAILED
        ctx.tally.changed = ctx.tally.changed or status is Status.CHANGED
        if len(ctx.changes.network_files) > self._files.pop(id(task), 0):
            ctx.changes.network_file_steps.append(task.name)
        self._state.step_finished(host.name, task.name)
        return status, message


def _run_step(task: Task, step: Step, ctx: HostRun, default_timeout: float) -> None:
    """One step, under its deadline; a failure raises to stop this host. RunSteps times,
    records and announces it."""
    ctx.clock.begin(step.name, step.timeout or default_timeout)
    args = dict(step.args)
    if not is_host_task(step.func):
        # A project's plain Nornir task: it may change anything.
        ctx.network.step_begins(step.name, keeps_network=False)
        if "ctx" in inspect.signature(step.func).parameters:
            args["ctx"] = ctx  # written as hvbridge's task bodies are: (task, ctx, ...)
    try:
        task.run(task=step.func, name=step.name, **args)
        if ctx.clock.timed_out:
            # The step swallowed the error of its closed connection: it still overran.
            raise SSHError(ctx.clock.timed_out)
    finally:
        ctx.clock.end()


def _pipeline(
    task: Task, steps: Sequence[Step], progress: Progress, default_timeout: float
) -> Result:
    ctx = context.of(task)
    held = ctx.lock
    holder = held.holder  # None for a read-only run: no lock
    if progress.interrupt.requested:
        # A signal came before this host started (it waited for a worker): untouched.
        ctx.tally.not_started = True
        progress.state.host_finished(ctx.name, Status.NOT_RUN)
        return Result(host=task.host)
    failed = True
    try:
        ctx.clock.phase = "connect"
        conn = ctx.connect(task)
        if holder is not None:
            ctx.clock.phase = "lock host"
            held.note = lock.acquire(conn, holder, break_lock=held.break_lock)
            held.locked = True
            held.heartbeat_at = time.monotonic()
            # Before any step changes the host: no other run's guard may stay armed on it.
            ctx.clock.phase = "resolve other runs' guards"
            held.guard_notes = guards.resolve(task, ctx)
        for step in steps:
            if progress.interrupt.requested:
                # Between two steps: the host is as the last finished step left it.
                ctx.tally.interrupted = True
                break
            ctx.clock.phase = step.name
            _run_step(task, step, ctx, default_timeout)
            if holder is not None and time.monotonic() - held.heartbeat_at > HEARTBEAT_EVERY:
                lock.heartbeat(ctx.connect(task), holder)
                held.heartbeat_at = time.monotonic()
        failed = False
    finally:
        _release(task, ctx)
        status = _provisional_status(ctx, failed)
        progress.state.host_finished(ctx.name, status)
        # The host is done now, not when its whole batch is: the live bar moves on.
        ctx.emit("host_done", failed=status in (Status.FAILED, Status.ROLLED_BACK))
    return Result(host=task.host)


def _provisional_status(ctx: HostRun, failed: bool) -> Status:
    """The host's status as its pipeline ends, for state.json; the batch's results
    confirm it (`_outcome`) when the batch ends."""
    return host_status(
        not_run=False, rolled_back=bool(ctx.changes.rolled_back),
        failed=failed or ctx.tally.failed, interrupted=ctx.tally.interrupted,
        changed=ctx.tally.changed,
    )  # fmt: skip


def _release(task: Task, ctx: HostRun) -> None:
    held = ctx.lock
    if held.locked and not ctx.clock.timed_out and held.holder is not None:
        # On failure the lock stays; its heartbeat stops, so the next run sees it stale.
        with contextlib.suppress(SSHError):
            lock.release(ctx.connect(task), held.holder)
            held.locked = False
    ctx.disconnect(task)


def _message(result: Result) -> str:
    # Nornir keeps a raised exception's traceback as the result: the trace has it.
    return reasons.of_result(result)


def _outcome(name: str, multi: MultiResult, ctx: HostRun) -> HostOutcome:
    if ctx.tally.not_started:
        return HostOutcome(name, not_run=True)
    rolled_back, clock = ctx.changes.rolled_back, ctx.clock
    host = HostOutcome(
        name, rolled_back=rolled_back, facts=ctx.facts, interrupted=ctx.tally.interrupted
    )
    # A step's own subtasks (network.bridge's) follow it in the MultiResult: steps only.
    for result, seconds in zip(_step_results(multi), clock.seconds, strict=False):
        failed = bool(result.failed)
        message = _message(result)
        if clock.timed_out and clock.timed_out_step == result.name:
            failed, message = True, clock.timed_out
        reverted = bool(rolled_back) and result.name in ctx.changes.network_file_steps
        step = StepOutcome(
            str(result.name), bool(result.changed), failed, message, result.diff or "",
            round(seconds, 3), reverted,
        )  # fmt: skip
        host.steps.append(step)
    host.failed = multi.failed
    host.changed = any(s.changed for s in host.steps)
    if not host.steps and multi.failed:
        host.steps.append(StepOutcome(clock.phase, False, True, _message(multi[0]), ""))
    if ctx.lock.note:
        host.notes.append(ctx.lock.note)
    host.notes += ctx.lock.guard_notes
    return host


def _step_results(multi: MultiResult) -> list[Result]:
    """The pipeline's own subtasks' results: Nornir appends a subtask's result, or its
    MultiResult when the subtask ran subtasks of its own (its own result first)."""
    return [item[0] if isinstance(item, MultiResult) else item for item in list(multi)[1:]]


class Watchdog:
    """Fails a step that overruns its timeout: closing the host's connection wakes the
    worker blocked on it, and HostRun refuses to reconnect."""

    def __init__(self, runs: dict[str, HostRun], hosts: Any) -> None:
        self._runs = runs
        self._hosts = hosts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="step-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            for name, ctx in self._runs.items():
                if ctx.clock.overran():
                    plugin = self._hosts[name].connections.get(CONNECTION_NAME)
                    if plugin is not None:
                        plugin.close()


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
    # The command line's strategy; each overrides the runbook's when given.
    serial: tuple[str, ...] | None = None
    max_fail_percentage: float | None = None
    step_timeout: float = 900.0
    # Facts only: no host lock is taken, nothing is written on any host.
    read_only: bool = False
    retry_failed: bool = False
    break_lock: bool = False
    state_dir: Path | None = None

    @property
    def states(self) -> Path:
        return self.state_dir or self.project / STATE_DIR_NAME


@dataclass(frozen=True)
class Prepared:
    inventory: LoadedInventory
    runbook: Runbook
    names: list[str]
    strategy: Strategy
    retrying: str | None


def _cli_serial(request: RunRequest) -> Any:
    if request.serial is None:
        return None
    return [int(item) if item.isdigit() else item for item in request.serial]


def prepare(request: RunRequest) -> Prepared:
    """Everything that can be wrong with the input, found before any connection."""
    runbook = load_runbook(request.runbook, request.project / "tasks")
    inventory = load_inventory(request.inventory)
    names = select_hosts(inventory, request.limit)
    try:
        cli_serial = parse_serial(_cli_serial(request), "--serial") if request.serial else None
        cli_max_fail = parse_max_fail(request.max_fail_percentage, "--max-fail-percentage")
    except StrategyError as exc:
        raise RunInputError(str(exc)) from exc
    strategy = merge(runbook.strategy, cli_serial, cli_max_fail)
    retrying = None
    if request.retry_failed:
        last = rundir.last_run(request.states, request.runbook, request.inventory)
        if last is None:
            raise RunInputError(
                f"--retry-failed: no earlier run of {request.runbook} on {request.inventory}"
                f" in {request.states}"
            )
        names = [name for name in names if name in last.unfinished]
        if not names:
            raise RunInputError(
                f"--retry-failed: every host of run {last.run_id} and the runs before it"
                " ended ok (or changed) the last time it ran"
            )
        retrying = last.run_id
    inventory.check_controller(names)
    return Prepared(inventory, runbook, names, strategy, retrying)


def run(
    request: RunRequest, sink: Sink | None = None, interrupt: Interrupt | None = None
) -> RunOutcome:
    """Run the request; `interrupt`, set by a signal handler, stops the run between
    steps (without one, nothing can ask it to)."""
    prepared = prepare(request)
    run_id = new_run_id()
    directory = rundir.run_path(request.states, run_id)
    events_log = JsonLines(directory / "events.jsonl")
    out = Fanout(events_log, *([sink] if sink else []))
    secrets = [request.password, *prepared.inventory.passwords()]
    try:
        with trace.tracing(directory / "trace.log", secrets):
            return _execute(request, prepared, run_id, out, interrupt or Interrupt())
    finally:
        out.close()


def _execute(
    request: RunRequest, prepared: Prepared, run_id: str, sink: Sink, interrupt: Interrupt
) -> RunOutcome:
    inventory, names = prepared.inventory, prepared.names
    holder = lock.Holder.me(run_id)
    runs = {
        name: HostRun(
            run_id=run_id,
            project=request.project,
            model=inventory.models[name],
            check=request.check,
            force=request.force,
            connection_params=connection_params(name, inventory, request.password),
            lock=LockState(None if request.read_only else holder, request.break_lock),
            sink=sink,
        )
        for name in names
    }
    interrupt.locked_hosts = lambda: [name for name, ctx in runs.items() if ctx.lock.locked]
    state = rundir.StateWriter(
        request.states,
        rundir.RunState(
            run_id, str(request.runbook.resolve()), str(request.inventory.resolve()),
            request.check, {name: rundir.HostState() for name in names},
            retrying=prepared.retrying,
        ),
    )  # fmt: skip
    progress = Progress(sink, state, interrupt)
    batches = prepared.strategy.batches(names)
    sink.emit(event("run_started", run_id=run_id, runbook=prepared.runbook.name,
                    hosts=len(names), batches=len(batches), check=request.check,
                    retrying=prepared.retrying))  # fmt: skip
    # Loads connection plugins from their entry points, hvbridge's among them.
    ConnectionPluginRegister.auto_register()
    # Check mode is Nornir's dry_run, as the tasks read it (task.is_dry_run()).
    nornir = Nornir(
        inventory=inventory.inventory, runner=ThreadedRunner(request.workers),
        data=GlobalState(dry_run=request.check),
        processors=Processors([RunSteps(sink, state, runs)]),
    )  # fmt: skip
    hosts_of = inventory.inventory.hosts
    for name, ctx in runs.items():
        context.attach(hosts_of[name], ctx)
    try:
        # One login per jump chain for the whole run (hvbridge.jumps), closed at its end.
        with jumps.shared():
            return _batches(request, prepared, run_id, runs, progress, nornir)
    finally:
        for name in runs:
            context.detach(hosts_of[name])


def _batches(
    request: RunRequest, prepared: Prepared, run_id: str, runs: dict[str, HostRun],
    progress: Progress, nornir: Nornir,
) -> RunOutcome:  # fmt: skip
    inventory, names = prepared.inventory, prepared.names
    sink, state, interrupt = progress.sink, progress.state, progress.interrupt
    batches = prepared.strategy.batches(names)
    started = time.monotonic()
    started_at = time.time()
    hosts: dict[str, HostOutcome] = {}
    stopped = None
    aggregated: list[AggregatedResult] = []
    with Watchdog(runs, inventory.inventory.hosts):
        for number, batch in enumerate(batches, 1):
            if interrupt.requested:
                break
            sink.emit(event("batch_started", batch=number, batches=len(batches), hosts=batch))
            members = set(batch)
            results = nornir.filter(filter_func=lambda h, m=members: h.name in m).run(
                task=_pipeline, name=prepared.runbook.name, steps=prepared.runbook.steps,
                progress=progress, default_timeout=request.step_timeout,
            )  # fmt: skip
            aggregated.append(results)
            for name in batch:
                hosts[name] = _outcome(name, results[name], runs[name])
                sink.emit(event("host_finished", host=name, status=hosts[name].status,
                                reason=reasons.of_steps(hosts[name].steps)))  # fmt: skip
            failed = sum(1 for name in batch if hosts[name].failed)
            sink.emit(event("batch_finished", batch=number, batches=len(batches),
                            counts=counts([hosts[n] for n in batch])))  # fmt: skip
            limit = prepared.strategy.max_fail_percentage
            if number < len(batches) and budget_exceeded(len(batch), failed, limit):
                stopped = (
                    f"batch {number}/{len(batches)}: {failed} of {len(batch)} host(s) failed,"
                    f" more than max_fail_percentage {limit:g}%; batches {number + 1}"
                    f"-{len(batches)} not started"
                )
                sink.emit(event("run_stopped", reason=stopped))
                break
    for name in names:
        hosts.setdefault(name, HostOutcome(name, not_run=True))
    if interrupt.requested:
        sink.emit(event("run_interrupted", signal=interrupt.name,
                        interrupted=_named(hosts, Status.INTERRUPTED),
                        not_run=_named(hosts, Status.NOT_RUN)))  # fmt: skip
    outcome = RunOutcome(
        run_id, prepared.runbook.name, request.check, hosts, time.monotonic() - started, stopped,
        started_at, tuple(step.name for step in prepared.runbook.steps), aggregated,
        interrupt.name, interrupt.exit_code,
        {name: h.platform or DEFAULT_PLATFORM for name, h in inventory.inventory.hosts.items()},
    )  # fmt: skip
    state.finish({n: h.status for n, h in hosts.items()}, stopped, interrupt.name)
    sink.emit(event("run_finished", run_id=run_id, counts=outcome.counts(),
                    exit_code=outcome.exit_code))  # fmt: skip
    return outcome


def _named(hosts: dict[str, HostOutcome], status: Status) -> list[str]:
    return [name for name, host in hosts.items() if host.status is status]


def counts(hosts: Sequence[HostOutcome]) -> dict[Status, int]:
    """Hosts per status, every status listed (0 where none)."""
    return {status: sum(1 for h in hosts if h.status is status) for status in Status}
