"""Rollout strategy: hosts in batches, and a failure budget per batch, as Ansible's
`serial` and `max_fail_percentage`.

`serial` splits the selected hosts into batches that run one after the other; the hosts
of a batch run in parallel. It is a count, a percentage of all selected hosts, or a list
of them, so that the first batch can be a canary:

```yaml
serial: 1            # one host at a time
serial: 30%          # 10 hosts: batches of 3, 3, 3, 1
serial: [1, 5, 10]   # 20 hosts: 1, 5, 10, 4 (the last size repeats until all are done)
serial: [1, 25%]     # 20 hosts: 1, 5, 5, 5, 4 (a canary, then quarters)
```

- A percentage is of the total number of selected hosts, rounded down but at least 1
  (`1%` of 20 hosts is 1). Decimals are allowed (`12.5%`), from 1% to 100%. It is
  computed exactly: 29% of 100 hosts is 29 (Ansible's float arithmetic makes it 28).
- The list is consumed in order; its last size repeats until every host is in a batch.
  A size larger than the hosts left takes the rest. Hosts keep their inventory order.
- Without `serial`, all hosts are one batch. `serial: 100%` says so explicitly, and on the
  command line overrides a runbook's `serial` (`--serial 100%`).
- A count is at least 1: `0`, negative numbers, `true`, `2.5` and words are refused.

`max_fail_percentage` (0 to 100) is checked after each batch: when the hosts that failed
in that batch are MORE than that percentage of the batch, the remaining batches do not
start. With 4 hosts in a batch:

```
max_fail_percentage: 0     # 1 failed of 4 (25%) > 0: stop; any failure stops the rollout
max_fail_percentage: 50    # 2 failed of 4 (50%) is not > 50: go on; 3 of 4 (75%): stop
max_fail_percentage: 100   # never stops: the same as leaving it out
```

Without `max_fail_percentage` the rollout never stops on failures: each host goes on, or
stops at its own first failed step, independently. Unlike Ansible, this holds even when
every host of a batch failed; a canary that must stop the rollout needs
`max_fail_percentage: 0`.

On the command line `--serial` (as `1,25%`) and `--max-fail-percentage` override the
runbook's values; each left out keeps the runbook's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from hvbridge.errors import InputError

__all__ = [
    "BatchSize",
    "Percent",
    "Strategy",
    "StrategyError",
    "batch_sizes",
    "batches",
    "budget_exceeded",
    "merge",
    "parse_max_fail",
    "parse_serial",
]

_COUNT = re.compile(r"[0-9]+")
_PERCENT = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)%")
_MAX_FAIL = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)%?")
_EXPECTED_SIZE = "expected a count (1, 2, ...) or a percentage such as 25%"


class StrategyError(InputError, ValueError):
    """A `serial` or `max_fail_percentage` that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Percent:
    """A batch size as a share of all selected hosts."""

    # Decimal, parsed from the text as written: a float would round 29% of 100 down to 28.
    value: Decimal

    def of(self, total: int) -> int:
        """This share of `total` hosts, rounded down but at least 1."""
        return max(1, int(self.value * total / 100))

    def __str__(self) -> str:
        return f"{self.value}%"


BatchSize = int | Percent
"""An absolute number of hosts, or a `Percent` of them."""

SerialValue = int | str | Sequence[int | str] | None
"""`serial` as written in a runbook (YAML) or given on the command line (text)."""


# ---------------------------------------------------------------------------------------------
# Parsing.


def parse_serial(value: SerialValue, where: str) -> tuple[BatchSize, ...]:
    """`serial` as batch sizes; () means all hosts in one batch.

    `value` is a count, a percentage (`"25%"`), a list of them, or text of them separated
    by commas (`"1,25%"`, as `--serial` gives it). Raises StrategyError naming `where`
    (`runbooks/x.yaml: serial[1]`, `--serial`), one line per bad item.
    """
    if value is None:
        return ()
    items = _serial_items(value, where)
    if not items:
        raise StrategyError(
            f"{where}: an empty list; leave serial out to run all hosts in one batch"
        )
    if len(items) == 1:
        return (_batch_size(items[0], where),)
    sizes: list[BatchSize] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            sizes.append(_batch_size(item, f"{where}[{index}]"))
        except StrategyError as exc:
            problems.append(str(exc))
    if problems:
        raise StrategyError("\n".join(problems))
    return tuple(sizes)


def _serial_items(value: int | str | Sequence[int | str], where: str) -> list[object]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",")]
    # bool is an int, and a str a Sequence: both are handled before.
    if isinstance(value, int):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    raise StrategyError(f"{where}: {_EXPECTED_SIZE}, or a list of them; got {value!r}")


def _batch_size(item: object, where: str) -> BatchSize:
    # YAML reads `true` and `yes` as bools, which are ints to Python: never a count.
    if isinstance(item, bool):
        raise StrategyError(f"{where}: {_EXPECTED_SIZE}, got {item!r}")
    if isinstance(item, int):
        return _count(item, where)
    if isinstance(item, str):
        text = item.strip()
        if _COUNT.fullmatch(text):
            return _count(int(text), where)
        percent = _PERCENT.fullmatch(text)
        if percent:
            return _percent(Decimal(percent["number"]), item, where)
    raise StrategyError(f"{where}: {_EXPECTED_SIZE}, got {item!r}")


def _count(count: int, where: str) -> int:
    if count < 1:
        raise StrategyError(f"{where}: a count is at least 1, got {count!r}")
    return count


def _percent(number: Decimal, written: str, where: str) -> Percent:
    if not 1 <= number <= 100:
        raise StrategyError(f"{where}: a percentage is from 1% to 100%, got {written!r}")
    return Percent(number)


def parse_max_fail(value: object, where: str) -> float | None:
    """`max_fail_percentage` as a number from 0 to 100, or None when not set.

    Takes a number, or text as the command line gives it (`"25"`, and `"25%"` as Ansible
    does). Raises StrategyError naming `where`.
    """
    if value is None:
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and (match := _MAX_FAIL.fullmatch(value.strip())):
        number = float(match["number"])
    # Written this way round, NaN fails the check too.
    if number is None or not 0 <= number <= 100:
        raise StrategyError(f"{where}: expected a percentage from 0 to 100, got {value!r}")
    return number


# ---------------------------------------------------------------------------------------------
# Batches and the budget.


def batch_sizes(total: int, serial: Sequence[BatchSize]) -> list[int]:
    """The size of each batch for `total` hosts, as Ansible's `_get_serialized_batches`."""
    if not serial:
        return [total] if total else []
    sizes: list[int] = []
    left = total
    while left > 0:
        size = serial[min(len(sizes), len(serial) - 1)]
        # Percentages are of all hosts, not of those left: `[1, 25%]` gives even quarters.
        taken = min(left, size.of(total) if isinstance(size, Percent) else size)
        sizes.append(taken)
        left -= taken
    return sizes


def batches(hosts: Sequence[str], serial: Sequence[BatchSize]) -> list[list[str]]:
    """`hosts` cut into batches, in order, none empty; `serial` () gives one batch."""
    cut: list[list[str]] = []
    start = 0
    for size in batch_sizes(len(hosts), serial):
        cut.append(list(hosts[start : start + size]))
        start += size
    return cut


def budget_exceeded(batch_size: int, failed: int, max_fail: float | None) -> bool:
    """Whether `failed` hosts of a batch of `batch_size` stop the rollout.

    True when the failed share is greater than `max_fail` percent; never with None.
    """
    if max_fail is None:
        return False
    if not 0 <= failed <= batch_size:
        raise ValueError(f"{failed} failed hosts in a batch of {batch_size}")
    # Exact arithmetic on the value as written: 1 of 3 with 33.3 is 33.33...% > 33.3, and a
    # float product must not put a share that equals the limit on the wrong side of it.
    return failed * 100 > Fraction(repr(max_fail)) * batch_size


# ---------------------------------------------------------------------------------------------
# The strategy of a run.


@dataclass(frozen=True)
class Strategy:
    """How a run rolls out: batch sizes (() is one batch) and the failure budget."""

    serial: tuple[BatchSize, ...] = ()
    max_fail_percentage: float | None = None

    def batches(self, hosts: Sequence[str]) -> list[list[str]]:
        return batches(hosts, self.serial)

    def budget_exceeded(self, batch_size: int, failed: int) -> bool:
        return budget_exceeded(batch_size, failed, self.max_fail_percentage)

    def __str__(self) -> str:
        serial = ", ".join(map(str, self.serial)) if self.serial else "all hosts at once"
        budget = "none" if self.max_fail_percentage is None else f"{self.max_fail_percentage:g}"
        return f"serial: {serial}; max_fail_percentage: {budget}"


def merge(
    runbook_strategy: Strategy,
    cli_serial: tuple[BatchSize, ...] | None,
    cli_max_fail: float | None,
) -> Strategy:
    """The runbook's strategy with each value given on the command line (not None) in its place."""
    strategy = runbook_strategy
    if cli_serial is not None:
        strategy = dataclasses.replace(strategy, serial=cli_serial)
    if cli_max_fail is not None:
        strategy = dataclasses.replace(strategy, max_fail_percentage=cli_max_fail)
    return strategy
