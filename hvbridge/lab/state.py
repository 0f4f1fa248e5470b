"""Where a lab keeps what it made, so that `down` can remove all of it.

`lab.json` is written before anything is created and updated as hosts start, so
a lab that died half-way up still names every link and process it made.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_VERSION = 1


@dataclass
class HostRecord:
    name: str
    address: str
    mac: str
    hypervisor: bool
    guest_mac: str | None = None
    init_pid: int | None = None
    platform: str = "el6"
    # This host's sshd profile, when it differs from the lab's (see hostfiles.host_profile).
    ssh_profile: str | None = None
    # Every NIC as [name, MAC, switch], the management NIC first (`lab up --nics`).
    nics: list[list[str]] = field(default_factory=list)


@dataclass
class LabState:
    hosts_count: int
    direct: bool
    libvirt: bool
    profile: str
    domain_type: str
    switches: list[str]
    links: list[str]
    hosts: dict[str, HostRecord] = field(default_factory=dict)
    version: int = STATE_VERSION
    nics: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LabState:
        raw: dict[str, Any] = json.loads(text)
        hosts = {name: HostRecord(**rec) for name, rec in raw.pop("hosts", {}).items()}
        return cls(hosts=hosts, **raw)


@dataclass(frozen=True)
class LabPaths:
    root: Path

    @property
    def state(self) -> Path:
        return self.root / "lab.json"

    @property
    def key(self) -> Path:
        return self.root / "id_lab"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.root / "ssh_config"

    @property
    def inventory(self) -> Path:
        return self.root / "inventory"

    def host_dir(self, name: str) -> Path:
        return self.root / "hosts" / name

    def init_config(self, name: str) -> Path:
        return self.host_dir(name) / "init.json"


def save(paths: LabPaths, state: LabState) -> None:
    tmp = paths.state.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    os.replace(tmp, paths.state)


def load(paths: LabPaths) -> LabState | None:
    if not paths.state.exists():
        return None
    return LabState.from_json(paths.state.read_text())
