"""The runner's Processor (runner.RunSteps): a runbook's steps, one level under each host's
pipeline, recorded in state.json before they are announced, tallied on the host's run;
and the steps' results picked out of the pipeline's, a composite step's subtasks left out."""

from __future__ import annotations

import json
from pathlib import Path

from nornir.core.inventory import Host
from nornir.core.task import MultiResult, Result, Task

from hvbridge import context, rundir
from hvbridge.events import Event
from hvbridge.hostrun import HostRun
from hvbridge.hosttask import host_task, read_only
from hvbridge.runner import RunSteps, _step_results
from hvbridge.status import Status

from .test_library import nornir


@read_only
def look(task: Task, ctx: HostRun) -> Result:
    return Result(host=task.host, result="looked")


@host_task
def change(task: Task, ctx: HostRun) -> Result:
    ctx.changes.network_files.append("ifcfg-br0")
    task.run(task=look)  # a subtask of the step: not a step of its own
    return Result(host=task.host, changed=True, result="changed")


def pipeline(task: Task) -> Result:
    task.run(task=look, name="first")
    task.run(task=change, name="second")
    return Result(host=task.host)


class StateSink:
    """The sink and the state writer in one: what each saw, in order."""

    def __init__(self, states: Path, writer: rundir.StateWriter) -> None:
        self.seen: list[tuple[str, ...]] = []
        self._states, self._writer = states, writer

    def emit(self, event: Event) -> None:
        if event["event"] == "step_finished":
            saved = json.loads(next(self._states.rglob("state.json")).read_text())
            self.seen.append(("event", event["host"], event["step"], str(event["status"]),
                              saved["hosts"][event["host"]]["step"]))  # fmt: skip

    def close(self) -> None:
        return None


def test_steps_are_saved_then_announced_and_tallied(tmp_path: Path) -> None:
    nr = nornir().filter(filter_func=lambda host: host.name == "hv01")
    host: Host = nr.inventory.hosts["hv01"]
    ctx = HostRun(run_id="R1", model=context.model_of(host))
    writer = rundir.StateWriter(
        tmp_path, rundir.RunState("R1", "rb", "inv", False, {"hv01": rundir.HostState()})
    )
    sink = StateSink(tmp_path, writer)
    context.attach(host, ctx)
    try:
        results = nr.with_processors([RunSteps(sink, writer, {"hv01": ctx})]).run(task=pipeline)
    finally:
        context.detach(host)
    assert sink.seen == [
        ("event", "hv01", "first", "ok", "first"),
        ("event", "hv01", "second", "changed", "second"),
    ]
    assert ctx.tally.changed and not ctx.tally.failed
    assert len(ctx.clock.seconds) == 2
    assert ctx.changes.network_file_steps == ["second"]
    steps = _step_results(results["hv01"])
    assert [(r.name, r.result) for r in steps] == [("first", "looked"), ("second", "changed")]


def test_a_step_that_overran_is_failed_with_the_timeout_as_its_message(tmp_path: Path) -> None:
    nr = nornir().filter(filter_func=lambda host: host.name == "hv01")
    host: Host = nr.inventory.hosts["hv01"]
    ctx = HostRun(run_id="R1", model=context.model_of(host))
    ctx.clock.timed_out = "step 'first' timed out after 5s"
    writer = rundir.StateWriter(
        tmp_path, rundir.RunState("R1", "rb", "inv", False, {"hv01": rundir.HostState()})
    )
    events: list[Event] = []

    class Sink:
        def emit(self, event: Event) -> None:
            events.append(event)

        def close(self) -> None:
            return None

    context.attach(host, ctx)
    try:
        nr.with_processors([RunSteps(Sink(), writer, {"hv01": ctx})]).run(task=pipeline)
    finally:
        context.detach(host)
    first = next(e for e in events if e["event"] == "step_finished")
    assert (first["status"], first["message"]) == (Status.FAILED, ctx.clock.timed_out)
    assert ctx.tally.failed


def test_a_composite_steps_own_result_is_the_steps() -> None:
    host = Host("hv01")
    pipeline_result = MultiResult("pipeline")
    pipeline_result.append(Result(host=host, name="pipeline"))
    pipeline_result.append(Result(host=host, name="plain", result="a"))
    composite = MultiResult("composite")
    composite.append(Result(host=host, name="composite", result="b"))
    composite.append(Result(host=host, name="inner", result="c"))
    pipeline_result.append(composite)  # as Nornir appends a subtask that ran subtasks
    assert [r.name for r in _step_results(pipeline_result)] == ["plain", "composite"]
