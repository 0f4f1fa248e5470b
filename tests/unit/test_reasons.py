"""A failed task's reason: the exception's own message on one line, never a traceback."""

from __future__ import annotations

import traceback
from dataclasses import dataclass

import pytest
from nornir.core.exceptions import NornirSubTaskError
from nornir.core.inventory import Host
from nornir.core.task import MultiResult, Result

from hvbridge import reasons
from hvbridge.lock import LockError
from hvbridge.ssh import HostKeyError

HOST = Host("hv02")


def raised(exc: Exception) -> Result:
    """A Result as Nornir makes it when a task raises: the traceback is the result."""
    try:
        raise exc
    except Exception as caught:
        return Result(HOST, exception=caught, result=traceback.format_exc(), failed=True)


def test_an_hvbridge_error_is_its_own_message() -> None:
    message = "hv02 (root@198.18.129.2 via jump): host key CHANGED (...); refusing to connect"
    result = raised(HostKeyError(message))
    assert result.result.startswith("Traceback")
    assert reasons.of_result(result) == message


def test_a_multi_line_message_is_one_line() -> None:
    result = raised(LockError("hv02: locked by run x\n  since 12:00\n\n(stale)"))
    assert reasons.of_result(result) == "hv02: locked by run x; since 12:00; (stale)"


def test_a_surprise_keeps_its_type_and_points_to_the_trace() -> None:
    assert reasons.of_result(raised(KeyError("bridges"))) == (
        "KeyError: 'bridges' (traceback in the run's trace.log)"
    )
    assert reasons.of_result(raised(ZeroDivisionError())) == (
        "ZeroDivisionError (traceback in the run's trace.log)"
    )


def test_a_failed_subtask_gives_its_own_reason() -> None:
    inner = raised(HostKeyError("hv02 (root@198.18.129.2): host key unknown"))
    multi = MultiResult("step")
    multi.append(inner)
    outer = raised(NornirSubTaskError(task="step", result=multi))  # type: ignore[arg-type]
    assert reasons.of_result(outer) == "hv02 (root@198.18.129.2): host key unknown"


def test_a_task_result_text_is_kept_as_written() -> None:
    result = Result(HOST, failed=True, result="br0: bridge is missing\neth0: not in br0")
    assert reasons.of_result(result) == "br0: bridge is missing\neth0: not in br0"
    assert reasons.of_result(Result(HOST)) == ""


@dataclass
class Step:
    name: str
    failed: bool
    message: str


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            [Step("connect", True, "hv02 (root@x): host key unknown")],
            "connect: hv02 (root@x): host key unknown",
        ),
        ([Step("a", False, "fine"), Step("b", True, "\nfirst\nsecond")], "b: first"),
        ([Step("a", False, "fine")], None),
    ],
)
def test_a_hosts_reason_is_its_first_failed_step(steps: list[Step], expected: str | None) -> None:
    assert reasons.of_steps(steps) == expected
