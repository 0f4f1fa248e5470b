"""An el7 host whose network restart fails is put back as it was, and says why.

On EL7 a failed restart leaves `network.service` failed, and systemd does nothing to
stop a failed unit: a revert that stopped the network with `systemctl stop network`
left the new bridge up with the address. The failure's reason is in the unit's
journal, not in what `systemctl restart` prints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hvbridge.lab.lifecycle import Lab
from hvbridge.ssh import CommandResult

from .rollout_support import RUNBOOK, cli

SCRIPTS = "/etc/sysconfig/network-scripts"
# A device the host does not have: initscripts fail the whole restart on it.
STRAY = f"{SCRIPTS}/ifcfg-eth1"
REASON = "Device eth1 does not seem to be present, delaying initialization."


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("el7") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el7", "--hosts", "1",
             "--direct", "--no-libvirt")  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def on(lab_dir: Path, command: str) -> CommandResult:
    with Lab(lab_dir).connect("hv01") as conn:
        return conn.run(command, timeout=120)


def test_a_failed_restart_on_el7_reverts_the_host_as_it_was_and_says_why(
    lab_dir: Path, tmp_path: Path
) -> None:
    address = Lab(lab_dir).require_state().hosts["hv01"].address
    steps = yaml.safe_load(RUNBOOK.read_text())
    for step in steps:
        if step["task"] == "network.apply":
            step["args"] = {"timeout": 30}
    runbook = tmp_path / "bridge-network.yaml"
    runbook.write_text(yaml.safe_dump(steps, sort_keys=False))
    assert on(lab_dir, f"printf 'DEVICE=eth1\\nONBOOT=yes\\n' > {STRAY}").ok

    done = cli("run", str(runbook), "-i", str(lab_dir / "inventory"),
               "--state-dir", str(tmp_path / "state"),
               "--reports-dir", str(tmp_path / "reports"))  # fmt: skip

    assert done.returncode == 8, done.stdout + done.stderr
    assert "== hv01: rolled back" in done.stdout
    (report,) = (tmp_path / "reports").glob("*/hosts/hv01.json")
    host = json.loads(report.read_text())
    reason = host["rollback"]["reason"]
    # The init script's own words, from the unit's journal.
    assert reason.startswith("systemctl restart network failed (exit 1): "), reason
    assert REASON in reason, reason
    (apply,) = [step for step in host["steps"] if step["name"] == "restart network (guarded)"]
    assert apply["message"] == (
        f"rolled back: {reason}; reverted: addresses and default route are as before"
    )
    # As before the run: the address on ens3, no bridge, the old files back.
    assert f"inet {address}/17" in on(lab_dir, "ip -4 -o addr show dev ens3").stdout
    assert not on(lab_dir, "ip link show br0").ok
    assert not on(lab_dir, f"test -e {SCRIPTS}/ifcfg-br0").ok
    assert "BRIDGE" not in on(lab_dir, f"cat {SCRIPTS}/ifcfg-ens3").stdout
