"""hvbridge.guards: finding other runs' guards; apply: why a host reverted by itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hvbridge import guards, platforms
from hvbridge.apply import Confirmation, Reverted, _reverted_alone
from hvbridge.guards import OtherGuard, parse_found

EL6 = platforms.get("el6")

RUNS = "/var/lib/hvbridge/runs"


def test_armed_and_firing_guards_of_other_runs_are_found_not_ours() -> None:
    found = parse_found(
        f"armed {RUNS}/20261201T100000-aaaaaa/\nfiring {RUNS}/20261201T110000-bbbbbb/\n"
        f"armed {RUNS}/20261201T120000-cccccc/\n",
        own=f"{RUNS}/20261201T120000-cccccc",
    )
    assert found == [
        OtherGuard("20261201T100000-aaaaaa", "armed", f"{RUNS}/20261201T100000-aaaaaa"),
        OtherGuard("20261201T110000-bbbbbb", "firing", f"{RUNS}/20261201T110000-bbbbbb"),
    ]


def test_the_search_skips_reverted_and_cancelled_runs(tmp_path: Path) -> None:
    """FIND, run with sh on a copy of the runs directory."""
    runs = tmp_path / "runs"
    for name, files in {
        "a": ["armed"], "b": ["firing"], "c": ["firing", "reverted"], "d": ["cancelled"],
    }.items():  # fmt: skip
        (runs / name).mkdir(parents=True)
        for file in files:
            (runs / name / file).touch()
    script = guards.FIND.replace(guards.RUNS, str(runs))
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    found = parse_found(out.stdout, own=str(runs / "x"))
    assert sorted((g.run_id, g.state) for g in found) == [("a", "armed"), ("b", "firing")]


def test_a_host_that_reverted_by_itself_says_what_failed() -> None:
    lost = Confirmation(None, False, last_error="hv02: cannot reach 198.18.129.2: timed out")
    back = "reverted: addresses and default route are as before"
    failed = Reverted(back, 1, "Bringing up interface br0: failed\nRTNETLINK answers: busy\n")
    assert _reverted_alone(EL6, lost, failed) == (
        "service network restart failed (exit 1): Bringing up interface br0: failed"
        " | RTNETLINK answers: busy"
    )
    assert _reverted_alone(EL6, lost, Reverted(back, 0)) == (
        "could not reconnect and verify in time: hv02: cannot reach 198.18.129.2: timed out"
    )
    never = Confirmation(None, False)
    assert _reverted_alone(EL6, never, Reverted(back, None)) == (
        "service network restart had not finished at the deadline"
    )
    assert "no attempt" not in _reverted_alone(EL6, never, Reverted(back, 0))
