"""A mixed fleet in one run: `lab up --platform el6:2,el7:2`, then the seed's whole procedure
(runbooks/bridge.yaml: the network half and the guests, as the demo runs it) on all four
hypervisors through the jump host, through the command line. One run, one report: every
host bridged over its own NIC (eth0 on el6, ens3 on el7), each host's platform in the
report, and a second run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hvbridge.domainxml import interfaces
from hvbridge.lab.lifecycle import Lab
from hvbridge.ssh import Connection

from .conftest import HostPlatform
from .rollout_support import PROJECT, cli
from .test_lab_hypervisors import brctl_ports, ipv4_of

BRIDGE = PROJECT / "runbooks" / "bridge.yaml"
FLEET = {
    "hv01": HostPlatform("el6"),
    "hv02": HostPlatform("el6"),
    "hv03": HostPlatform("el7"),
    "hv04": HostPlatform("el7"),
}


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("mixed") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el6:2,el7:2")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def run(lab_dir: Path, tmp_path: Path) -> Any:
    return cli("run", str(BRIDGE), "-i", str(lab_dir / "inventory"),
               "--state-dir", str(tmp_path / "state"),
               "--reports-dir", str(tmp_path / "reports"))  # fmt: skip


def report_of(tmp_path: Path, stdout: str) -> Path:
    """The report directory of the run whose output is `stdout`."""
    (line,) = [line for line in stdout.splitlines() if line.startswith("reports: ")]
    directory = Path(line.rpartition("(")[2].rstrip(")"))
    assert directory.parent == tmp_path / "reports"
    return directory


def assert_bridged(conn: Connection, address: str, nic: str, guest_mac: str) -> None:
    """What the host runs, read with its own tools: br0 over the NIC with the address and
    the default route, v1 on br0, the NAT network gone."""
    assert brctl_ports(conn.run("brctl show").stdout) == {"br0": [nic]}
    assert ipv4_of(conn, "br0") == [f"{address}/17"]
    assert ipv4_of(conn, nic) == []
    assert conn.run("ip -4 route show default").stdout.split()[:5] == [
        "default", "via", "198.18.128.1", "dev", "br0",
    ]  # fmt: skip
    v1 = [i for i in interfaces(conn.run("virsh dumpxml --inactive v1").stdout) if i.mac]
    assert [(i.type, i.source, i.mac) for i in v1] == [("bridge", "br0", guest_mac)]
    assert conn.run("virsh -q net-list --all").stdout.strip() == ""


def test_one_run_bridges_the_mixed_fleet_and_a_second_changes_nothing(
    lab_dir: Path, tmp_path: Path
) -> None:
    lab = Lab(lab_dir)
    state = lab.require_state()
    assert {name: rec.platform for name, rec in state.hosts.items() if rec.hypervisor} == {
        name: platform.name for name, platform in FLEET.items()
    }
    done = run(lab_dir, tmp_path)
    assert done.returncode == 2, done.stdout[-4000:] + done.stderr
    for name, platform in FLEET.items():
        assert f"== {name}: changed" in done.stdout
        rec = state.hosts[name]
        with lab.connect(name, state) as conn:
            assert_bridged(conn, rec.address, platform.nic, rec.guest_mac)
            assert "BRIDGE=br0" in conn.run(f"cat {platform.ifcfg()}").stdout
            # The seed's step 6: the guest, started, joins br0 beside the NIC.
            assert conn.run("virsh start v1").ok
            assert brctl_ports(conn.run("brctl show").stdout) == {"br0": [platform.nic, "vnet0"]}

    report = report_of(tmp_path, done.stdout)
    summary = json.loads((report / "summary.json").read_text())
    assert {name: line["platform"] for name, line in summary["hosts"].items()} == {
        name: platform.name for name, platform in FLEET.items()
    }
    assert {name: line["status"] for name, line in summary["hosts"].items()} == dict.fromkeys(
        FLEET, "changed"
    )
    summary_md = (report / "summary.md").read_text()
    html = (report / "report.html").read_text()
    for name, platform in FLEET.items():
        host = json.loads((report / "hosts" / f"{name}.json").read_text())
        assert (host["platform"], host["status"]) == (platform.name, "changed")
        assert host["facts"]["bridges"]["br0"]["ports"] == [platform.nic]
        assert f"| [{name}](hosts/{name}.md) | {platform.name} | changed |" in summary_md
        assert f'<h2>{name} <span class="platform">{platform.name}</span>' in html
    # Each host restarted its network its own way: el6's init script, el7's systemd.
    with lab.connect("hv03", state) as conn:
        assert "Bringing up interface br0:  [  OK  ]" in conn.run("journalctl -u network").stdout

    again = run(lab_dir, tmp_path)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr
    for name, platform in FLEET.items():
        assert f"== {name}: ok" in again.stdout
        rec = state.hosts[name]
        with lab.connect(name, state) as conn:
            assert brctl_ports(conn.run("brctl show").stdout) == {"br0": [platform.nic, "vnet0"]}
            assert ipv4_of(conn, "br0") == [f"{rec.address}/17"]
    rerun = json.loads((report_of(tmp_path, again.stdout) / "summary.json").read_text())
    assert rerun["counts"]["ok"] == len(FLEET) and rerun["exit_code"] == 0
    assert "no network file changed: not restarted" in again.stdout
