"""How a host's run went so far, for its status in state.json while it runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Tally:
    failed: bool = False
    changed: bool = False
    # A signal stopped the run before this host started, or between two of its steps.
    not_started: bool = False
    interrupted: bool = False
