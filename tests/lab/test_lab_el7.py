"""A mixed lab (`lab up --platform el6:1,el7:1`) through the command line: the el7 host
answers systemctl and journalctl as EL7 does, `service` redirects, its NIC is ens3; then the
network runbook and the seed's whole procedure bridge both hosts, each over its own NIC."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hvbridge.lab.lifecycle import Lab
from hvbridge.ssh import CommandResult

from .rollout_support import PROJECT, cli

SCRIPTS = "/etc/sysconfig/network-scripts"
JOB_FAILED = (
    "Job for network.service failed because the control process exited with error code."
    ' See "systemctl status network.service" and "journalctl -xe" for details.'
)


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("mixed") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el6:1,el7:1")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def on(lab_dir: Path, host: str, command: str) -> CommandResult:
    with Lab(lab_dir).connect(host) as conn:
        return conn.run(command, timeout=120)


def test_lab_status_and_inventory_say_each_host_s_platform(lab_dir: Path) -> None:
    status = cli("--lab-dir", str(lab_dir), "lab", "status")
    assert status.returncode == 0, status.stderr
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()}
    assert rows["HOST"][:2] == ["HOST", "PLATFORM"]
    assert rows["hv01"][1] == "el6" and rows["hv02"][1] == "el7" and rows["jump"][1] == "-"
    assert rows["hv01"][-1] == rows["hv02"][-1] == "ok"
    hosts = yaml.safe_load((lab_dir / "inventory" / "hosts.yaml").read_text())
    assert hosts["hv02"]["platform"] == "el7"
    assert list(hosts["hv02"]["data"]["nics"]) == ["ens3"]
    runbook = str(PROJECT / "runbooks" / "bridge-network.yaml")
    listed = cli("run", runbook, "-i", str(lab_dir / "inventory"), "--limit", "&platform=el7",
                 "--list-hosts")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "hv02" in listed.stdout and "hv01" not in listed.stdout


def test_the_el7_host_s_nic_is_ens3_configured_by_ifcfg_ens3(lab_dir: Path) -> None:
    address = Lab(lab_dir).require_state().hosts["hv02"].address
    assert f"inet {address}/17" in on(lab_dir, "hv02", "ip -4 -o addr show dev ens3").stdout
    assert not on(lab_dir, "hv02", "ip link show eth0").ok
    assert "DEVICE=ens3" in on(lab_dir, "hv02", f"cat {SCRIPTS}/ifcfg-ens3").stdout
    assert on(lab_dir, "hv01", "ip link show eth0").ok


def test_systemctl_answers_for_network_and_libvirtd(lab_dir: Path) -> None:
    active = on(lab_dir, "hv02", "systemctl is-active network")
    assert (active.exit_status, active.stdout) == (0, "active\n")
    status = on(lab_dir, "hv02", "systemctl status network")
    assert status.exit_status == 0, status.stdout + status.stderr
    assert "network.service - LSB: Bring up/down networking" in status.stdout
    assert re.search(r"Active: active \(exited\) since ", status.stdout)
    assert re.search(r"network\[\d+\]: Bringing up interface ens3:  \[  OK  \]", status.stdout)
    libvirtd = on(lab_dir, "hv02", "systemctl status libvirtd.service")
    assert libvirtd.exit_status == 0, libvirtd.stdout + libvirtd.stderr
    pid = on(lab_dir, "hv02", "cat /run/libvirtd.pid").stdout.strip()
    assert re.search(r"Active: active \(running\) since ", libvirtd.stdout)
    assert f"Main PID: {pid} (libvirtd)" in libvirtd.stdout
    restarted = on(lab_dir, "hv02", "systemctl restart libvirtd && virsh -q list --all")
    assert restarted.exit_status == 0, restarted.stderr
    assert "v1" in restarted.stdout
    assert on(lab_dir, "hv02", "cat /run/libvirtd.pid").stdout.strip() != pid
    restart = on(lab_dir, "hv02", "systemctl restart network; echo rc=$?")
    assert (restart.stdout, restart.stderr) == ("rc=0\n", "")
    journal = on(lab_dir, "hv02", "journalctl -u network --no-pager").stdout
    assert "systemd[1]: Stopping LSB: Bring up/down networking..." in journal
    assert re.search(r"network\[\d+\]: Shutting down interface ens3:  \[  OK  \]", journal)
    assert on(lab_dir, "hv02", "systemctl is-enabled network").stdout == "enabled\n"


def test_service_network_restart_redirects_to_systemctl(lab_dir: Path) -> None:
    restart = on(lab_dir, "hv02", "service network restart")
    assert restart.exit_status == 0, restart.stderr
    assert restart.stdout == "Restarting network (via systemctl):  [  OK  ]\n"
    libvirtd = on(lab_dir, "hv02", "service libvirtd restart")
    assert libvirtd.exit_status == 0, libvirtd.stderr
    assert libvirtd.stderr == "Redirecting to /bin/systemctl restart libvirtd.service\n"
    # The el6 host of the same lab runs its init scripts directly, as EL6 does.
    el6 = on(lab_dir, "hv01", "service network restart")
    assert el6.exit_status == 0, el6.stdout
    assert "Bringing up interface eth0:  [  OK  ]" in el6.stdout


def test_a_device_that_fails_fails_network_service_as_systemd_says(lab_dir: Path) -> None:
    extra = f"{SCRIPTS}/ifcfg-eth1"
    on(lab_dir, "hv02", f"printf 'DEVICE=eth1\\nONBOOT=yes\\n' > {extra}")
    try:
        failed = on(lab_dir, "hv02", "systemctl restart network")
        assert (failed.exit_status, failed.stdout, failed.stderr) == (1, "", JOB_FAILED + "\n")
        status = on(lab_dir, "hv02", "systemctl status network")
        assert status.exit_status == 3
        assert re.search(r"Active: failed \(Result: exit-code\) since ", status.stdout)
        reason = "Device eth1 does not seem to be present, delaying initialization."
        assert reason in status.stdout
        assert reason in on(lab_dir, "hv02", "journalctl -xe").stdout
        active = on(lab_dir, "hv02", "systemctl is-active network")
        assert (active.exit_status, active.stdout) == (3, "failed\n")
        via_service = on(lab_dir, "hv02", "service network restart")
        assert via_service.exit_status == 1
        assert via_service.stdout == "Restarting network (via systemctl):  [FAILED]\n"
        assert via_service.stderr == JOB_FAILED + "\n"
    finally:
        on(lab_dir, "hv02", f"rm -f {extra}")
    assert on(lab_dir, "hv02", "systemctl start network").ok
    assert on(lab_dir, "hv02", "systemctl is-active network").stdout == "active\n"


def _ports(lab_dir: Path, host: str) -> dict[str, list[str]]:
    """`brctl show` as bridge -> interfaces."""
    bridges: dict[str, list[str]] = {}
    current = ""
    for line in on(lab_dir, host, "brctl show").stdout.splitlines()[1:]:
        fields = line.split()
        if fields and not line[0].isspace():
            current = fields[0]
            bridges[current] = fields[3:4]
        elif fields:
            bridges[current].append(fields[0])
    return bridges


def test_the_runbooks_bridge_the_mixed_fleet_each_host_over_its_own_nic(
    lab_dir: Path, tmp_path: Path
) -> None:
    inventory = str(lab_dir / "inventory")
    common = ("-i", inventory, "--state-dir", str(tmp_path / "state"),
              "--reports-dir", str(tmp_path / "reports"))  # fmt: skip
    network = cli("run", str(PROJECT / "runbooks" / "bridge-network.yaml"), *common)
    assert network.returncode == 2, network.stdout[-3000:] + network.stderr
    assert _ports(lab_dir, "hv01")["br0"] == ["eth0"]
    assert _ports(lab_dir, "hv02")["br0"] == ["ens3"]
    assert "BRIDGE=br0" in on(lab_dir, "hv02", f"cat {SCRIPTS}/ifcfg-ens3").stdout
    # The guarded restart went through systemd on the el7 host.
    journal = on(lab_dir, "hv02", "journalctl -u network -n 30").stdout
    assert re.search(r"network\[\d+\]: Bringing up interface br0:  \[  OK  \]", journal)

    whole = cli("run", str(PROJECT / "runbooks" / "bridge.yaml"), *common)
    assert whole.returncode == 2, whole.stdout[-3000:] + whole.stderr
    for host, nic in (("hv01", "eth0"), ("hv02", "ens3")):
        assert on(lab_dir, host, "virsh start v1").ok
        assert _ports(lab_dir, host)["br0"] == [nic, "vnet0"], host
        assert "default" not in on(lab_dir, host, "virsh -q net-list --all").stdout
    libvirtd = on(lab_dir, "hv02", "journalctl -u libvirtd").stdout
    assert "systemd[1]: Stopping Virtualization daemon..." in libvirtd
    assert on(lab_dir, "hv02", "systemctl is-active libvirtd network").stdout == (
        "active\nactive\n"
    )


def test_the_demo_bridges_a_mixed_fleet_behind_an_el6_profile_jump(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for part in ("tasks", "templates", "runbooks"):
        (project / part).symlink_to(PROJECT / part)
    demo_lab = tmp_path / "lab"
    done = cli("--project", str(project), "--lab-dir", str(demo_lab), "demo",
               "--platform", "el6:1,el7:1")  # fmt: skip
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr
    _, _, after = done.stdout.partition("== hv02 after (el7, ")
    bridges = after.split("# ip -4")[0]
    assert re.search(r"br0\s+\S+\s+no\s+ens3\s+vnet0", bridges), bridges
    assert "v1     running" in after
    assert "== hv01 after (el6, " in done.stdout
    assert not demo_lab.exists()
