"""The trace of a lab run: each connection, command and SFTP operation, no secret;
`--debug` shows it on stderr."""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

from .conftest import HostPlatform, LabFactory
from .rollout_support import PROJECT

PASSWORD = "pw-Trace-7c1e"
PROBE_TASKS = """
from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun


def complain(task: Task, ctx: HostRun) -> Result:
    conn = ctx.connect(task)
    conn.run("true")
    done = conn.run("echo first complaint >&2; echo second >&2; exit 3")
    return Result(host=task.host, result=f"rc {done.exit_status}")


def crash(task: Task, ctx: HostRun) -> Result:
    return Result(host=task.host, result={}["no such key"])
"""
# What both hops agree on under the el6 profile: EL6's OpenSSH 5.3 offers only ssh-rsa and
# SHA-1 Diffie-Hellman; EL7's 7.4 (and a jump host in front of el7 hosts) its modern ones.
EL6_PROFILE_KEX = {
    "el6": (r"diffie-hellman-\S+", "ssh-rsa"),
    "el7": (r"curve25519-\S+", "ssh-ed25519"),
}
STEPS = [
    {"task": "network.render"},
    {"task": "network.push"},
    {"task": "probe.complain"},
    {"task": "probe.crash"},
]


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=1, direct=False, libvirt=False, profile="el6")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "tasks").mkdir(parents=True)
    for module in (PROJECT / "tasks").glob("*.py"):
        (root / "tasks" / module.name).symlink_to(module)
    (root / "tasks" / "probe.py").write_text(PROBE_TASKS)
    (root / "templates").symlink_to(PROJECT / "templates")
    return root


def run(
    lab: Lab, project: Path, tmp_path: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    runbook = tmp_path / "probe.yaml"
    runbook.write_text(yaml.safe_dump(STEPS))
    state = tmp_path / "state"
    argv = [
        sys.executable, "-m", "hvbridge.cli", "--project", str(project), "run", str(runbook),
        "-i", str(lab.paths.inventory), "--check", "--state-dir", str(state),
        "--reports-dir", str(tmp_path / "reports"), *extra,
    ]  # fmt: skip
    env = {**os.environ, "HVBRIDGE_SSH_PASSWORD": PASSWORD}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    # Failed (the crash), after a step that would have written: a failed host sets bit 4 alone.
    assert done.returncode == 4, done.stdout + done.stderr
    (trace,) = (state / "runs").glob("*/trace.log")
    return done, trace.read_text()


def test_the_trace_holds_connections_commands_sftp_and_tracebacks(
    lab: tuple[Lab, LabState], project: Path, tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    done, text = run(the_lab, project, tmp_path)
    where = re.escape(
        f"hv01 (root@{state.hosts['hv01'].address} via root@{state.hosts['jump'].address}:22)"
    )
    # Both hops, with what the EL6 profile let them agree on.
    kex, host_key = EL6_PROFILE_KEX[platform.name]
    for hop in (1, 2):
        assert re.search(
            rf"{where}: hop {hop}/2 \S+ connected in \d+\.\d{{3}}s: kex {kex},"
            rf" host key {host_key},"
            r" cipher \S+, mac \S+, server SSH-2\.0-OpenSSH",
            text,
        ), text
    # Every command with its exit status and duration; a failing one with its stderr.
    assert re.search(rf"{where}: run rc=0 in \d+\.\d{{3}}s: true\n", text)
    assert re.search(
        rf"{where}: run rc=3 in \d+\.\d{{3}}s: echo first complaint >&2; echo second >&2; exit 3\n"
        r"  stderr: first complaint\n  stderr: second\n",
        text,
    ), text
    # network.push reads the current files over SFTP: the config directory listed once and
    # each file read once (the conflict check and the diff share them; issue 17).
    ifcfg = re.escape(platform.ifcfg())
    assert len(re.findall(rf"{where}: sftp open\('{ifcfg}', 'r'\) in \d", text)) == 1, text
    directory = re.escape(posixpath.dirname(platform.ifcfg()))
    assert len(re.findall(rf"{where}: sftp listdir_attr\('{directory}'\) in \d", text)) == 1
    # The crash: one line for the operator, its traceback in the trace only.
    assert "KeyError: 'no such key' (traceback in the run's trace.log)" in done.stdout
    assert "Traceback" not in done.stdout
    assert re.search(r"Traceback \(most recent call last\):\n(.*\n)*KeyError: 'no such key'", text)
    # paramiko's own records are there, not on the terminal.
    assert "paramiko.transport: Connected (version 2.0" in text
    assert done.stderr == ""
    assert PASSWORD not in text


def test_debug_shows_the_trace_on_stderr(
    lab: tuple[Lab, LabState], project: Path, tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, _ = lab
    done, text = run(the_lab, project, tmp_path, "--debug")
    assert "run rc=3 in " in done.stderr and "  stderr: first complaint" in done.stderr
    assert f"sftp open('{platform.ifcfg()}', 'r')" in done.stderr
    assert "Traceback (most recent call last):" in done.stderr
    assert "hop 2/2" in done.stderr
    assert PASSWORD not in done.stderr and PASSWORD not in text
