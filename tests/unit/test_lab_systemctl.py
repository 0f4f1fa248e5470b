"""An el7 lab host's systemctl, journalctl and service, run in a temporary root with fake
init scripts: what the operator reads, and the exit codes, as EL7's systemd 219 gives them."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hvbridge.lab.hostfiles import el7_network_initscript, el7_service_script
from hvbridge.lab.systemctl import ROOT_ENV
from hvbridge.lab.units import ago

JOB_FAILED = (
    "Job for network.service failed because the control process exited with error code."
    ' See "systemctl status network.service" and "journalctl -xe" for details.\n'
)
# The fake network script: says what it was asked, fails a start while `fail` exists.
FAKE_NETWORK = """#!/bin/sh
echo "$1 skip=$SYSTEMCTL_SKIP_REDIRECT" >> {root}/calls
# Held while `hold` exists, up to a minute: a job still running.
i=0
while [ -f {root}/hold ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
if [ "$1" = stop ] && [ -f {root}/fail-stop ]; then
    echo "Device ens3 has MAC address 02:00:00:00:00:09, instead of configured address."
    exit 1
fi
if [ "$1" = start ] && [ -f {root}/fail ]; then
    echo "Device ens3 does not seem to be present, delaying initialization."
    echo "Bringing up interface ens3:  [FAILED]"
    exit 1
fi
echo "Bringing up interface ens3:  [  OK  ]"
"""
# The fake libvirtd starter: a daemon that keeps the script's output open, as one may.
FAKE_LIBVIRTD = """#!/bin/sh
case "$1" in
    start) sleep 600 & echo $! > {root}/run/libvirtd.pid
        echo "Starting libvirtd daemon: [  OK  ]" ;;
    stop) kill "$(cat {root}/run/libvirtd.pid)"; echo "Stopping libvirtd daemon: [  OK  ]" ;;
esac
"""


@dataclass
class Root:
    path: Path

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "hvbridge.lab.systemctl", program, *args]
        env = {**os.environ, ROOT_ENV: str(self.path)}
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)

    def systemctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("systemctl", *args)

    def calls(self) -> list[str]:
        path = self.path / "calls"
        return path.read_text().splitlines() if path.exists() else []


def _write(path: Path, text: str, mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Root]:
    _write(tmp_path / "etc/init.d/network", FAKE_NETWORK.format(root=tmp_path))
    _write(tmp_path / "etc/hvbridge-lab/libvirtd.init", FAKE_LIBVIRTD.format(root=tmp_path))
    (tmp_path / "run").mkdir()
    yield Root(tmp_path)
    pidfile = tmp_path / "run/libvirtd.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_a_unit_never_started_is_inactive_with_exit_3(root: Root) -> None:
    status = root.systemctl("status", "network")
    assert status.returncode == 3
    assert status.stdout.splitlines() == [
        "\N{BLACK CIRCLE} network.service - LSB: Bring up/down networking",
        "   Loaded: loaded (/etc/rc.d/init.d/network; bad; vendor preset: disabled)",
        "   Active: inactive (dead)",
        "     Docs: man:systemd-sysv-generator(8)",
    ]
    active = root.systemctl("is-active", "network.service")
    assert (active.returncode, active.stdout) == (3, "inactive\n")
    assert root.calls() == []


def test_start_runs_the_script_as_systemd_does_and_status_shows_its_output(root: Root) -> None:
    started = root.systemctl("start", "network")
    assert (started.returncode, started.stdout, started.stderr) == (0, "", "")
    # systemd runs it, so the script does not hand itself back to systemctl.
    assert root.calls() == ["start skip=1"]
    status = root.systemctl("status", "network")
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert re.fullmatch(r"   Active: active \(exited\) since .+; .+ ago", lines[2])
    assert re.fullmatch(
        r"  Process: \d+ ExecStart=/etc/rc.d/init.d/network start"
        r" \(code=exited, status=0/SUCCESS\)",
        lines[4],
    )
    journal = [re.sub(r"^\w{3} \d\d \d\d:\d\d:\d\d \S+ ", "", line) for line in lines[6:]]
    assert [re.sub(r"\[\d+\]", "[PID]", line) for line in journal] == [
        "systemd[PID]: Starting LSB: Bring up/down networking...",
        "network[PID]: Bringing up interface ens3:  [  OK  ]",
        "systemd[PID]: Started LSB: Bring up/down networking.",
    ]
    assert journal[0].startswith("systemd[1]:")
    active = root.systemctl("is-active", "network")
    assert (active.returncode, active.stdout) == (0, "active\n")
    # Starting what runs does nothing.
    assert root.systemctl("start", "network").returncode == 0
    assert root.calls() == ["start skip=1"]


def test_a_failed_start_says_what_systemctl_says_and_keeps_the_output(root: Root) -> None:
    (root.path / "fail").touch()
    failed = root.systemctl("start", "network")
    assert (failed.returncode, failed.stdout, failed.stderr) == (1, "", JOB_FAILED)
    status = root.systemctl("status", "network.service")
    assert status.returncode == 3
    assert re.search(r"   Active: failed \(Result: exit-code\) since ", status.stdout)
    assert "(code=exited, status=1/FAILURE)" in status.stdout
    assert "Device ens3 does not seem to be present, delaying initialization." in status.stdout
    assert "network.service: control process exited, code=exited status=1" in status.stdout
    assert "Failed to start LSB: Bring up/down networking." in status.stdout
    active = root.systemctl("is-active", "network")
    assert (active.returncode, active.stdout) == (3, "failed\n")
    assert root.systemctl("is-failed", "network").returncode == 0
    journal = root.run("journalctl", "-u", "network", "--no-pager")
    assert journal.returncode == 0
    assert journal.stdout.startswith("-- Logs begin at ")
    assert "Bringing up interface ens3:  [FAILED]" in journal.stdout
    assert root.run("journalctl", "-u", "libvirtd").stdout == "-- No entries --\n"


def test_restart_stops_then_starts_and_stop_leaves_a_failed_unit_alone(root: Root) -> None:
    assert root.systemctl("restart", "network").returncode == 0
    assert root.calls() == ["start skip=1"], "restart of an inactive unit only starts it"
    assert root.systemctl("restart", "network").returncode == 0
    assert root.calls() == ["start skip=1", "stop skip=1", "start skip=1"]
    (root.path / "fail").touch()
    restarted = root.systemctl("restart", "network")
    assert (restarted.returncode, restarted.stderr) == (1, JOB_FAILED)
    # systemd does not stop a unit that is not active: a failed one stays failed.
    assert root.systemctl("stop", "network").returncode == 0
    assert root.calls()[-1] == "start skip=1"
    assert root.systemctl("is-active", "network").stdout == "failed\n"
    (root.path / "fail").unlink()
    assert root.systemctl("start", "network").returncode == 0
    assert root.systemctl("stop", "network").returncode == 0
    assert root.calls()[-1] == "stop skip=1"
    stopped = root.systemctl("status", "network")
    assert stopped.returncode == 3
    assert "   Active: inactive (dead) since " in stopped.stdout
    assert "ExecStop=/etc/rc.d/init.d/network stop (code=exited, status=0/SUCCESS)" in (
        stopped.stdout
    )


def test_a_job_runs_on_when_its_caller_is_killed(root: Root) -> None:
    """As systemd's jobs run in PID 1: an SSH session cut under `systemctl restart network`
    does not leave the network half restarted."""
    (root.path / "hold").touch()
    argv = [sys.executable, "-m", "hvbridge.lab.systemctl", "systemctl", "start", "network"]
    env = {**os.environ, ROOT_ENV: str(root.path)}
    caller = subprocess.Popen(argv, env=env, start_new_session=True)
    _until(lambda: root.calls() == ["start skip=1"])
    os.killpg(caller.pid, signal.SIGKILL)
    assert caller.wait(timeout=60) == -signal.SIGKILL
    (root.path / "hold").unlink()
    _until(lambda: root.systemctl("is-active", "network").stdout == "active\n")
    journal = root.run("journalctl", "-u", "network").stdout
    assert "Started LSB: Bring up/down networking." in journal


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("not within a minute")
        time.sleep(0.05)


def test_a_failed_stop_is_done_and_leaves_the_unit_failed(root: Root) -> None:
    assert root.systemctl("start", "network").returncode == 0
    (root.path / "fail-stop").touch()
    stop = root.systemctl("stop", "network")
    assert (stop.returncode, stop.stderr) == (0, "")
    status = root.systemctl("status", "network")
    assert status.returncode == 3
    assert "ExecStop=/etc/rc.d/init.d/network stop (code=exited, status=1/FAILURE)" in (
        status.stdout
    )
    assert "Unit network.service entered failed state." in status.stdout
    assert "instead of configured address" in status.stdout


def test_libvirtd_is_active_while_its_daemon_lives(root: Root) -> None:
    # The daemon keeps the starter's output open: the job must still end.
    assert root.systemctl("start", "libvirtd").returncode == 0
    pid = int((root.path / "run/libvirtd.pid").read_text())
    status = root.systemctl("status", "libvirtd")
    assert status.returncode == 0
    assert re.search(r"   Active: active \(running\) since ", status.stdout)
    assert f" Main PID: {pid} (libvirtd)" in status.stdout
    assert "Started Virtualization daemon." in status.stdout
    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid)
    assert root.systemctl("is-active", "libvirtd").stdout == "inactive\n"
    assert root.systemctl("restart", "libvirtd").returncode == 0
    assert root.systemctl("is-active", "libvirtd").returncode == 0
    assert root.systemctl("stop", "libvirtd").returncode == 0
    assert root.systemctl("is-active", "libvirtd").stdout == "inactive\n"


def _wait_gone(pid: int) -> None:
    # Killed, it is reparented and reaped by whoever adopts it; /proc tells when.
    stat = Path(f"/proc/{pid}/stat")
    for _ in range(1000):
        if not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return
        subprocess.run(["sleep", "0.01"], check=True)
    raise AssertionError(f"pid {pid} still runs")


def test_unknown_units_and_verbs(root: Root) -> None:
    status = root.systemctl("status", "frob")
    assert (status.returncode, status.stderr) == (4, "Unit frob.service could not be found.\n")
    start = root.systemctl("start", "frob")
    assert start.returncode == 5
    assert start.stderr == (
        "Failed to start frob.service: Unit frob.service failed to load:"
        " No such file or directory.\n"
    )
    active = root.systemctl("is-active", "frob")
    assert (active.returncode, active.stdout) == (3, "unknown\n")
    enable = root.systemctl("enable", "network")
    assert enable.returncode == 1
    assert "systemctl enable: not emulated in the hvbridge lab" in enable.stderr
    assert root.systemctl("start").stderr == "Too few arguments.\n"


def test_a_pattern_names_the_units_it_matches_none_being_no_error(root: Root) -> None:
    """netplan apply stops `netplan-wpa-*.service`, which match no unit in the lab."""
    stop = root.systemctl("stop", "--no-block", "netplan-wpa-*.service")
    assert (stop.returncode, stop.stderr) == (0, "")
    assert root.systemctl("start", "netplan-wpa-[0-9].service").returncode == 0
    assert root.systemctl("stop", "frob-*").returncode == 0


def test_is_enabled_asks_chkconfig_for_a_sysv_service(root: Root) -> None:
    network = root.systemctl("is-enabled", "network")
    assert (network.returncode, network.stdout) == (0, "enabled\n")
    assert network.stderr == (
        "network.service is not a native service, redirecting to /sbin/chkconfig.\n"
        "Executing /sbin/chkconfig network --level=5\n"
    )
    libvirtd = root.systemctl("is-enabled", "libvirtd")
    assert (libvirtd.stdout, libvirtd.stderr) == ("enabled\n", "")


# -- service and /etc/init.d/network, as EL7 redirects them -----------------------------


@pytest.fixture
def el7_scripts(root: Root) -> Path:
    """EL7's service and network scripts over the root; `python` is a fake that says
    what it was given and fails while `fail` exists."""
    systemctl = root.path / "bin/systemctl"
    env = f"{ROOT_ENV}={shlex.quote(str(root.path))}"
    _write(
        systemctl,
        f'#!/bin/sh\nexec env {env} {sys.executable} -m hvbridge.lab.systemctl systemctl "$@"\n',
    )
    fake_python = root.path / "bin/python"
    _write(
        fake_python,
        f'#!/bin/sh\necho "network service: $*"\n[ ! -f {root.path}/fail ]\n',
    )
    _write(
        root.path / "etc/init.d/network",
        el7_network_initscript(str(fake_python), systemctl=str(systemctl)),
    )
    service = root.path / "sbin/service"
    _write(
        service,
        el7_service_script(servicedir=str(root.path / "etc/init.d"), systemctl=str(systemctl)),
    )
    return service


def _sh(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", *argv], capture_output=True, text=True, timeout=60)


def test_service_network_restart_goes_through_systemctl(root: Root, el7_scripts: Path) -> None:
    done = _sh(str(el7_scripts), "network", "restart")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "Restarting network (via systemctl):  [  OK  ]\n",
        "",
    )
    # systemd ran the script, which then did the work instead of redirecting again.
    journal = root.run("journalctl", "-u", "network.service").stdout
    assert "network service: -m hvbridge.lab.network_service start" in journal
    assert root.systemctl("is-active", "network").returncode == 0


def test_a_failed_service_network_restart_prints_the_job_failure(
    root: Root, el7_scripts: Path
) -> None:
    (root.path / "fail").touch()
    done = _sh(str(el7_scripts), "network", "restart")
    assert done.returncode == 1
    assert done.stdout == "Restarting network (via systemctl):  [FAILED]\n"
    assert done.stderr == JOB_FAILED
    assert root.systemctl("is-active", "network").stdout == "failed\n"


def test_skip_redirect_runs_the_script_itself_whatever_systemd_thinks(
    root: Root, el7_scripts: Path
) -> None:
    (root.path / "fail").touch()
    assert _sh(str(el7_scripts), "network", "start").returncode == 1
    done = subprocess.run(
        ["sh", str(el7_scripts), "network", "stop"],
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMCTL_SKIP_REDIRECT": "1"},
        timeout=60,
    )
    assert done.stdout == "network service: -m hvbridge.lab.network_service stop\n"
    assert root.systemctl("is-active", "network").stdout == "failed\n"


def test_service_network_status_is_the_script_s_own(root: Root, el7_scripts: Path) -> None:
    done = _sh(str(el7_scripts), "network", "status")
    assert done.stdout == "network service: -m hvbridge.lab.network_service status\n"
    assert root.run("journalctl").stdout == "-- No entries --\n"


def test_service_of_a_native_unit_redirects_with_el7_s_message(
    root: Root, el7_scripts: Path
) -> None:
    done = _sh(str(el7_scripts), "libvirtd", "restart")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "Redirecting to /bin/systemctl restart libvirtd.service\n"
    assert root.systemctl("is-active", "libvirtd").stdout == "active\n"
    other = _sh(str(el7_scripts), "libvirtd", "frob")
    assert other.returncode == 2
    assert "supports only basic LSB actions" in other.stderr


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "now"),
        (0.25, "250ms ago"),
        (12, "12s ago"),
        (65, "1min 5s ago"),
        (300, "5min ago"),
        (3 * 3600 + 120, "3h 2min ago"),
        (7 * 3600, "7h ago"),
        (3 * 86400, "3 days ago"),
    ],
)
def test_ago_reads_as_systemd_s(seconds: float, text: str) -> None:
    assert ago(seconds) == text
