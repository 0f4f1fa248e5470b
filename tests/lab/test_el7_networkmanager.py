"""An el7 host where real NetworkManager runs: refused before anything changes, unless every
network file hvbridge would own says NM_CONTROLLED=no (NetworkManager reads ifcfg files on
EL7 and would manage those devices beside initscripts). Also: NetworkManager runs in a lab
host as hvbridge.lab.networkmanager starts it, and `lab down` leaves none of it behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.ssh import CommandResult

from .rollout_support import RUNBOOK, cli, copy_inventory, edit_yaml

SCRIPTS = "/etc/sysconfig/network-scripts"


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("el7nm") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el7", "--hosts", "1",
             "--no-libvirt")  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def on(lab_dir: Path, command: str) -> CommandResult:
    with Lab(lab_dir).connect("hv01") as conn:
        return conn.run(command, timeout=120)


def run(inventory: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    done = cli("run", str(RUNBOOK), "-i", str(inventory),
               "--state-dir", str(tmp_path / "state"),
               "--reports-dir", str(tmp_path / "reports"), *extra)  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_networkmanager_runs_in_the_lab_host_with_sys_read_only_for_it_alone(
    lab_dir: Path,
) -> None:
    assert on(lab_dir, "systemctl is-active NetworkManager").stdout.strip() == "inactive"
    started = on(lab_dir, "systemctl start NetworkManager")
    assert started.ok, started.stdout + started.stderr
    assert on(lab_dir, "systemctl is-active NetworkManager").stdout.strip() == "active"
    assert on(lab_dir, "nmcli -t -f RUNNING general").stdout.strip() == "running"
    assert "ens3:ethernet:" in on(lab_dir, "nmcli -t device").stdout
    mounts = on(lab_dir, "pid=$(pidof NetworkManager); awk '$5 == \"/sys\" {print $6}'"
                " /proc/$pid/mountinfo; echo --; awk '$5 == \"/sys\" {print $6}'"
                " /proc/self/mountinfo").stdout  # fmt: skip
    theirs, ours = mounts.split("--\n")
    assert theirs.split()[-1].startswith("ro,"), mounts
    assert ours.split()[-1].startswith("rw,"), mounts


def test_a_host_where_networkmanager_would_manage_a_file_is_refused_and_left_as_it_was(
    lab_dir: Path, tmp_path: Path
) -> None:
    assert on(lab_dir, "systemctl start NetworkManager").ok
    before = on(lab_dir, f"cat {SCRIPTS}/ifcfg-ens3; ip -4 -o addr show").stdout
    inventory = copy_inventory(Lab(lab_dir), tmp_path / "inventory")
    edit_yaml(
        inventory / "hosts.yaml",
        lambda hosts: hosts["hv01"]["data"]["nics"]["ens3"].update(nm_controlled=True),
    )

    code, output = run(inventory, tmp_path)

    assert code == 4, output
    assert (
        "hv01: NetworkManager is running and would manage ifcfg-ens3 (NM_CONTROLLED=yes)"
        " beside initscripts: refusing to change the host." in output
    ), output
    assert on(lab_dir, f"cat {SCRIPTS}/ifcfg-ens3; ip -4 -o addr show").stdout == before
    assert not on(lab_dir, f"test -e {SCRIPTS}/ifcfg-br0").ok
    assert not on(lab_dir, "ip link show br0").ok


def test_with_every_file_nm_controlled_no_networkmanager_is_no_reason_to_refuse(
    lab_dir: Path, tmp_path: Path
) -> None:
    assert on(lab_dir, "systemctl start NetworkManager").ok
    code, output = run(lab_dir / "inventory", tmp_path, "--check")
    assert code == 2, output
    assert "NetworkManager" not in output, output


def test_lab_down_leaves_no_networkmanager_or_system_bus(lab_dir: Path) -> None:
    assert on(lab_dir, "systemctl start NetworkManager").ok
    init = Lab(lab_dir).require_state().hosts["hv01"].init_pid
    namespace = os.readlink(f"/proc/{init}/ns/pid")

    def inside() -> set[str]:
        found = set()
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                # A zombie (the host's init, until its parent reaps it) runs nothing.
                zombie = stat.rsplit(")", 1)[1].split()[0] == "Z"
                if os.readlink(f"/proc/{entry}/ns/pid") == namespace and not zombie:
                    found.add(Path(f"/proc/{entry}/comm").read_text().strip())
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
        return found

    assert {"NetworkManager", "dbus-daemon"} <= inside()
    down = cli("--lab-dir", str(lab_dir), "lab", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert inside() == set()
