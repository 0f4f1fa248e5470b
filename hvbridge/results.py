"""What hvbridge's tasks put in `Result.result`: the data a script uses (rendered files,
facts, the guard's outcome), with the sentence an operator reads beside it.

`str()` of each is its sentence, and so is its `repr()`: nornir_utils' print_result
pprints whatever is not a string, and a run's output should read as the CLI's does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hvbridge.netstate import NetState


@dataclass(frozen=True, repr=False)
class Said:
    """A task's sentence, with nothing more to say."""

    message: str

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


@dataclass(frozen=True, repr=False)
class Problems(Said):
    """Why a task failed, one problem a line in `message`."""

    problems: tuple[str, ...] = ()

    @classmethod
    def of(cls, problems: list[str]) -> Problems:
        return cls("\n".join(problems), tuple(problems))


@dataclass(frozen=True, repr=False)
class Rendered(Said):
    """network.render: every network file, full path -> content."""

    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class Pushed(Said):
    """network.push: the files written (in check mode: that would be), by full path, the
    files taken out of the way (kept for the revert), and temp files a killed push left,
    removed."""

    written: tuple[str, ...] = ()
    leftovers: tuple[str, ...] = ()
    displaced: tuple[str, ...] = ()


@dataclass(frozen=True, repr=False)
class Applied(Said):
    """network.apply: whether the network was restarted (in check mode: would be) and why;
    the guard's outcome (`rolled_back`: why it reverted, None when it did not)."""

    restarted: bool = False
    reason: str | None = None
    rolled_back: str | None = None


@dataclass(frozen=True, repr=False)
class Verified(Said):
    """bridge.verify, libvirt.verify: what was checked and found right."""

    checked: tuple[str, ...] = ()
    read_by: str | None = None


@dataclass(frozen=True, repr=False)
class Facts(Said):
    """facts.collect: the parsed network state, and the facts as the reports hold them
    (bridges, addresses, default route, libvirt's networks and domains)."""

    state: NetState | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class Guests(Said):
    """The libvirt steps: the domains (or network) acted on, and what was done."""

    domains: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()


@dataclass(frozen=True, repr=False)
class Steps(Said):
    """A task made of others (network.bridge): their results, by step name."""

    steps: Mapping[str, Any] = field(default_factory=dict)
