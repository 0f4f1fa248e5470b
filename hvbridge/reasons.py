"""Why a step failed, in one line the operator reads: the live line, the recap, the reports.

Nornir keeps `traceback.format_exc()` as a failed task's `result`; the traceback helps
whoever debugs hvbridge, not the operator, so it goes to the run's trace (Nornir logs
it there) and the reason is the exception's own message. hvbridge's exceptions are
written for the operator and name the host (`hv02 (root@198.18.129.2 via jump): host
key CHANGED ...`); anything else is a surprise, shown with its type and a pointer to
the trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from nornir.core.exceptions import NornirSubTaskError
from nornir.core.task import Result

TRACE_HINT = "(traceback in the run's trace.log)"


def of_result(result: Result) -> str:
    """A task's reason: its exception's message, else the text it returned."""
    if result.exception is not None:
        return of_exception(result.exception)
    return "" if result.result is None else str(result.result)


def of_exception(exc: BaseException) -> str:
    if isinstance(exc, NornirSubTaskError):
        # The subtask that failed says why; Nornir's own words ("Subtask: x (failed)") do not.
        failed = next((result for result in exc.result if result.failed), None)
        if failed is not None:
            return of_result(failed)
    text = one_line(str(exc))
    if _ours(exc):
        return text or type(exc).__name__
    return (
        f"{type(exc).__name__}: {text} {TRACE_HINT}"
        if text
        else f"{type(exc).__name__} {TRACE_HINT}"
    )


class _Step(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def failed(self) -> bool: ...
    @property
    def message(self) -> str: ...


def of_steps(steps: Iterable[_Step]) -> str | None:
    """A host's reason, `step: why`, from its first failed step (the runner's `connect` or
    `lock host` when it failed before any); None when none failed."""
    failed = next((step for step in steps if step.failed), None)
    if failed is None:
        return None
    first = next((line for line in failed.message.splitlines() if line.strip()), "")
    return f"{failed.name}: {first.strip()}"


def one_line(text: str) -> str:
    """`text` on one line: its lines, stripped, joined with `; `."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _ours(exc: BaseException) -> bool:
    """An exception hvbridge raises with a message meant for the operator."""
    return type(exc).__module__.startswith("hvbridge")
