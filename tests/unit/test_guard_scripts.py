"""The shell the host runs to keep files and to revert them, run here with sh on paths
that hold spaces (a fake `service` on PATH records what the revert restarts)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from hvbridge import guard, platforms, remote


def _sh(script: str, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)


def _fake_service(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir, log = tmp_path / "bin", tmp_path / "service.log"
    bin_dir.mkdir()
    service = bin_dir / "service"
    service.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n')
    service.chmod(0o755)
    return bin_dir, log


def test_a_revert_puts_each_file_back_under_its_own_path_and_removes_what_was_created(
    tmp_path: Path,
) -> None:
    bin_dir, service_log = _fake_service(tmp_path)
    run = tmp_path / "runs" / "run with space"
    scripts = tmp_path / "etc dir" / "network-scripts"
    qemu = tmp_path / "etc dir" / "qemu"
    scripts.mkdir(parents=True)
    qemu.mkdir(parents=True)
    eth0, br0, domain = scripts / "ifcfg-eth0", scripts / "ifcfg-br0", qemu / "v1.xml"
    eth0.write_text("IPADDR=198.18.128.2\n")
    domain.write_text("<domain>old</domain>\n")
    # What a run does: keep, then write (twice for eth0: kept once, the first time).
    keep = remote.keep_commands(str(run), [str(domain)])
    assert _sh("set -e\n" + "\n".join(keep), bin_dir).returncode == 0
    domain.write_text("<domain>new</domain>\n")
    for _ in range(2):
        keep = remote.keep_commands(str(run), [str(br0), str(eth0)])
        done = _sh("set -e\n" + "\n".join(keep), bin_dir)
        assert done.returncode == 0, done.stderr
        br0.write_text("TYPE=Bridge\n")
        eth0.write_text("BRIDGE=br0\n")
    assert (run / "saved").read_text().splitlines() == [str(domain), str(eth0)]
    assert (run / "created").read_text().splitlines() == [str(br0)]
    assert (run / f"before{eth0}").read_text() == "IPADDR=198.18.128.2\n"

    (run / "revert.sh").write_text(guard.revert_script(str(run), platforms.get("el6")))
    (run / "armed").touch()
    reverted = _sh(f"sh {shlex.quote(str(run / 'revert.sh'))}", bin_dir)
    assert reverted.returncode == 0, reverted.stderr
    assert sorted(p.name for p in scripts.iterdir()) == ["ifcfg-eth0"]
    assert eth0.read_text() == "IPADDR=198.18.128.2\n"
    assert domain.read_text() == "<domain>old</domain>\n"
    assert sorted(p.name for p in qemu.iterdir()) == ["v1.xml"]
    assert service_log.read_text() == "network stop\nnetwork start\n"
    assert (run / "reverted").exists() and (run / "firing").exists()
    assert not (run / "armed").exists()
    log = (run / "revert.log").read_text()
    assert f"removed {br0}" in log and f"restored {eth0}" in log and "rc=0" in log


def test_a_revert_that_lost_the_race_does_nothing(tmp_path: Path) -> None:
    """Cancelled (no `armed` to rename): the revert leaves every file alone."""
    bin_dir, service_log = _fake_service(tmp_path)
    run = tmp_path / "run dir"
    run.mkdir()
    target = tmp_path / "ifcfg-br0"
    target.write_text("TYPE=Bridge\n")
    (run / "created").write_text(f"{target}\n")
    (run / "cancelled").touch()
    (run / "revert.sh").write_text(guard.revert_script(str(run), platforms.get("el6")))
    assert _sh(f"sh '{run}/revert.sh'", bin_dir).returncode == 0
    assert target.exists() and not service_log.exists() and not (run / "reverted").exists()


def test_an_el7_revert_stops_with_the_init_script_and_restarts_with_systemctl(
    tmp_path: Path,
) -> None:
    """systemd ignores a stop of a unit whose start failed: the revert stops the network
    with the init script itself, then restarts the unit on the restored files."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for tool in ("systemctl", "service"):
        fake = bin_dir / tool
        fake.write_text(
            f'#!/bin/sh\necho "{tool} $*${{SYSTEMCTL_SKIP_REDIRECT:+ (no redirect)}}" >> "{log}"\n'
        )
        fake.chmod(0o755)
    run = tmp_path / "run dir"
    run.mkdir()
    (run / "revert.sh").write_text(guard.revert_script(str(run), platforms.get("el7")))
    (run / "armed").touch()
    assert _sh(f"sh '{run}/revert.sh'", bin_dir).returncode == 0
    assert log.read_text() == "service network stop (no redirect)\nsystemctl restart network\n"
    assert "rc=0" in (run / "revert.log").read_text()


def test_a_revert_deletes_the_devices_the_run_made_that_the_stop_left_top_down(
    tmp_path: Path,
) -> None:
    bin_dir, service_log = _fake_service(tmp_path)
    ip_log = tmp_path / "ip.log"
    # A fake `ip`: br100 and bond0 are still there after the stop, bond0.100 is gone;
    # the kernel refuses to delete bond0 through `ip`, as an old one may.
    (bin_dir / "ip").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{ip_log}"\n'
        'case "$*" in\n'
        '  "link show dev bond0.100") exit 1 ;;\n'
        '  "link delete dev bond0") exit 2 ;;\n'
        "esac\n"
        "exit 0\n"
    )
    (bin_dir / "ip").chmod(0o755)
    (bin_dir / "brctl").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "brctl").chmod(0o755)
    run = tmp_path / "run"
    run.mkdir()
    new = ["br100", "bond0.100", "bond0"]
    (run / "revert.sh").write_text(
        guard.revert_script(str(run), platforms.get("el6"), new_devices=new)
    )
    (run / "armed").touch()
    reverted = _sh(f"sh {shlex.quote(str(run / 'revert.sh'))}", bin_dir)
    assert reverted.returncode == 0, reverted.stderr
    assert ip_log.read_text().splitlines() == [
        "link show dev br100",
        "link set dev br100 down",
        "link delete dev br100",
        "link show dev bond0.100",
        "link show dev bond0",
        "link set dev bond0 down",
        "link delete dev bond0",
    ]
    log = (run / "revert.log").read_text()
    # After the stop with the new files, before the old files come back up.
    assert log.index("deleted br100") < log.index("rc=0")
    # bond0: neither ip, brctl nor the bonding driver's file (absent here) could.
    assert "could not delete bond0" in log and "bond0.100" not in log
    assert service_log.read_text() == "network stop\nnetwork start\n"


def test_a_revert_without_new_devices_deletes_nothing() -> None:
    script = guard.revert_script("/run", platforms.get("el6"))
    assert "ip link delete" not in script


def test_every_part_of_a_restart_command_is_logged_and_lets_go_of_the_lock(
    tmp_path: Path,
) -> None:
    """A restart of several commands (ifupdown's `ifdown -a; ifup -a`): each one's output in
    restart.log, none holding the restart's lock (fd 9), the status the last one's."""
    from types import SimpleNamespace
    from typing import Any

    run = tmp_path / "run"
    run.mkdir()
    fake: Any = SimpleNamespace(
        restart_diagnostics="",
        network_command=lambda action: (
            'echo first; ls /proc/self/fd | grep -qx 9 && echo "first holds 9"; '
            'echo second; ls /proc/self/fd | grep -qx 9 && echo "second holds 9"; false'
        ),
    )
    script = guard.restart_command(str(run), fake, None)
    done = subprocess.run(
        ["sh", "-c", f"exec 9> {shlex.quote(str(run / 'lock'))}; {script}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (run / "restart.log").read_text() == "first\nsecond\n"
    assert (run / "restart.rc").read_text() == "1\n"
