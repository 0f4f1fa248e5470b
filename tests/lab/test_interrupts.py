"""A controller killed or interrupted mid-run, on a lab of 4 hypervisors: state.json
says how far each host got, SIGINT lets the step under way finish and releases every
lock, and `--retry-failed` takes the hosts that did not end ok."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

from .conftest import HostPlatform, LabFactory
from .rollout_support import PROJECT, RUNBOOK

SCRIPTS = "/etc/sysconfig/network-scripts"
LOCK = "/var/lock/hvbridge.lock"
# network.push, then a wait while a file exists on the controller: the push step is under
# way (its files written, the step not finished) for as long as the test wants.
HOLDING_PUSH = """
import time
from pathlib import Path

from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun
from hvbridge.runbook import load_tasks_module


def push(task: Task, ctx: HostRun, hold: str) -> Result:
    result: Result = load_tasks_module(ctx.project / "tasks", "network").push(task)
    Path(f"{hold}.{ctx.name}").touch()
    while Path(hold).exists():
        time.sleep(0.1)
    return result
"""
# Generous: only a hung run reaches it, and the test then fails instead of hanging.
PATIENCE = 300.0


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=4, direct=True, libvirt=False, profile="modern")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "tasks").mkdir()
    for module in (PROJECT / "tasks").glob("*.py"):
        (root / "tasks" / module.name).symlink_to(module)
    (root / "tasks" / "holding.py").write_text(HOLDING_PUSH)
    (root / "templates").symlink_to(PROJECT / "templates")
    return root


def on(lab: Lab, host: str, command: str) -> str:
    with lab.connect(host) as conn:
        return conn.run(command).stdout


def start(project: Path, lab: Lab, runbook: Path, tmp_path: Path, *extra: str) -> Any:
    argv = [sys.executable, "-m", "hvbridge.cli", "--project", str(project), "run", str(runbook),
            "-i", str(lab.paths.inventory), "--state-dir", str(tmp_path / "state"),
            "--reports-dir", str(tmp_path / "reports"), *extra]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def retry(project: Path, lab: Lab, runbook: Path, tmp_path: Path, *extra: str) -> Any:
    proc = start(project, lab, runbook, tmp_path, "--retry-failed", *extra)
    out, err = proc.communicate(timeout=PATIENCE)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def wait_for(what: str, found: Callable[[], bool]) -> None:
    give_up = time.monotonic() + PATIENCE
    while not found():
        assert time.monotonic() < give_up, f"never saw: {what}"
        time.sleep(0.05)


def only_run(tmp_path: Path) -> Path:
    (run_dir,) = (tmp_path / "state" / "runs").iterdir()
    return run_dir


def events(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def state_of(run_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run_dir / "state.json").read_text())
    return loaded


def test_sigkill_during_push_then_retry_runs_the_unfinished_hosts(
    lab: tuple[Lab, LabState], project: Path, tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, _ = lab
    hold = tmp_path / "hold"
    hold.touch()
    steps = yaml.safe_load(RUNBOOK.read_text())
    push = next(s for s in steps if s["task"] == "network.push")
    push.update(task="holding.push", args={"hold": str(hold)})
    runbook = tmp_path / "holding.yaml"
    runbook.write_text(yaml.safe_dump(steps, sort_keys=False))
    proc = start(project, the_lab, runbook, tmp_path, "--limit", "hv01,hv02")
    wait_for("both hosts inside push", lambda: all(
        Path(f"{hold}.{host}").exists() for host in ("hv01", "hv02")
    ))  # fmt: skip
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    run_dir = only_run(tmp_path)
    state = state_of(run_dir)
    assert state["finished"] is False
    assert state["hosts"] == {
        "hv01": {"status": None, "step": "render network files"},
        "hv02": {"status": None, "step": "render network files"},
    }
    # The files are written, the network not restarted; the dead run's lock stays.
    for host in ("hv01", "hv02"):
        assert "TYPE=Bridge" in on(the_lab, host, f"cat {SCRIPTS}/ifcfg-br0")
        assert on(the_lab, host, f"test -d {LOCK} && echo held") == "held\n"

    hold.unlink()
    # A plain retry: the killed run's lock is taken over (its process is gone from this
    # controller), and the network is restarted because the hosts do not run the files
    # the killed run had already written.
    done = retry(project, the_lab, runbook, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "== hv01: changed" in done.stdout and "== hv02: changed" in done.stdout
    assert "took over the lock of run" in done.stdout
    assert "restarted because the host does not run its network files" in done.stdout
    assert "== hv03" not in done.stdout and "== hv04" not in done.stdout
    for host in ("hv01", "hv02"):
        assert platform.nic in on(the_lab, host, "brctl show br0")
        assert on(the_lab, host, f"test -d {LOCK} || echo free") == "free\n"


def test_sigint_in_the_guarded_restart_finishes_it_releases_locks_and_exits_130(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    proc = start(PROJECT, the_lab, RUNBOOK, tmp_path, "--limit", "hv03,hv04", "--serial", "1")
    wait_for("the state directory", lambda: (tmp_path / "state" / "runs").exists())
    run_dir = only_run(tmp_path)
    wait_for("hv03 in the guarded restart", lambda: any(
        e["event"] == "step_started" and e["step"] == "restart network (guarded)"
        for e in events(run_dir)
    ))  # fmt: skip
    asked_at = time.time()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 130, out + err

    log = events(run_dir)
    apply = next(
        e for e in log if e["event"] == "step_finished" and e["step"] == "restart network (guarded)"
    )
    # The signal came while the guarded restart ran; the restart still confirmed.
    assert apply["ts"] > asked_at and apply["status"] == "changed", apply
    assert [e["step"] for e in log if e["event"] == "step_started"] == [
        "render network files", "push network files", "restart network (guarded)",
    ]  # fmt: skip
    assert "SIGINT: no new step starts; steps under way finish" in err
    assert "INTERRUPTED by SIGINT" in out and "interrupted between steps: hv03" in out
    assert "not run: hv04" in out
    for host in ("hv03", "hv04"):
        assert on(the_lab, host, f"test -d {LOCK} || echo free") == "free\n"
    assert f"{state.hosts['hv03'].address}/" in on(the_lab, "hv03", "ip -4 -br addr show br0")

    saved = state_of(run_dir)
    assert (saved["finished"], saved["interrupted"]) == (True, "SIGINT")
    assert saved["hosts"] == {
        "hv03": {"status": "interrupted", "step": "restart network (guarded)"},
        "hv04": {"status": "not run", "step": None},
    }
    (reports,) = (tmp_path / "reports").iterdir()
    summary = json.loads((reports / "summary.json").read_text())
    assert (summary["exit_code"], summary["bits"], summary["interrupted"]) == (130, 0, "SIGINT")
    assert (summary["counts"]["interrupted"], summary["counts"]["not_run"]) == (1, 1)
    assert summary["hosts"]["hv03"]["summary"] == (
        "interrupted by SIGINT after step 'restart network (guarded)'; later steps not run"
    )

    done = retry(PROJECT, the_lab, RUNBOOK, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "== hv03: ok" in done.stdout and "== hv04: changed" in done.stdout
    assert platform.nic in on(the_lab, "hv04", "brctl show br0")


def holding_runbook(tmp_path: Path, hold: Path) -> Path:
    steps = yaml.safe_load(RUNBOOK.read_text())
    push = next(s for s in steps if s["task"] == "network.push")
    push.update(task="holding.push", args={"hold": str(hold)})
    runbook = tmp_path / "holding.yaml"
    runbook.write_text(yaml.safe_dump(steps, sort_keys=False))
    return runbook


def test_sigterm_lets_the_step_under_way_finish_then_exits_143(
    lab: tuple[Lab, LabState], project: Path, tmp_path: Path
) -> None:
    the_lab, _ = lab
    hold = tmp_path / "hold"
    hold.touch()
    runbook = holding_runbook(tmp_path, hold)
    proc = start(project, the_lab, runbook, tmp_path, "--limit", "hv01,hv02")
    wait_for("both hosts inside push", lambda: all(
        Path(f"{hold}.{host}").exists() for host in ("hv01", "hv02")
    ))  # fmt: skip
    proc.send_signal(signal.SIGTERM)
    wait_for("the signal seen", lambda: "SIGTERM: no new step starts" in proc.stderr.readline())
    # The hosts are still inside push: the step finishes only now.
    hold.unlink()
    out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 143, out + err
    saved = state_of(only_run(tmp_path))
    assert saved["interrupted"] == "SIGTERM"
    assert saved["hosts"] == {
        "hv01": {"status": "interrupted", "step": "push network files"},
        "hv02": {"status": "interrupted", "step": "push network files"},
    }
    for host in ("hv01", "hv02"):
        assert on(the_lab, host, f"test -d {LOCK} || echo free") == "free\n"
    assert "INTERRUPTED by SIGTERM" in out


def test_a_second_sigint_exits_at_once_naming_the_hosts_that_hold_locks(
    lab: tuple[Lab, LabState], project: Path, tmp_path: Path
) -> None:
    the_lab, _ = lab
    hold = tmp_path / "hold"
    hold.touch()
    runbook = holding_runbook(tmp_path, hold)
    proc = start(project, the_lab, runbook, tmp_path, "--limit", "hv03,hv04")
    wait_for("both hosts inside push", lambda: all(
        Path(f"{hold}.{host}").exists() for host in ("hv03", "hv04")
    ))  # fmt: skip
    proc.send_signal(signal.SIGINT)
    wait_for("the signal seen", lambda: "SIGINT: no new step starts" in proc.stderr.readline())
    proc.send_signal(signal.SIGINT)
    # The hosts are still held inside push: only the second signal can end the run.
    out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 130, out + err
    assert err.strip() == (
        "SIGINT again: exiting now; these hosts may still hold a hvbridge lock (the next run"
        " sees it stale, or use --break-lock): hv03, hv04"
    )
    for host in ("hv03", "hv04"):
        assert on(the_lab, host, f"test -d {LOCK} && echo held") == "held\n"
    run_dir = only_run(tmp_path)
    assert state_of(run_dir)["finished"] is False

    hold.unlink()
    done = retry(project, the_lab, runbook, tmp_path, "--break-lock")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "== hv03: ok" in done.stdout and "== hv04: ok" in done.stdout
    assert "note: broke the lock of run " + run_dir.name in done.stdout
