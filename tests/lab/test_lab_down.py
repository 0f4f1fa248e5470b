"""`lab down` leaves nothing behind: processes, links, files; also after a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab

from .conftest import HostPlatform

LAB_DAEMONS = {"sshd", "libvirtd", "dnsmasq", "qemu-system-x86"}


def links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True)
    return {line.split(":")[1].strip().split("@")[0] for line in out.stdout.splitlines()}


def processes_in_pid_namespace(namespace: str) -> dict[int, str]:
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") == namespace:
                found[int(entry)] = Path(f"/proc/{entry}/comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_down_removes_every_process_link_and_file(tmp_path: Path, platform: HostPlatform) -> None:
    lab = Lab(tmp_path / "lab")
    state = lab.up(hosts=1, direct=False, libvirt=True, profile="modern",
                   platforms=(platform.name,), log=lambda _m: None)  # fmt: skip
    with lab.connect("hv01", state) as conn:
        assert conn.run("virsh start v1").ok
    namespaces = {
        name: os.readlink(f"/proc/{rec.init_pid}/ns/pid") for name, rec in state.hosts.items()
    }
    inside = {
        pid: comm
        for ns in namespaces.values()
        for pid, comm in processes_in_pid_namespace(ns).items()
    }
    assert set(inside.values()) >= LAB_DAEMONS, inside
    assert {"hvl-outer", "hvl-inner", "hvl-hv01", "hvl-jump-o", "hvl-jump-i"} <= links()

    lab.down(log=lambda _m: None)

    assert [pid for pid in inside if alive(pid)] == []
    left = {
        pid: comm
        for ns in namespaces.values()
        for pid, comm in processes_in_pid_namespace(ns).items()
        if alive(pid)
    }
    assert left == {}
    assert not [name for name in links() if name.startswith("hvl-")]
    assert not lab.paths.root.exists()


def test_down_cleans_a_lab_that_died_half_way_up(tmp_path: Path, platform: HostPlatform) -> None:
    lab_dir = tmp_path / "lab"
    cli = [sys.executable, "-m", "hvbridge.cli", "--lab-dir", str(lab_dir)]
    up = subprocess.Popen(
        [*cli, "lab", "up", "--hosts", "3", "--no-libvirt", "--platform", platform.name],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state_file = lab_dir / "lab.json"
    deadline = time.monotonic() + 60
    pids: list[int] = []
    while time.monotonic() < deadline and len(pids) < 2:
        if state_file.exists():
            try:
                hosts = json.loads(state_file.read_text())["hosts"]
            except (ValueError, KeyError):
                hosts = {}
            pids = [rec["init_pid"] for rec in hosts.values() if rec["init_pid"]]
        time.sleep(0.01)
    up.send_signal(signal.SIGKILL)
    up.wait()
    assert pids, "lab up never recorded a host"
    assert all(alive(pid) for pid in pids), "the killed lab left no host running to clean"

    down = subprocess.run([*cli, "lab", "down"], capture_output=True, text=True, timeout=60)

    assert down.returncode == 0, down.stderr
    assert not [pid for pid in pids if alive(pid)]
    assert not [name for name in links() if name.startswith("hvl-")]
    assert not lab_dir.exists()


def test_up_refuses_while_a_lab_is_up_in_the_same_place(tmp_path: Path) -> None:
    """On el6 hosts only: the refusals come before any host is built."""
    lab = Lab(tmp_path / "lab")
    lab.up(hosts=1, direct=True, libvirt=False, profile="modern", log=lambda _m: None)
    try:
        with pytest.raises(RuntimeError, match="already up"):
            lab.up(hosts=1, direct=True, libvirt=False, profile="modern", log=lambda _m: None)
        other = Lab(tmp_path / "other")
        with pytest.raises(RuntimeError, match="hvl-outer already exists"):
            other.up(hosts=1, direct=True, libvirt=False, profile="modern", log=lambda _m: None)
        assert not other.paths.root.exists() or not (other.paths.root / "lab.json").exists()
    finally:
        lab.down(log=lambda _m: None)
