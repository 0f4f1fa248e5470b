"""What the per-platform lab modules (test_el9_rollout, test_debian_rollout,
test_proxmox_rollout, test_ubuntu_rollout) share: a lab of one platform brought up and
down through the CLI, a command on one of its hosts, the lab's inventory cut down to a
test's own hosts, a run through the CLI, and a host's JSON report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.ssh import CommandResult

from .rollout_support import cli, edit_yaml


def platform_lab(
    tmp_path_factory: pytest.TempPathFactory, platform: str, hosts: int = 3, nics: int = 1
) -> Iterator[Path]:
    """`hvbridge lab up --platform PLATFORM --hosts N --nics M`, its directory, then `lab
    down`."""
    directory = tmp_path_factory.mktemp(platform) / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", platform,
             "--hosts", str(hosts), "--nics", str(nics))  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def on(lab_dir: Path, host: str, command: str) -> CommandResult:
    with Lab(lab_dir).connect(host) as conn:
        return conn.run(command, timeout=120)


def inventory(lab_dir: Path, tmp_path: Path, *keep: str) -> Path:
    """The lab's inventory, with only `keep` (each test has hosts of its own)."""
    target = tmp_path / "inventory"
    target.mkdir()
    for name in ("groups.yaml", "defaults.yaml", "hosts.yaml"):
        (target / name).write_text((lab_dir / "inventory" / name).read_text())
    edit_yaml(
        target / "hosts.yaml", lambda hosts: [hosts.pop(h) for h in list(hosts) if h not in keep]
    )
    return target


def run(runbook: Path, inv: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    done = cli("run", str(runbook), "-i", str(inv), "--state-dir", str(tmp_path / "state"),
               "--reports-dir", str(tmp_path / "reports"), *extra)  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def host_report(tmp_path: Path, host: str) -> dict[str, object]:
    (report,) = sorted((tmp_path / "reports").glob(f"*/hosts/{host}.json"))[-1:]
    return dict(json.loads(report.read_text()))
