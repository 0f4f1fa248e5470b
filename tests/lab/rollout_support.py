"""Helpers for rollout tests: inventory copies, runbook copies, reading hosts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from hvbridge.lab.lifecycle import Lab
from hvbridge.runner import RunOutcome, RunRequest, run

PROJECT = Path(__file__).resolve().parents[2]
RUNBOOK = PROJECT / "runbooks" / "bridge-network.yaml"


def copy_inventory(lab: Lab, target: Path) -> Path:
    shutil.copytree(lab.paths.inventory, target)
    return target


def edit_yaml(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def runbook_with_timeout(target: Path, seconds: int) -> Path:
    steps = yaml.safe_load(RUNBOOK.read_text())
    for step in steps:
        if step["task"] == "network.apply":
            step["args"] = {"timeout": seconds}
    target.write_text(yaml.safe_dump(steps, sort_keys=False))
    return target


def rollout(inventory: Path, runbook: Path = RUNBOOK, **options: Any) -> RunOutcome:
    return run(RunRequest(project=PROJECT, runbook=runbook, inventory=inventory, **options))


def cli(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    argv = [*prefix, sys.executable, "-m", "hvbridge.cli", "--project", str(PROJECT), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def accepted_logins(lab: Lab, host: str) -> int:
    """sshd's count of accepted logins on a lab host, read from inside its namespace."""
    pid = lab.require_state().hosts[host].init_pid
    out = subprocess.run(
        ["nsenter", "-t", str(pid), "-m", "--", "cat", "/var/log/sshd.log"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.count("Accepted publickey")
