"""A Nornir Processor that says what each host's tasks do, as hvbridge's events
(`step_started`, `step_finished`: host, step, status, seconds, message) to a Sink.

The CLI's run log and live display are fed by one (hvbridge.runner's, one level down:
a runbook's steps are subtasks of the host's pipeline); a script gets the same events
with `nr.with_processors([StepEvents(sink)])`, and its own processors see the same
tasks, as Nornir calls every processor for every task and subtask.
"""

from __future__ import annotations

import threading
import time

from nornir.core.inventory import Host
from nornir.core.task import AggregatedResult, MultiResult, Result, Task

from hvbridge import reasons
from hvbridge.events import Sink, event
from hvbridge.status import Status


def depth(task: Task) -> int:
    """0 for the task `nr.run` ran, 1 for its subtasks, and so on."""
    level = 0
    while task.parent_task is not None:
        task, level = task.parent_task, level + 1
    return level


def status_of(result: Result) -> Status:
    if result.failed:
        return Status.FAILED
    return Status.CHANGED if result.changed else Status.OK


class StepEvents:
    """`level`: the nesting level whose tasks are steps (None: every task and subtask)."""

    def __init__(self, sink: Sink, level: int | None = None) -> None:
        self.sink = sink
        self.level = level
        self._started: dict[int, float] = {}
        self._lock = threading.Lock()

    def is_step(self, task: Task) -> bool:
        return self.level is None or depth(task) == self.level

    def started(self, task: Task, host: Host) -> None:
        """A step begins (the runner's subclass keeps its own books first)."""

    def finished(
        self, task: Task, host: Host, result: Result, status: Status, seconds: float, message: str
    ) -> tuple[Status, str]:
        """A step ended: its status and message as the event will say them."""
        return status, message

    def _begin(self, task: Task, host: Host) -> None:
        if not self.is_step(task):
            return
        with self._lock:
            self._started[id(task)] = time.monotonic()
        self.started(task, host)
        self.sink.emit(event("step_started", host=host.name, step=task.name))

    def _end(self, task: Task, host: Host, results: MultiResult) -> None:
        if not self.is_step(task):
            return
        with self._lock:
            began = self._started.pop(id(task), time.monotonic())
        seconds = time.monotonic() - began
        result = results[0]
        status, message = self.finished(
            task, host, result, status_of(result), seconds, reasons.of_result(result)
        )
        self.sink.emit(event("step_finished", host=host.name, step=task.name, status=status,
                             seconds=round(seconds, 3), message=message))  # fmt: skip

    def task_started(self, task: Task) -> None:
        return None

    def task_completed(self, task: Task, result: AggregatedResult) -> None:
        return None

    def task_instance_started(self, task: Task, host: Host) -> None:
        self._begin(task, host)

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        self._end(task, host, result)

    def subtask_instance_started(self, task: Task, host: Host) -> None:
        self._begin(task, host)

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        self._end(task, host, result)
