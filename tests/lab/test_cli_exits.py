"""Exit codes, reports and retries through the command line, on a lab of 3 hypervisors:
a runbook argument out of range, a rollout the failure budget stops, retries limited
and not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

from .conftest import HostPlatform, LabFactory
from .rollout_support import RUNBOOK, accepted_logins, cli

SCRIPTS = "/etc/sysconfig/network-scripts"
HOSTS = ("hv01", "hv02", "hv03")


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=3, direct=True, libvirt=False, profile="modern")


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory, platform: HostPlatform) -> Path:
    # One per platform: --retry-failed reads the runs before it from here.
    return tmp_path_factory.mktemp(f"state-{platform.name}")


def on(lab: Lab, host: str, command: str) -> str:
    with lab.connect(host) as conn:
        return conn.run(command).stdout


def bridged(lab: Lab, host: str) -> bool:
    return "TYPE=Bridge" in on(lab, host, f"cat {SCRIPTS}/ifcfg-br0 2>/dev/null")


def runbook_file(path: Path, **strategy: Any) -> Path:
    steps = yaml.safe_load(RUNBOOK.read_text())
    path.write_text(yaml.safe_dump({**strategy, "steps": steps}, sort_keys=False))
    return path


def run(lab: Lab, runbook: Path, state_dir: Path, reports: Path, *extra: str) -> Any:
    return cli("run", str(runbook), "-i", str(lab.paths.inventory), "--state-dir",
               str(state_dir), "--reports-dir", str(reports), *extra)  # fmt: skip


def summary_of(reports: Path, stdout: str) -> dict[str, Any]:
    """The summary.json of the run whose output is `stdout` ("reports: HTML  (DIR)")."""
    (line,) = [line for line in stdout.splitlines() if line.startswith("reports: ")]
    directory = Path(line.rpartition("(")[2].rstrip(")"))
    assert directory.parent == reports
    loaded: dict[str, Any] = json.loads((directory / "summary.json").read_text())
    return loaded


def test_an_argument_out_of_its_range_is_refused_before_any_connection(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, _ = lab
    steps = yaml.safe_load(RUNBOOK.read_text())
    next(s for s in steps if s["task"] == "network.apply")["args"] = {"timeout": 5}
    runbook = tmp_path / "short.yaml"
    runbook.write_text(yaml.safe_dump(steps, sort_keys=False))
    logins = {host: accepted_logins(the_lab, host) for host in HOSTS}
    done = run(the_lab, runbook, tmp_path / "state", tmp_path / "reports")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == (
        f"error: {runbook}: invalid runbook:\n"
        "  step 3 (restart network (guarded)): args.timeout:"
        " Input should be greater than or equal to 10 (got 5)\n"
    )
    assert done.stdout == ""
    assert {host: accepted_logins(the_lab, host) for host in HOSTS} == logins
    assert not any(bridged(the_lab, host) for host in HOSTS)
    assert not (tmp_path / "reports").exists() and not (tmp_path / "state").exists()


def test_a_budget_stop_writes_reports_lists_hosts_not_run_and_exits_with_bit_16(
    lab: tuple[Lab, LabState], state_dir: Path, tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, _ = lab
    # Another file configuring br0: push refuses on hv01, the canary.
    on(the_lab, "hv01", f"printf 'DEVICE=br0\\n' > {SCRIPTS}/ifcfg-bridge-old")
    runbook = runbook_file(state_dir / "canary.yaml", serial=[1], max_fail_percentage=0)
    reports = tmp_path / "reports"
    done = run(the_lab, runbook, state_dir, reports)
    assert done.returncode == 16 | 4, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "input error" not in done.stderr
    assert (
        "STOPPED: batch 1/3: 1 of 1 host(s) failed, more than max_fail_percentage 0%;"
        " batches 2-3 not started"
    ) in done.stdout
    assert "== hv02: not run" in done.stdout and "== hv03: not run" in done.stdout
    summary = summary_of(reports, done.stdout)
    assert (summary["exit_code"], summary["bits"]) == (20, 20)
    assert summary["counts"] == {
        "ok": 0, "changed": 0, "failed": 1, "rolled_back": 0, "not_run": 2, "interrupted": 0,
    }  # fmt: skip
    assert {name: line["status"] for name, line in summary["hosts"].items()} == {
        "hv01": "failed", "hv02": "not run", "hv03": "not run",
    }  # fmt: skip
    assert summary["hosts"]["hv02"]["summary"].startswith(
        "not run: the failure budget stopped the rollout (batch 1/3: 1 of 1 host(s) failed"
    )
    assert summary["stopped"].startswith("batch 1/3")
    run_dir = reports / summary["run"]["id"]
    assert '<tr data-host="hv03" class="status-not-run">' in (run_dir / "report.html").read_text()
    summary_md = (run_dir / "summary.md").read_text()
    assert f"| [hv02](hosts/hv02.md) | {platform.name} | not run |" in summary_md
    assert not any(bridged(the_lab, host) for host in HOSTS)


def test_a_limited_retry_leaves_the_rest_to_the_next_retry(
    lab: tuple[Lab, LabState], state_dir: Path, tmp_path: Path
) -> None:
    """After `--retry-failed --limit '!hv03'`, a plain `--retry-failed` still takes hv03."""
    the_lab, _ = lab
    on(the_lab, "hv01", f"rm -f {SCRIPTS}/ifcfg-bridge-old")
    runbook, reports = state_dir / "canary.yaml", tmp_path / "reports"
    first = run(the_lab, runbook, state_dir, reports, "--retry-failed", "--limit", "!hv03")
    assert first.returncode == 2, first.stdout + first.stderr
    assert {n: h["status"] for n, h in summary_of(reports, first.stdout)["hosts"].items()} == {
        "hv01": "changed", "hv02": "changed",
    }  # fmt: skip
    second = run(the_lab, runbook, state_dir, reports, "--retry-failed")
    assert second.returncode == 2, second.stdout + second.stderr
    assert {n: h["status"] for n, h in summary_of(reports, second.stdout)["hosts"].items()} == {
        "hv03": "changed",
    }
    assert all(bridged(the_lab, host) for host in HOSTS)
    third = run(the_lab, runbook, state_dir, reports, "--retry-failed")
    assert third.returncode == 1
    assert "--retry-failed: every host of run" in third.stderr and "ended ok" in third.stderr
