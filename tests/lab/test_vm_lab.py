"""`hvbridge lab up --kernel debian`: the whole lab inside one QEMU VM on Debian's kernel.
Driven through the CLI as an operator drives it: `lab up`, `lab status`, `lab ssh`, `lab
exec` (the controller's side, inside the VM: a rollout runs there) and `lab down`, which
leaves no QEMU and no file. A lab host there has the kernel this machine lacks: bonds and
802.1Q VLANs. One VM for the module (a boot costs a minute or more under emulation)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab import vmimage

from .rollout_support import RUNBOOK
from .vm_support import hv, in_vm, inner_inventory, qemu_pid, said, share, vm_lab

pytestmark = [pytest.mark.lab, pytest.mark.vm]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The lab dir of an el6 VM lab with one hypervisor of three NICs, and `lab up`'s
    output."""
    lab_dir = tmp_path_factory.mktemp("vm") / "lab"
    with vm_lab(lab_dir, "--hosts", "1", "--platform", "el6", "--nics", "3",
                "--no-libvirt") as up:  # fmt: skip
        yield lab_dir, up.stdout


def _release() -> str:
    image = vmimage.load(vmimage.cache_dir())
    assert image is not None, f"no VM lab cache: run {vmimage.FILL_COMMAND}"
    return image.release


def test_lab_up_boots_debians_kernel_and_builds_the_lab_inside(lab: tuple[Path, str]) -> None:
    _, said_up = lab
    assert f"VM lab: Debian kernel {_release()} booted in " in said_up
    assert "lab up: 1 hypervisors (el6)" in said_up
    assert "hv01     el6       198.18.129.1" in said_up
    # Nothing of the inner lab is on this machine: its switches are the VM's.
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "hvl-" not in links, links


def test_lab_status_shows_the_vm_and_each_host(lab: tuple[Path, str]) -> None:
    lab_dir, _ = lab
    done = hv(lab_dir, "lab", "status")
    assert done.returncode == 0, said(done)
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"VM lab: qemu pid {qemu_pid(lab_dir)}, Debian kernel {_release()}")
    assert any(line.startswith("hv01 ") and line.endswith(" ok") for line in lines), lines
    assert any(line.startswith("jump ") and line.endswith(" ok") for line in lines), lines


def test_lab_ssh_runs_on_a_host_with_bonds_and_vlans(lab: tuple[Path, str]) -> None:
    """The kernel facts, on a lab host: an active-backup bond over two NICs, a VLAN on it."""
    lab_dir, _ = lab
    command = (
        "uname -r; ip link add bond9 type bond mode active-backup miimon 100"
        " && ip link set eth1 master bond9 && ip link set eth2 master bond9"
        " && ip link add link bond9 name bond9.100 type vlan id 100"
        " && ip link set bond9 up && cat /proc/net/bonding/bond9 && ip -d -o link show bond9.100;"
        " ip link del bond9.100; ip link del bond9"
    )
    done = hv(lab_dir, "lab", "ssh", "hv01", "--", command)
    assert done.returncode == 0, said(done)
    assert done.stdout.startswith(f"{_release()}\n")
    assert "Bonding Mode: fault-tolerance (active-backup)" in done.stdout
    assert "Slave Interface: eth1" in done.stdout and "Slave Interface: eth2" in done.stdout
    assert "vlan protocol 802.1Q id 100" in done.stdout


def test_lab_ssh_names_the_hosts_when_one_is_unknown(lab: tuple[Path, str]) -> None:
    lab_dir, _ = lab
    done = hv(lab_dir, "lab", "ssh", "hv09", "--", "true")
    assert done.returncode == 1
    assert done.stderr == "error: no lab host 'hv09'; hosts: hv01, jump\n"


def test_lab_exec_is_on_the_controllers_side(lab: tuple[Path, str]) -> None:
    lab_dir, _ = lab
    done = hv(lab_dir, "lab", "exec", "--", "ip", "-o", "link", "show", "hvl-data")
    assert done.returncode == 0, said(done)
    assert " mtu 9000 " in done.stdout
    failed = hv(lab_dir, "lab", "exec", "--", "sh", "-c", "echo out; echo err >&2; exit 5")
    assert (failed.returncode, failed.stdout, failed.stderr) == (5, "out\n", "err\n")


def test_a_rollout_runs_in_the_vm(lab: tuple[Path, str]) -> None:
    """The controller inside the VM (`lab exec -- hvbridge run`): the seed's bridge on
    hv01, its report back through the share."""
    lab_dir, _ = lab
    work = share(lab_dir) / "rollout"
    shutil.copytree(inner_inventory(lab_dir), work / "inventory")
    done = hv(lab_dir, "lab", "exec", "--", "hvbridge", "run", str(RUNBOOK),
              "-i", in_vm(lab_dir, work / "inventory"),
              "--state-dir", in_vm(lab_dir, work / "state"),
              "--reports-dir", in_vm(lab_dir, work / "reports"))  # fmt: skip
    assert done.returncode == 2, said(done)
    assert "== hv01: changed" in done.stdout, said(done)
    (summary,) = (work / "reports").glob("*/summary.json")
    assert json.loads(summary.read_text())["hosts"]["hv01"]["status"] == "changed"
    bridges = hv(lab_dir, "lab", "ssh", "hv01", "--", "brctl show br0")
    assert bridges.returncode == 0, said(bridges)
    assert "eth0" in bridges.stdout


def test_lab_down_leaves_no_qemu_and_no_file(lab: tuple[Path, str]) -> None:
    lab_dir, _ = lab
    assert [cmdline for cmdline in _cmdlines() if str(lab_dir).encode() in cmdline]
    done = hv(lab_dir, "lab", "down")
    assert done.returncode == 0, said(done)
    assert done.stdout.endswith(f"lab down: stopped the VM lab and removed {lab_dir}\n")
    assert not lab_dir.exists()
    # No process of this lab: QEMU's command line names the lab dir (a zombie left for
    # init to reap has none).
    assert not [cmdline for cmdline in _cmdlines() if str(lab_dir).encode() in cmdline]


def _cmdlines() -> list[bytes]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                found.append((proc / "cmdline").read_bytes())
            except OSError:
                continue
    return found
