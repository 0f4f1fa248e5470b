"""The CLI's reports take each host's platform from the run (which resolved it when it
loaded the inventory), not from a second reading of the inventory: at 500 hosts that
reading was 3 ms of controller CPU per host."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from hvbridge.cli import _write_reports

from .test_report import TEMPLATES, sample_outcome


def test_the_reports_say_the_platform_the_run_resolved(tmp_path: Path) -> None:
    outcome, planned = sample_outcome()
    outcome = replace(outcome, planned_steps=tuple(planned), platforms={"hv02": "el7"})
    # The inventory is not there to be read again: the platform can only come from the run.
    paths = _write_reports(
        outcome, TEMPLATES.parent, tmp_path / "no-inventory", tmp_path / "reports"
    )
    assert json.loads(paths.hosts["hv02"].json.read_text())["platform"] == "el7"
    assert json.loads(paths.hosts["hv01"].json.read_text())["platform"] is None
