"""A fleet of an el6 host (initscripts), an el9 host (NetworkManager), a debian host
(ifupdown), a proxmox host (ifupdown2) and an ubuntu host (netplan, systemd-networkd) in one
lab, bridged by one run of the whole seed procedure, in one report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab import ifupdown
from hvbridge.lab.lifecycle import Lab
from hvbridge.ssh import CommandResult

from .rollout_support import PROJECT, cli


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("fleet") / "lab"
    up = cli(
        "--lab-dir",
        str(directory),
        "lab",
        "up",
        "--platform",
        "el6:1,el9:1,debian:1,proxmox:1,ubuntu:1",
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def on(lab_dir: Path, host: str, command: str) -> CommandResult:
    with Lab(lab_dir).connect(host) as conn:
        return conn.run(command, timeout=120)


def test_el6_el9_debian_proxmox_and_ubuntu_hosts_are_bridged_in_one_run_and_one_report(
    lab_dir: Path, tmp_path: Path
) -> None:
    hosts = (lab_dir / "inventory" / "hosts.yaml").read_text()
    assert "platform: el9" in hosts and "platform: debian" in hosts
    assert "platform: proxmox" in hosts and "platform: ubuntu" in hosts

    done = cli("run", str(PROJECT / "runbooks" / "bridge.yaml"),
               "-i", str(lab_dir / "inventory"), "--state-dir", str(tmp_path / "state"),
               "--reports-dir", str(tmp_path / "reports"))  # fmt: skip

    assert done.returncode == 2, done.stdout + done.stderr
    (summary,) = (tmp_path / "reports").glob("*/summary.json")
    report = json.loads(summary.read_text())
    assert {name: host["status"] for name, host in report["hosts"].items()} == {
        "hv01": "changed",
        "hv02": "changed",
        "hv03": "changed",
        "hv04": "changed",
        "hv05": "changed",
    }
    assert (
        "TYPE=Bridge" in on(lab_dir, "hv01", "cat /etc/sysconfig/network-scripts/ifcfg-br0").stdout
    )
    active = on(lab_dir, "hv02", "nmcli -t -f NAME,DEVICE connection show --active").stdout
    assert {"br0:br0", "br0-port-eth0:eth0"} <= set(active.split()), active
    ours = on(lab_dir, "hv03", "cat /etc/network/interfaces.d/hvbridge").stdout
    assert "bridge_ports eth0" in ours, ours
    assert ifupdown.FOREIGN_STANZA in on(lab_dir, "hv03", "cat /etc/network/interfaces").stdout
    checked = on(lab_dir, "hv04", "ifquery -a -c")
    assert checked.ok and "bridge-ports eno1" in checked.stdout, checked.stdout
    netplan = on(lab_dir, "hv05", "cat /etc/netplan/90-hvbridge.yaml").stdout
    assert "interfaces: [enp1s0]" in netplan, netplan
    # Debian restarts its one libvirtd through systemctl.
    debian = on(lab_dir, "hv03", "journalctl -u libvirtd").stdout
    assert "Stopping Virtualization daemon..." in debian, debian
    nics = {"hv01": "eth0", "hv02": "eth0", "hv03": "eth0", "hv04": "eno1", "hv05": "enp1s0"}
    for host, nic in nics.items():
        assert "master br0" in on(lab_dir, host, f"ip -o link show {nic}").stdout
        assert on(lab_dir, host, "virsh start v1").ok
        assert "vnet0" in on(lab_dir, host, "ls /sys/class/net/br0/brif").stdout.split()
        assert "default" not in on(lab_dir, host, "virsh net-list --all --name").stdout
