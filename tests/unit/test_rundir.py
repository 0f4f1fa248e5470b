"""state.json: written as a run goes, read back by --retry-failed across runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hvbridge import rundir
from hvbridge.rundir import HostState, RunState, StateWriter

RUNBOOK = Path("/project/runbooks/bridge.yaml")
INVENTORY = Path("/project/inventory")


def state(run_id: str, hosts: dict[str, str | None], check: bool = False) -> RunState:
    return RunState(
        run_id, str(RUNBOOK), str(INVENTORY), check,
        {name: HostState(status) for name, status in hosts.items()},
    )  # fmt: skip


def test_the_state_is_on_disk_after_every_step_and_host(tmp_path: Path) -> None:
    writer = StateWriter(tmp_path, state("20260101T000000-aaaaaa", {"hv01": None, "hv02": None}))
    path = tmp_path / "runs" / "20260101T000000-aaaaaa" / "state.json"

    def on_disk() -> Any:
        return json.loads(path.read_text())

    assert on_disk()["hosts"] == {
        "hv01": {"status": None, "step": None}, "hv02": {"status": None, "step": None},
    }  # fmt: skip
    writer.step_finished("hv01", "push ifcfg files")
    assert on_disk()["hosts"]["hv01"] == {"status": None, "step": "push ifcfg files"}
    writer.host_finished("hv01", "changed")
    assert on_disk()["hosts"]["hv01"] == {"status": "changed", "step": "push ifcfg files"}
    assert on_disk()["finished"] is False
    writer.finish({"hv01": "changed", "hv02": "not run"}, None, "SIGINT")
    assert (on_disk()["finished"], on_disk()["interrupted"]) == (True, "SIGINT")
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_killed_run_leaves_its_unfinished_hosts_to_retry(tmp_path: Path) -> None:
    writer = StateWriter(tmp_path, state("20260101T000000-aaaaaa", {"hv01": None, "hv02": None}))
    writer.step_finished("hv01", "facts")
    writer.host_finished("hv01", "ok")
    writer.step_finished("hv02", "push ifcfg files")
    # The controller dies here: nothing else is written.
    last = rundir.last_run(tmp_path, RUNBOOK, INVENTORY)
    assert last is not None and not last.finished
    assert last.unfinished == ["hv02"]


def test_a_host_left_out_of_a_retry_keeps_its_status_for_the_next(tmp_path: Path) -> None:
    """`--retry-failed --limit '!hv06'` leaves hv06 failed; a plain `--retry-failed`
    still takes it."""
    rundir.save(tmp_path, state("20260101T000000-aaaaaa", {"hv05": "failed", "hv06": "failed",
                                                            "hv07": "ok"}))  # fmt: skip
    rundir.save(tmp_path, state("20260101T000100-bbbbbb", {"hv05": "changed"}))
    last = rundir.last_run(tmp_path, RUNBOOK, INVENTORY)
    assert last is not None and last.run_id == "20260101T000100-bbbbbb"
    assert last.unfinished == ["hv06"]
    rundir.save(tmp_path, state("20260101T000200-cccccc", {"hv06": "changed"}))
    last = rundir.last_run(tmp_path, RUNBOOK, INVENTORY)
    assert last is not None and last.unfinished == []


def test_check_runs_other_runbooks_and_old_states_are_read_as_they_are(tmp_path: Path) -> None:
    rundir.save(tmp_path, state("20260101T000000-aaaaaa", {"hv01": "failed"}))
    rundir.save(tmp_path, state("20260101T000100-bbbbbb", {"hv01": "ok"}, check=True))
    other = state("20260101T000200-cccccc", {"hv01": "ok"})
    rundir.save(tmp_path, RunState(**{**other.__dict__, "runbook": "/elsewhere.yaml"}))
    # Written by hvbridge before per-step state: each host's status alone.
    old = tmp_path / "runs" / "20250101T000000-dddddd"
    old.mkdir(parents=True)
    (old / "state.json").write_text(json.dumps({
        "run_id": old.name, "runbook": str(RUNBOOK), "inventory": str(INVENTORY),
        "check": False, "hosts": {"hv02": "rolled back"}, "stopped": None,
    }))  # fmt: skip
    last = rundir.last_run(tmp_path, RUNBOOK, INVENTORY)
    assert last is not None and last.run_id == "20260101T000000-aaaaaa"
    assert last.unfinished == ["hv02", "hv01"]
    assert rundir.last_run(tmp_path, RUNBOOK, Path("/other")) is None
