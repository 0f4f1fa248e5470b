"""A fleet of an el6 host (initscripts), an el8 host (NetworkManager, libvirtd) and an el9
host (NetworkManager, libvirt's modular daemons) in one lab, bridged by one run of the
whole seed procedure, in one report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.ssh import CommandResult

from .rollout_support import PROJECT, cli


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("mixed") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el6:1,el8:1,el9:1")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def on(lab_dir: Path, host: str, command: str) -> CommandResult:
    with Lab(lab_dir).connect(host) as conn:
        return conn.run(command, timeout=120)


def test_el6_el8_and_el9_hosts_are_bridged_in_one_run_and_one_report(
    lab_dir: Path, tmp_path: Path
) -> None:
    hosts = (lab_dir / "inventory" / "hosts.yaml").read_text()
    assert "platform: el8" in hosts and "platform: el9" in hosts

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
    }
    assert (
        "TYPE=Bridge" in on(lab_dir, "hv01", "cat /etc/sysconfig/network-scripts/ifcfg-br0").stdout
    )
    assert (
        on(lab_dir, "hv01", "test -e /etc/NetworkManager/system-connections/br0.nmconnection").ok
        is False
    )
    for host in ("hv02", "hv03"):
        active = on(lab_dir, host, "nmcli -t -f NAME,DEVICE connection show --active").stdout
        assert {"br0:br0", "br0-port-eth0:eth0"} <= set(active.split()), active
    # The NAT network gone, each restarted libvirt as it runs it: EL8 libvirtd, EL9 the
    # modular daemons.
    el8 = on(lab_dir, "hv02", "journalctl -u libvirtd -u virtqemud").stdout
    assert "Stopping Virtualization daemon..." in el8 and "virtqemud" not in el8, el8
    el9 = on(lab_dir, "hv03", "journalctl -u libvirtd -u virtqemud -u virtnetworkd").stdout
    assert "Stopping Virtualization qemu daemon..." in el9, el9
    assert "Stopping Virtualization network daemon..." in el9, el9
    assert "Stopping Virtualization daemon..." not in el9, el9
    for host in ("hv01", "hv02", "hv03"):
        assert "master br0" in on(lab_dir, host, "ip -o link show eth0").stdout
        assert on(lab_dir, host, "virsh start v1").ok
        assert "vnet0" in on(lab_dir, host, "ls /sys/class/net/br0/brif").stdout.split()
        assert "default" not in on(lab_dir, host, "virsh net-list --all --name").stdout
