"""Each kind of failure reads as one line naming the host, through the CLI, in the recap,
the live lines and every report; no traceback anywhere the operator looks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from markupsafe import escape

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.report.render import md_cell

from .conftest import HostPlatform, LabFactory
from .rollout_support import PROJECT, cli, copy_inventory, edit_yaml

BRIDGE = PROJECT / "runbooks" / "bridge.yaml"
HOST = "hv01"
SLOW_TASKS = """
from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun


def sleep(task: Task, ctx: HostRun, seconds: int) -> Result:
    ctx.connect(task).run(f"sleep {seconds}", timeout=seconds + 30)
    return Result(host=task.host, result="slept")
"""


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=1, direct=False, libvirt=True, profile="modern")


@dataclass
class Failure:
    """What the operator reads about HOST's failure: the recap's line and the reports'."""

    done: subprocess.CompletedProcess[str]
    reports: Path

    def reason(self, step: str) -> str:
        """The recap's line for `step`, which must be the host's one FAILED line."""
        recap = self.done.stdout.split(f"\n== {HOST}: failed\n", 1)[1]
        lines = recap.splitlines()
        first = re.fullmatch(rf"   {re.escape(step)} +FAILED +(\S.*)", lines[0])
        assert first, recap
        # One line: what follows is the next host, the summary line, never a continuation.
        assert lines[1].startswith(("==", "done in")), recap
        return first.group(1)

    def check_reports(self, step: str, reason: str) -> None:
        (run,) = list(self.reports.iterdir())
        line = f"{step} failed: {reason}"
        summary = json.loads((run / "summary.json").read_text())
        assert summary["hosts"][HOST]["summary"] == line
        host = json.loads((run / "hosts" / f"{HOST}.json").read_text())
        assert [s["message"] for s in host["steps"] if s["status"] == "failed"] == [reason]
        assert host["summary"] == line
        assert md_cell(line) in (run / "summary.md").read_text()
        row = re.search(rf'<tr data-host="{HOST}".*?</tr>', (run / "report.html").read_text(), re.S)
        assert row and str(escape(line)) in row.group(0)
        # The live lines (plain, off a terminal) give the same reason.
        assert f"{HOST}: failed: {step}: {reason}" in self.done.stdout
        texts = [self.done.stdout, self.done.stderr] + [
            p.read_text() for p in run.rglob("*") if p.is_file()
        ]
        assert not any("Traceback" in text for text in texts)


def run_cli(
    tmp_path: Path, inventory: Path, runbook: Path = BRIDGE, project: Path = PROJECT
) -> Failure:
    args = [
        "run", str(runbook), "-i", str(inventory), "--check", "--limit", HOST,
        "--state-dir", str(tmp_path / "state"), "--reports-dir", str(tmp_path / "reports"),
    ]  # fmt: skip
    if project == PROJECT:
        done = cli(*args)
    else:
        argv = [sys.executable, "-m", "hvbridge.cli", "--project", str(project), *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 4, done.stdout + done.stderr
    return Failure(done, tmp_path / "reports")


def with_extras(lab: Lab, tmp_path: Path, **extras: Any) -> Path:
    """A copy of the lab's inventory whose HOST connects with `extras` changed."""
    inventory = copy_inventory(lab, tmp_path / "inventory")
    groups = yaml.safe_load((inventory / "groups.yaml").read_text())
    merged = {**groups["lab"]["connection_options"]["hvbridge"]["extras"], **extras}

    def change(hosts: dict[str, Any]) -> None:
        hosts[HOST]["connection_options"] = {"hvbridge": {"extras": merged}}

    edit_yaml(inventory / "hosts.yaml", change)
    return inventory


def label(state: LabState, address: str | None = None) -> str:
    jump = state.hosts["jump"].address
    return f"{HOST} (root@{address or state.hosts[HOST].address} via root@{jump}:22)"


def known_hosts_with(lab: Lab, tmp_path: Path, state: LabState, key: str | None) -> Path:
    """The lab's known_hosts with HOST's line replaced by `key`, or left out."""
    address = state.hosts[HOST].address
    lines = [
        line
        for line in lab.paths.known_hosts.read_text().splitlines()
        if not line.startswith(address + " ")
    ]
    if key is not None:
        lines.append(f"{address} {key}")
    path = tmp_path / "known_hosts"
    path.write_text("\n".join(lines) + "\n")
    return path


def new_key(tmp_path: Path, name: str) -> Path:
    """A fresh key pair, never authorized anywhere."""
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def test_host_key_changed(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    the_lab, state = lab
    other = new_key(tmp_path, "other").with_suffix(".pub").read_text().split()
    known = known_hosts_with(the_lab, tmp_path, state, f"{other[0]} {other[1]}")
    failure = run_cli(tmp_path, with_extras(the_lab, tmp_path, known_hosts=str(known)))
    reason = failure.reason("connect")
    assert re.fullmatch(
        re.escape(f"{label(state)}: host key CHANGED (the host offers ssh-ed25519 SHA256:")
        + r"\S+"
        + re.escape(f", {known} line 2 has SHA256:")
        + r"\S+\); refusing to connect",
        reason,
    ), reason
    failure.check_reports("connect", reason)


def test_host_key_unknown(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    the_lab, state = lab
    known = known_hosts_with(the_lab, tmp_path, state, None)
    failure = run_cli(tmp_path, with_extras(the_lab, tmp_path, known_hosts=str(known)))
    reason = failure.reason("connect")
    assert reason == (
        f"{label(state)}: host key unknown (not in {known}); refusing to connect. Add the key"
        " to known_hosts, or use accept-new to record it"
    )
    failure.check_reports("connect", reason)


def test_authentication_refused(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    """The jump host lets root in; the host has no user `stranger`."""
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    edit_yaml(inventory / "hosts.yaml", lambda hosts: hosts[HOST].update(username="stranger"))
    failure = run_cli(tmp_path, inventory)
    reason = failure.reason("connect")
    jump = state.hosts["jump"].address
    where = f"{HOST} (stranger@{state.hosts[HOST].address} via root@{jump}:22)"
    assert reason == f"{where}: authentication failed: Authentication failed.", reason
    failure.check_reports("connect", reason)


def test_unreachable_host(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    nobody = "198.18.129.200"
    edit_yaml(inventory / "hosts.yaml", lambda hosts: hosts[HOST].update(hostname=nobody))
    failure = run_cli(tmp_path, inventory)
    reason = failure.reason("connect")
    jump = state.hosts["jump"].address
    assert reason.startswith(
        f"{label(state, nobody)}: jump host root@{jump}:22 cannot reach it: Connect failed"
    ), reason
    failure.check_reports("connect", reason)


def _sshd_pids(lab: Lab, host: str) -> list[int]:
    init = lab.require_state().hosts[host].init_pid
    namespace = os.readlink(f"/proc/{init}/ns/pid")
    pids = []
    for entry in os.listdir("/proc"):
        try:
            same = entry.isdigit() and os.readlink(f"/proc/{entry}/ns/pid") == namespace
            if same and Path(f"/proc/{entry}/comm").read_text().strip() == "sshd":
                pids.append(int(entry))
        except OSError:
            continue
    return pids


def test_silent_sshd(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    """sshd stopped: the kernel still accepts the TCP connection, nothing answers."""
    the_lab, state = lab
    inventory = with_extras(the_lab, tmp_path, connect_timeout=2.0)
    stopped = _sshd_pids(the_lab, HOST)
    assert stopped
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        failure = run_cli(tmp_path, inventory)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    reason = failure.reason("connect")
    assert reason == (
        f"{label(state)}: no SSH handshake within 2s (timed out: the host accepts"
        " connections but sshd does not answer)"
    )
    failure.check_reports("connect", reason)


def test_lock_held(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    the_lab, state = lab
    since = int(time.time())
    holder = f"20261201T000000-other0 ops elsewhere 4242 {since}"
    with the_lab.connect(HOST, state) as conn:
        conn.run(
            f"mkdir -p /var/lock/hvbridge.lock && echo '{holder}' > /var/lock/hvbridge.lock/holder"
        )
    try:
        failure = run_cli(tmp_path, the_lab.paths.inventory)
    finally:
        with the_lab.connect(HOST, state) as conn:
            conn.run("rm -rf /var/lock/hvbridge.lock")
    reason = failure.reason("lock host")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))
    assert reason == (
        f"{label(state)}: locked by run 20261201T000000-other0 (ops@elsewhere, pid 4242) since"
        f" {when} (it may still be running); if that run is dead, run again with --break-lock"
    )
    failure.check_reports("lock host", reason)


def test_libvirtd_stopped(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    with the_lab.connect(HOST, state) as conn:
        assert conn.run(platform.service("libvirtd", "stop")).ok
    try:
        failure = run_cli(tmp_path, the_lab.paths.inventory)
    finally:
        with the_lab.connect(HOST, state) as conn:
            assert conn.run(platform.service("libvirtd", "start")).ok
    reason = failure.reason("check libvirt and guests")
    assert reason.startswith(f"{label(state)}: libvirtd does not answer ("), reason
    assert reason.endswith("nothing was changed on this host"), reason
    failure.check_reports("check libvirt and guests", reason)


def test_step_timeout(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    the_lab, state = lab
    project = tmp_path / "project"
    (project / "tasks").mkdir(parents=True)
    (project / "tasks" / "slow.py").write_text(SLOW_TASKS)
    (project / "templates").symlink_to(PROJECT / "templates")
    runbook = tmp_path / "slow.yaml"
    runbook.write_text(
        yaml.safe_dump([{"task": "slow.sleep", "args": {"seconds": 300}, "timeout": 2}])
    )
    try:
        failure = run_cli(tmp_path, the_lab.paths.inventory, runbook, project)
    finally:
        # The timed-out run leaves its lock (its heartbeat stops) and its sleep.
        with the_lab.connect(HOST, state) as conn:
            conn.run("pkill -f 'sleep [3]00'; rm -rf /var/lock/hvbridge.lock")
    reason = failure.reason("slow.sleep")
    assert reason == "step 'slow.sleep' timed out after 2s"
    failure.check_reports("slow.sleep", reason)
