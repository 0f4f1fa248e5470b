"""The host's network state as last read, and by which step: a step that keeps the
running network as it is (hvbridge.hosttask's `read_only`, `files_only`) may use what an
earlier step read instead of reading it again; any other step forgets it as it begins,
keeping it aside as `opening`: what the network was when that step began, for a step that
asks for exactly that (network.apply decides from it before it changes anything)."""

from __future__ import annotations

from dataclasses import dataclass

from hvbridge.netstate import NetState


@dataclass
class NetStateCache:
    state: NetState | None = None
    read_by: str | None = None
    read_at: int = 0
    steps: int = 0
    step: str | None = None
    # The state earlier steps left, and which one read it, when a step that may change the
    # network began; None once another step begins.
    opening: tuple[NetState, str | None] | None = None

    def step_begins(self, name: str, keeps_network: bool) -> None:
        self.steps += 1
        self.step = name
        self.opening = None
        if not keeps_network:
            self.opening = self.earlier()
            self.forget()

    def remember(self, state: NetState) -> None:
        self.state, self.read_by, self.read_at = state, self.step, self.steps

    def forget(self) -> None:
        self.state, self.read_by = None, None

    def earlier(self) -> tuple[NetState, str | None] | None:
        """The state an earlier step read, and that step's name; None when there is none
        (a step reads afresh what it read itself)."""
        if self.state is not None and self.read_at < self.steps:
            return self.state, self.read_by
        return None
