"""A host's step clock: where the host is (connect, lock host, a step), the running step's
deadline, and whether it overran it. The runner's watchdog reads it from its own thread."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class StepClock:
    # Where the host is (connect, lock host, a step's name), for a failure outside steps.
    phase: str = "connect"
    step: str | None = None
    timeout: float = 0.0
    deadline: float | None = None
    timed_out: str | None = None
    timed_out_step: str | None = None
    # Each finished step's duration, in the order they ran.
    seconds: list[float] = field(default_factory=list)

    def begin(self, name: str, timeout: float) -> None:
        self.step, self.timeout = name, timeout
        self.deadline = time.monotonic() + timeout

    def end(self) -> None:
        self.deadline = None

    def overran(self) -> bool:
        """True once, when the running step has passed its deadline."""
        deadline = self.deadline
        if deadline is None or self.timed_out or time.monotonic() <= deadline:
            return False
        self.timed_out_step = self.step
        self.timed_out = f"step '{self.step}' timed out after {self.timeout:g}s"
        return True
