"""Reports of a host with two bridges on two NICs, from a real run through the CLI: br0
over the management NIC, br1 over the second NIC on the data switch at MTU 9000. The
fleet's table of bridges (summary.json, summary.md, report.html) and the host's chain
show both bridges and their ports as the host has them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.report import validate

from .rollout_support import RUNBOOK, cli, edit_yaml


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("chain") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el6", "--hosts", "1",
             "--nics", "2", "--no-libvirt", "--direct")  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def second_bridge(lab_dir: Path, inventory: Path) -> None:
    """br1 over eth1 (its MAC from the lab's state), static on the data switch, MTU 9000."""
    state = json.loads((lab_dir / "lab.json").read_text())
    name, mac, _ = state["hosts"]["hv01"]["nics"][1]

    def add(hosts: dict[str, Any]) -> None:
        data = hosts["hv01"]["data"]
        data["nics"][name] = {"hwaddr": mac, "mtu": 9000}
        data["bridges"]["br1"] = {
            "ports": [name],
            "bootproto": "static",
            "ipaddr": "198.19.0.17",
            "prefix": 24,
            "defroute": False,
            "mtu": 9000,
        }

    edit_yaml(inventory / "hosts.yaml", add)


def test_a_host_with_two_bridges_shows_both_in_the_fleet_table(
    lab_dir: Path, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory"
    subprocess.run(["cp", "-r", str(Lab(lab_dir).paths.inventory), str(inventory)], check=True)
    second_bridge(lab_dir, inventory)
    reports = tmp_path / "reports"
    done = cli("--lab-dir", str(lab_dir), "run", str(RUNBOOK), "-i", str(inventory),
               "--reports-dir", str(reports), "--state-dir", str(tmp_path / "state"))  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    (run_dir,) = [path for path in reports.iterdir() if path.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text())
    validate(summary)
    rows = {(row["host"], row["bridge"]): row for row in summary["bridges"]}
    assert sorted(rows) == [("hv01", "br0"), ("hv01", "br1")]
    br0, br1 = rows["hv01", "br0"], rows["hv01", "br1"]
    assert [port["name"] for port in br0["ports"]] == ["eth0"]
    assert br0["chain"] == "eth0 -> br0"
    assert br1 == {
        "host": "hv01",
        "bridge": "br1",
        "ports": [{"name": "eth1", "kind": "veth", "mtu": 9000}],
        "mtu": 9000,
        "stp": False,
        "forward_delay": br1["forward_delay"],
        "addresses": ["198.19.0.17/24"],
        "chain": "eth1 -> br1",
    }
    # What the host itself says, read apart from hvbridge.
    with Lab(lab_dir).connect("hv01") as conn:
        delay = conn.run("cat /sys/class/net/br1/bridge/forward_delay").stdout.strip()
        ports = conn.run("ls /sys/class/net/br1/brif").stdout.split()
    assert br1["forward_delay"] == int(delay) / 100 and ports == ["eth1"]
    host = json.loads((run_dir / "hosts" / "hv01.json").read_text())
    validate(host)
    assert host["facts"]["devices"]["eth1"]["master"] == "br1"
    markdown = (run_dir / "summary.md").read_text()
    assert "| hv01 | br1 | eth1 (veth, MTU 9000) | 9000 | off |" in markdown
    html = (run_dir / "report.html").read_text()
    assert '<tr data-bridge-of="hv01" data-bridge="br0">' in html
    assert '<tr data-bridge-of="hv01" data-bridge="br1">' in html
    assert "<td>eth1 (veth, MTU 9000)</td>" in html
