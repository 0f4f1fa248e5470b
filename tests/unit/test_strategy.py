"""hvbridge.strategy: Ansible's serial batches and max_fail_percentage budget."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hvbridge.strategy import (
    BatchSize,
    Percent,
    Strategy,
    StrategyError,
    batch_sizes,
    batches,
    budget_exceeded,
    merge,
    parse_max_fail,
    parse_serial,
)

WHERE = "runbooks/x.yaml: serial"


def hosts(count: int) -> list[str]:
    return [f"hv{number:02d}" for number in range(1, count + 1)]


def sizes(serial: Any, total: int) -> list[int]:
    return [len(batch) for batch in batches(hosts(total), parse_serial(serial, WHERE))]


# ---------------------------------------------------------------------------------------------
# Batches: the examples of Ansible's documentation, and the edges.


@pytest.mark.parametrize(
    ("serial", "total", "expected"),
    [
        (1, 3, [1, 1, 1]),
        ([1, 5, 10], 20, [1, 5, 10, 4]),
        ("30%", 10, [3, 3, 3, 1]),
        ([1, "25%"], 20, [1, 5, 5, 5, 4]),
        ("1%", 20, [1] * 20),
        (["1", "10%", "50%"], 20, [1, 2, 10, 7]),
        ("1,25%", 20, [1, 5, 5, 5, 4]),
        (None, 7, [7]),
        ("100%", 7, [7]),
        (50, 7, [7]),
        ([2, 50], 5, [2, 3]),
        ("12.5%", 16, [2] * 8),
        ("99%", 10, [9, 1]),
    ],
)
def test_batch_sizes_as_ansible(serial: Any, total: int, expected: list[int]) -> None:
    assert sizes(serial, total) == expected


def test_percentages_are_exact_where_a_float_rounds_down() -> None:
    # (29 / 100.0) * 100 is 28.999999999999996 in floats.
    assert batch_sizes(100, (Percent(Decimal(29)),)) == [29, 29, 29, 13]


def test_batches_keep_order_and_take_every_host_once() -> None:
    names = ["c", "a", "b", "e", "d"]
    cut = batches(names, (1, 2))
    assert cut == [["c"], ["a", "b"], ["e", "d"]]


def test_no_hosts_no_batch() -> None:
    assert batches([], (1,)) == []
    assert batches([], ()) == []


# ---------------------------------------------------------------------------------------------
# Parsing serial.


def test_parsed_values() -> None:
    expected: tuple[BatchSize, ...] = (1, Percent(Decimal("12.5")), 3)
    assert parse_serial([1, " 12.5% ", "3"], WHERE) == expected
    assert parse_serial(None, WHERE) == ()
    assert parse_serial("1, 25%", "--serial") == (1, Percent(Decimal(25)))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "runbooks/x.yaml: serial: a count is at least 1, got 0"),
        ("0", "runbooks/x.yaml: serial: a count is at least 1, got 0"),
        (-1, "runbooks/x.yaml: serial: a count is at least 1, got -1"),
        ("-1", "runbooks/x.yaml: serial: expected a count (1, 2, ...) or a percentage"),
        ("abc", "runbooks/x.yaml: serial: expected a count (1, 2, ...) or a percentage"),
        (True, "runbooks/x.yaml: serial: expected a count (1, 2, ...) or a percentage"),
        (2.5, "runbooks/x.yaml: serial: expected a count (1, 2, ...) or a percentage"),
        ("0%", "runbooks/x.yaml: serial: a percentage is from 1% to 100%, got '0%'"),
        ("0.5%", "runbooks/x.yaml: serial: a percentage is from 1% to 100%, got '0.5%'"),
        ("101%", "runbooks/x.yaml: serial: a percentage is from 1% to 100%, got '101%'"),
        ("25 %", "runbooks/x.yaml: serial: expected a count"),
        ("1e2%", "runbooks/x.yaml: serial: expected a count"),
        ([], "runbooks/x.yaml: serial: an empty list; leave serial out"),
        ({"a": 1}, "runbooks/x.yaml: serial: expected a count"),
    ],
)
def test_serial_errors_name_the_field(value: Any, message: str) -> None:
    with pytest.raises(StrategyError) as caught:
        parse_serial(value, WHERE)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_serial_list_errors_name_each_item() -> None:
    with pytest.raises(StrategyError) as caught:
        parse_serial([1, "abc", True, "25%", 0], WHERE)
    assert str(caught.value).splitlines() == [
        "runbooks/x.yaml: serial[1]: expected a count (1, 2, ...) or a percentage such as 25%,"
        " got 'abc'",
        "runbooks/x.yaml: serial[2]: expected a count (1, 2, ...) or a percentage such as 25%,"
        " got True",
        "runbooks/x.yaml: serial[4]: a count is at least 1, got 0",
    ]


def test_serial_text_from_the_command_line() -> None:
    with pytest.raises(StrategyError, match=r"^--serial\[1\]: a count is at least 1, got 0$"):
        parse_serial("1,0", "--serial")
    with pytest.raises(StrategyError, match=r"^--serial\[1\]: expected a count"):
        parse_serial("1,", "--serial")


# ---------------------------------------------------------------------------------------------
# The failure budget.


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0.0), (50, 50.0), (33.3, 33.3), ("25", 25.0), ("12.5%", 12.5), (100, 100.0)],
)
def test_max_fail_values(value: Any, expected: float) -> None:
    assert parse_max_fail(value, "runbooks/x.yaml: max_fail_percentage") == expected


def test_max_fail_unset() -> None:
    assert parse_max_fail(None, "--max-fail-percentage") is None


@pytest.mark.parametrize("value", [-1, 101, 100.5, True, "abc", "-5", float("nan"), [10]])
def test_max_fail_errors_name_the_field(value: Any) -> None:
    where = "runbooks/x.yaml: max_fail_percentage"
    with pytest.raises(StrategyError) as caught:
        parse_max_fail(value, where)
    assert str(caught.value) == f"{where}: expected a percentage from 0 to 100, got {value!r}"


@pytest.mark.parametrize(
    ("batch_size", "failed", "max_fail", "expected"),
    [
        (4, 0, 0, False),
        (4, 1, 0, True),
        (1, 1, 0, True),
        (4, 2, 50, False),
        (4, 3, 50, True),
        (4, 4, 100, False),
        (3, 1, 33.3, True),
        (1000, 333, 33.3, False),
        (1000, 334, 33.3, True),
        (10, 1, 10, False),
        (10, 2, 10, True),
        (4, 4, None, False),
        (1, 1, None, False),
    ],
)
def test_budget_exceeded_when_greater(
    batch_size: int, failed: int, max_fail: float | None, expected: bool
) -> None:
    assert budget_exceeded(batch_size, failed, max_fail) is expected


def test_budget_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="5 failed hosts in a batch of 4"):
        budget_exceeded(4, 5, 10)


# ---------------------------------------------------------------------------------------------
# The strategy of a run.


RUNBOOK = Strategy(serial=(1, Percent(Decimal(25))), max_fail_percentage=0)


def test_command_line_overrides_the_runbook() -> None:
    cli_serial = parse_serial("2", "--serial")
    assert merge(RUNBOOK, cli_serial, 50.0) == Strategy((2,), 50.0)


def test_command_line_left_out_keeps_the_runbook() -> None:
    assert merge(RUNBOOK, None, None) == RUNBOOK
    assert merge(RUNBOOK, None, 10.0) == Strategy(RUNBOOK.serial, 10.0)
    assert merge(RUNBOOK, (3,), None) == Strategy((3,), 0)
    assert merge(Strategy(), None, None) == Strategy((), None)


def test_command_line_can_ask_for_one_batch() -> None:
    merged = merge(RUNBOOK, parse_serial("100%", "--serial"), None)
    assert merged.batches(hosts(20)) == [hosts(20)]


def test_strategy_methods_and_text() -> None:
    assert [len(batch) for batch in RUNBOOK.batches(hosts(20))] == [1, 5, 5, 5, 4]
    assert RUNBOOK.budget_exceeded(1, 1)
    assert not Strategy().budget_exceeded(5, 5)
    assert str(RUNBOOK) == "serial: 1, 25%; max_fail_percentage: 0"
    assert str(Strategy()) == "serial: all hosts at once; max_fail_percentage: none"
    assert str(Strategy((Percent(Decimal("12.5")),), 33.3)) == (
        "serial: 12.5%; max_fail_percentage: 33.3"
    )
