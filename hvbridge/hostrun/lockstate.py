"""What a host's run holds on it: the lock (hvbridge.lock) and what became of other runs'
guards found under it (hvbridge.guards)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hvbridge.lock import Holder


@dataclass
class LockState:
    # None: a read-only run, which takes no lock.
    holder: Holder | None = None
    break_lock: bool = False
    locked: bool = False
    heartbeat_at: float = 0.0
    note: str | None = None
    guard_notes: list[str] = field(default_factory=list)
