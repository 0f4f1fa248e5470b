"""What a platform decides: the one seam between hvbridge and a host's own tools.

Everything here is pure: a platform says which files configure the network and what
they contain, which commands apply, stop and start it, how its running state is read,
how a service is restarted, which SSH algorithms its sshd refuses, and which inventory
values its tools would misread. Tasks do the I/O (hvbridge.remote, hvbridge.guard).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

NetworkAction = Literal["restart", "stop", "start"]
ServiceAction = Literal["restart", "stop", "start", "status"]
# A field path in the host's data (as pydantic writes it) and what is wrong there.
Finding = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class Preflight:
    """What a platform makes of a host before its network files change."""

    # Why the host must not be changed, one reason each: the push refuses it.
    problems: tuple[str, ...] = ()
    # Files that would configure our devices besides ours (a NetworkManager profile that
    # owns a port now): the push removes them, kept for the revert like every file it
    # replaces.
    displaced: tuple[str, ...] = ()
    # Files to write with other content (path -> content): a file that also configures
    # other devices, less the part about ours (ifupdown's /etc/network/interfaces without
    # a port's stanza), or one of ours with what the host has now added (the DNS servers
    # of a port's old stanza). The push writes them, kept for the revert like every file
    # it replaces; one of ours here takes the place of its rendered content.
    rewritten: Mapping[str, str] = field(default_factory=dict)
    # What is worth saying in the push's message (the version of the network service).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checkpoint:
    """Shell around the guarded restart for a network service that can undo itself (a
    NetworkManager checkpoint): the inner undo, inside the guard's own. Each runs on the
    host with the run directory to keep its handle in."""

    create: str  # just before the restart; its failure fails the restart
    rollback: str  # first thing in the guard's revert (nothing when there is none)
    destroy: str  # before the guard is cancelled; its failure keeps the guard armed


class Platform(Protocol):
    @property
    def name(self) -> str:
        """The inventory's `platform:` value."""
        ...

    @property
    def template_dirs(self) -> tuple[str, ...]:
        """Directories under `templates/`, searched in this order."""
        ...

    @property
    def config_dir(self) -> str:
        """The directory of the network files it writes: where a push's leftover temp
        files are looked for."""
        ...

    @property
    def state_command(self) -> str:
        """Shell printing the running network state, as hvbridge.hoststate parses it."""
        ...

    @property
    def ssh_disabled_algorithms(self) -> Mapping[str, Sequence[str]]:
        """paramiko's `disabled_algorithms` for this platform's sshd."""
        ...

    def render(self, templates: Path, model: Any) -> dict[str, str]:
        """Every network file the host's bridges and NICs call for: full path -> content."""
        ...

    def conflict_candidates(self, ours: Iterable[str], names: Iterable[str]) -> list[str]:
        """Of the files named `names` in `config_dir`, the paths to read for `conflicts`
        (`ours`: the rendered paths)."""
        ...

    def conflicts(self, ours: Iterable[str], existing: Mapping[str, str]) -> list[str]:
        """Files besides ours (`existing`: path -> content) that the network service would
        also apply to our devices: one problem each, saying what to do."""
        ...

    def network_command(self, action: NetworkAction) -> str:
        """Shell that applies (restart), stops or starts the whole network."""
        ...

    def service_command(self, service: str, action: ServiceAction) -> str:
        """Shell that restarts (stops, starts, reports) a system service."""
        ...

    def revert_commands(self) -> tuple[str, str]:
        """Shell for the guard's revert: one that stops the network whatever state its
        service manager thinks it is in (a failed restart may have left it "failed"), and
        one that then brings it up on the restored files."""
        ...

    @property
    def restart_diagnostics(self) -> str:
        """Shell printing what explains a failed network restart when the restart's own
        output does not (EL7: the unit's journal); empty when its output says it all."""
        ...

    @property
    def file_mode(self) -> int:
        """The mode of the network files it writes (NetworkManager ignores a keyfile that
        others may read)."""
        ...

    @property
    def preflight_command(self) -> str:
        """Shell printing what the platform must know of the host before its network files
        change (EL7: whether NetworkManager runs); empty: nothing to ask, no round trip."""
        ...

    def preflight(
        self, host: str, output: str, files: Mapping[str, str], existing: Mapping[str, str]
    ) -> Preflight:
        """From what `preflight_command` printed, the files this run would own (`files`:
        path -> content, as rendered) and the other files of `config_dir` it read
        (`existing`, see `conflict_candidates`)."""
        ...

    def checkpoint(self, directory: str, seconds: int) -> Checkpoint | None:
        """The network service's own undo around a guarded restart whose guard fires after
        `seconds`; None when it has none."""
        ...

    def inventory_problems(self, data: Any) -> list[Finding]:
        """What this platform's tools would refuse or misread in a validated host's data."""
        ...


@runtime_checkable
class OwnView(Protocol):
    """A platform whose network service has a view of its own beside the kernel's
    (NetworkManager: which profile is active on which device), checked in the guarded
    restart's verification: a mismatch fails the confirm and the guard reverts. Optional:
    a platform without these members adds nothing to the verification, and no command."""

    @property
    def verify_command(self) -> str:
        """Shell printing the service's view, read with the kernel's after the restart."""
        ...

    def verify_problems(self, output: str, model: Any) -> list[str]:
        """What the service's view (`output` of `verify_command`) says against the host's
        bridges and ports (`model`): one problem each, naming what the service says."""
        ...


def own_view(platform: object) -> OwnView | None:
    """The platform's own view to verify, or None (nothing to ask: no command runs)."""
    return platform if isinstance(platform, OwnView) else None
