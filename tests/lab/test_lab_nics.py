"""A lab whose hypervisors have two NICs (`lab up --nics 2`): the second NIC on the data
switch at MTU 9000, unconfigured, named as each platform names a further NIC, recorded in
the lab's state; a jumbo frame crosses the switch unfragmented to the controller, and the
IPv6 gateway answers on the hypervisors' switch. What issue 16's topology tests build on."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.ssh import CommandResult

from .rollout_support import cli


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("nics") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el6:1,el7:1",
             "--nics", "2", "--no-libvirt")  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        assert "hvl-" not in links, links


def on(lab_dir: Path, host: str, command: str) -> CommandResult:
    with Lab(lab_dir).connect(host) as conn:
        return conn.run(command, timeout=120)


def test_each_hypervisor_has_a_second_nic_on_the_data_switch(lab_dir: Path) -> None:
    state = json.loads((lab_dir / "lab.json").read_text())
    assert state["nics"] == 2
    assert "hvl-data" in state["switches"]
    nics = {name: host["nics"] for name, host in state["hosts"].items()}
    assert [nic[0] for nic in nics["hv01"]] == ["eth0", "eth1"]
    assert [nic[0] for nic in nics["hv02"]] == ["ens3", "ens4"]
    assert nics["hv01"][1][2] == "hvl-data"
    for host, second in (("hv01", "eth1"), ("hv02", "ens4")):
        link = json.loads(on(lab_dir, host, f"ip -j link show {second}").stdout)[0]
        mac = next(nic[1] for nic in nics[host] if nic[0] == second)
        assert (link["mtu"], link["address"]) == (9000, mac)
        addresses = json.loads(on(lab_dir, host, f"ip -j addr show {second}").stdout)[0]
        assert addresses["addr_info"] == [], "a second NIC starts unconfigured"


def test_a_jumbo_frame_crosses_the_data_switch_unfragmented(lab_dir: Path) -> None:
    up = on(lab_dir, "hv01", "ip link set eth1 up && ip addr add 198.19.0.17/24 dev eth1")
    assert up.exit_status == 0, up.stderr
    jumbo = on(lab_dir, "hv01", "ping -c 1 -W 5 -M do -s 8972 198.19.0.1")
    assert jumbo.exit_status == 0, jumbo.stdout + jumbo.stderr
    # One byte more does not fit 9000 with fragmentation forbidden: the ping above proved
    # the MTU, not a path that fragments.
    over = on(lab_dir, "hv01", "ping -c 1 -W 2 -M do -s 8973 198.19.0.1")
    assert over.exit_status != 0
    assert "message too long" in (over.stdout + over.stderr).lower()


def test_the_ipv6_gateway_answers_on_the_hypervisors_switch(lab_dir: Path) -> None:
    add = on(lab_dir, "hv02", "ip -6 addr add fd48:6862:0:2::102/64 dev ens3 nodad")
    assert add.exit_status == 0, add.stderr
    ping = on(lab_dir, "hv02", "ping -6 -c 1 -W 5 fd48:6862:0:2::1")
    assert ping.exit_status == 0, ping.stdout + ping.stderr
