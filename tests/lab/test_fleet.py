"""Fleet rollout on 20 hypervisors: batches, canary, failure budget, timeouts, locks, retry."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.runner import (
    EXIT_CHANGED,
    EXIT_FAILED,
    EXIT_STOPPED,
    RunOutcome,
    RunRequest,
    run,
)

from .conftest import HostPlatform, LabFactory
from .rollout_support import PROJECT, RUNBOOK

SCRIPTS = "/etc/sysconfig/network-scripts"
SLOW_TASKS = '''
from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun


def sleep_on(task: Task, ctx: HostRun, host: str, seconds: int) -> Result:
    """Sleeps on one host only: a hung step there, a quick one elsewhere."""
    if task.host.name == host:
        ctx.connect(task).run(f"sleep {seconds}", timeout=seconds + 30)
    return Result(host=task.host, result="slept" if task.host.name == host else "skipped")
'''


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=20, direct=True, libvirt=False, profile="modern")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real project, plus a tasks module with a step that can hang on one host."""
    root = tmp_path_factory.mktemp("project")
    (root / "tasks").mkdir()
    for module in (PROJECT / "tasks").glob("*.py"):
        (root / "tasks" / module.name).symlink_to(module)
    (root / "tasks" / "slow.py").write_text(SLOW_TASKS)
    (root / "templates").symlink_to(PROJECT / "templates")
    return root


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory, platform: HostPlatform) -> Path:
    # One per platform: --retry-failed reads the runs before it from here.
    return tmp_path_factory.mktemp(f"state-{platform.name}")


def steps_of(runbook: Path) -> list[Any]:
    steps: list[Any] = yaml.safe_load(runbook.read_text())
    return steps


def write_runbook(path: Path, **strategy: Any) -> Path:
    path.write_text(yaml.safe_dump({**strategy, "steps": steps_of(RUNBOOK)}, sort_keys=False))
    return path


def go(lab: Lab, project: Path, state_dir: Path, runbook: Path, **options: Any) -> RunOutcome:
    request = RunRequest(
        project=project, runbook=runbook, inventory=lab.paths.inventory, state_dir=state_dir,
        **options,
    )  # fmt: skip
    return run(request)


def on(lab: Lab, host: str, command: str) -> str:
    with lab.connect(host) as conn:
        return conn.run(command).stdout


def conflict(lab: Lab, host: str, present: bool) -> None:
    path = f"{SCRIPTS}/ifcfg-bridge-old"
    on(lab, host, f"printf 'DEVICE=br0\\n' > {path}" if present else f"rm -f {path}")


def bridged(lab: Lab, host: str) -> bool:
    return "TYPE=Bridge" in on(lab, host, f"cat {SCRIPTS}/ifcfg-br0 2>/dev/null")


BUDGET_HOSTS = tuple(f"hv{i:02d}" for i in range(1, 13))


def test_a_failing_canary_stops_the_rollout_before_anything_else(
    lab: tuple[Lab, LabState], project: Path, state_dir: Path, tmp_path: Path
) -> None:
    the_lab, _ = lab
    conflict(the_lab, "hv01", True)
    runbook = write_runbook(tmp_path / "canary.yaml", serial=[1, "25%"], max_fail_percentage=0)
    outcome = go(the_lab, project, state_dir, runbook, limit=(",".join(BUDGET_HOSTS),))
    assert outcome.hosts["hv01"].status == "failed"
    assert [h for h in BUDGET_HOSTS[1:] if outcome.hosts[h].status != "not run"] == []
    assert outcome.stopped is not None and outcome.stopped.startswith("batch 1/5: 1 of 1 host(s)")
    assert outcome.exit_code == EXIT_STOPPED | EXIT_FAILED
    assert not any(bridged(the_lab, h) for h in BUDGET_HOSTS)


def test_failure_budget_exceeded_in_batch_2_keeps_batch_3_from_starting(
    lab: tuple[Lab, LabState], project: Path, state_dir: Path, tmp_path: Path
) -> None:
    the_lab, _ = lab
    conflict(the_lab, "hv01", False)
    for host in ("hv02", "hv03"):
        conflict(the_lab, host, True)
    # The same runbook file as the retry test below, so that --retry-failed finds this run.
    runbook = write_runbook(state_dir / "budget.yaml", serial=[1, "25%"], max_fail_percentage=30)
    outcome = go(the_lab, project, state_dir, runbook, limit=(",".join(BUDGET_HOSTS),))
    statuses = {h: outcome.hosts[h].status for h in BUDGET_HOSTS}
    assert statuses["hv01"] == "changed"
    assert [statuses[h] for h in ("hv02", "hv03", "hv04")] == ["failed", "failed", "changed"]
    assert {statuses[h] for h in BUDGET_HOSTS[4:]} == {"not run"}
    assert outcome.stopped is not None and "batch 2/5: 2 of 3 host(s) failed" in outcome.stopped
    assert outcome.exit_code == EXIT_STOPPED | EXIT_FAILED | EXIT_CHANGED
    assert not any(bridged(the_lab, h) for h in BUDGET_HOSTS[4:])


def test_retry_failed_reruns_exactly_the_hosts_that_did_not_end_ok(
    lab: tuple[Lab, LabState], project: Path, state_dir: Path
) -> None:
    the_lab, _ = lab
    for host in ("hv02", "hv03"):
        conflict(the_lab, host, False)
    runbook = state_dir / "budget.yaml"
    outcome = go(the_lab, project, state_dir, runbook, retry_failed=True,
                 limit=(",".join(BUDGET_HOSTS),))  # fmt: skip
    assert sorted(outcome.hosts) == ["hv02", "hv03", *BUDGET_HOSTS[4:]]
    assert {h.status for h in outcome.hosts.values()} == {"changed"}
    assert outcome.stopped is None
    with pytest.raises(ValueError, match=r"every host of run \S+ and the runs before it ended ok"):
        go(the_lab, project, state_dir, runbook, retry_failed=True, limit=(",".join(BUDGET_HOSTS),))


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


def test_a_hung_host_times_out_alone(
    lab: tuple[Lab, LabState], project: Path, state_dir: Path
) -> None:
    the_lab, _ = lab
    stopped = _sshd_pids(the_lab, "hv16")
    assert stopped
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        outcome = go(the_lab, project, state_dir, RUNBOOK, limit=("hv13,hv14,hv15,hv16",))
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    assert outcome.hosts["hv16"].status == "failed"
    assert re.search(r"timed out|banner", outcome.hosts["hv16"].steps[-1].message, re.I)
    assert {outcome.hosts[h].status for h in ("hv13", "hv14", "hv15")} == {"changed"}


def test_a_step_that_overruns_its_timeout_fails_that_host_alone(
    lab: tuple[Lab, LabState], project: Path, state_dir: Path, tmp_path: Path
) -> None:
    the_lab, _ = lab
    runbook = tmp_path / "slow.yaml"
    runbook.write_text(yaml.safe_dump(
        [{"task": "slow.sleep_on", "args": {"host": "hv15", "seconds": 300}, "timeout": 3}]
    ))  # fmt: skip
    outcome = go(the_lab, project, state_dir, runbook, limit=("hv13,hv14,hv15",))
    assert outcome.hosts["hv15"].status == "failed"
    assert outcome.hosts["hv15"].steps[-1].message == "step 'slow.sleep_on' timed out after 3s"
    assert {outcome.hosts[h].status for h in ("hv13", "hv14")} == {"ok"}
    # The timed-out run's lock is left (its heartbeat stops); the next run must break it.
    on(the_lab, "hv15", "pkill -f 'sleep [3]00'; rm -rf /var/lock/hvbridge.lock")


def test_a_second_run_on_a_locked_host_is_refused(
    lab: tuple[Lab, LabState], project: Path, state_dir: Path, tmp_path: Path
) -> None:
    the_lab, _ = lab
    runbook = tmp_path / "slow.yaml"
    runbook.write_text(
        yaml.safe_dump([{"task": "slow.sleep_on", "args": {"host": "hv17", "seconds": 8}}])
    )
    first: list[RunOutcome] = []
    holder = threading.Thread(
        target=lambda: first.append(go(the_lab, project, state_dir, runbook, limit=("hv17",)))
    )
    holder.start()
    try:
        for _ in range(100):
            if "TAKEN" in on(the_lab, "hv17", "test -d /var/lock/hvbridge.lock && echo TAKEN"):
                break
            threading.Event().wait(0.1)
        second = go(the_lab, project, state_dir, RUNBOOK, limit=("hv17",))
    finally:
        holder.join()
    message = second.hosts["hv17"].steps[-1].message
    assert second.hosts["hv17"].status == "failed"
    assert re.search(
        r"locked by run \S+ \(\S+@\S+, pid \d+\) since .*it may still be running", message
    )
    assert first[0].hosts["hv17"].status == "ok"
    assert "TAKEN" not in on(the_lab, "hv17", "test -d /var/lock/hvbridge.lock && echo TAKEN")


def test_a_stale_lock_is_reported_and_can_be_broken(
    lab: tuple[Lab, LabState], project: Path, state_dir: Path
) -> None:
    """Stale by its heartbeat only (its controller is another machine): a guess, so it
    takes --break-lock. A lock whose process is gone from this controller is taken over
    without it (tests/lab/test_interrupted_guard.py)."""
    the_lab, _ = lab
    dead = "20200101T000000-dead00 ops elsewhere.example 999999 1577836800"
    holder = "/var/lock/hvbridge.lock/holder"
    on(
        the_lab,
        "hv18",
        f"mkdir -p /var/lock/hvbridge.lock && echo '{dead}' > {holder}"
        f" && touch -d @1577836800 {holder}",
    )
    refused = go(the_lab, project, state_dir, RUNBOOK, limit=("hv18",))
    message = refused.hosts["hv18"].steps[-1].message
    assert "locked by run 20200101T000000-dead00" in message
    assert re.search(r"stale: no heartbeat for \d+s", message)
    assert "--break-lock" in message
    broken = go(the_lab, project, state_dir, RUNBOOK, limit=("hv18",), break_lock=True)
    assert broken.hosts["hv18"].status == "changed"
    (note,) = broken.hosts["hv18"].notes
    assert note.startswith(
        "broke the lock of run 20200101T000000-dead00 (ops@elsewhere.example, pid 999999)"
    )
    assert re.search(r"\(no heartbeat for \d+s\)$", note)


def test_plain_output_is_one_line_per_event_and_exit_codes_are_bits(
    lab: tuple[Lab, LabState], project: Path, state_dir: Path
) -> None:
    the_lab, _ = lab
    argv = [
        sys.executable,
        "-m",
        "hvbridge.cli",
        "--project",
        str(project),
        "run",
        str(RUNBOOK),
        "-i",
        str(the_lab.paths.inventory),
        "--limit",
        "hv19,hv20",
        "--state-dir",
        str(state_dir),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == EXIT_CHANGED, done.stdout + done.stderr
    events = done.stdout.partition("\nrun ")[0]
    lines = events.splitlines()
    assert lines[0].endswith("on 2 host(s), 1 batch(es)") and "run " in lines[0]
    stamped = re.compile(r"^\d\d:\d\d:\d\d (run|batch|hv19|hv20)[ :]")
    assert all(stamped.match(line) for line in lines), lines
    assert sum(" hv19 push network files: changed" in line for line in lines) == 1
    assert sum(" hv20 restart network (guarded): changed" in line for line in lines) == 1
    run_id = re.search(r"run (\S+) finished", events).group(1)  # type: ignore[union-attr]
    log = (state_dir / "runs" / run_id / "events.jsonl").read_text().splitlines()
    kinds = [json.loads(line)["event"] for line in log]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("step_finished") == 10 and kinds.count("host_finished") == 2
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
