"""What this run changed on a host, or would change in check mode: later steps decide
from it (restart the network, restart libvirtd, verify or not) and a rollback names it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Changes:
    # Network files written (or, in check mode, that would be).
    network_files: list[str] = field(default_factory=list)
    # The steps that changed network files: a rollback restores what they wrote.
    network_file_steps: list[str] = field(default_factory=list)
    # Check mode: network.apply would restart (files changed, or the host does not run them).
    network_would_restart: bool = False
    # Domains whose definition this run changed, and why libvirtd must restart.
    guests: list[str] = field(default_factory=list)
    libvirtd_restart_for: list[str] = field(default_factory=list)
    # Why the guarded restart was rolled back; None when it was not.
    rolled_back: str | None = None
