"""Write a run's reports: `DIRECTORY/<run-id>/`, every file replaced atomically.

Host files are written first and `report.html` last, so a reader who finds the
summary finds every host file it names.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from hvbridge import shipped
from hvbridge.report import render
from hvbridge.report.build import host_report, run_info, summary_report
from hvbridge.runner import RunOutcome

# Run ids name a directory: refuse anything that could leave DIRECTORY.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class HostPaths:
    json: Path
    markdown: Path


@dataclass(frozen=True)
class ReportPaths:
    directory: Path
    hosts: dict[str, HostPaths]
    summary_json: Path
    summary_markdown: Path
    html: Path


def write_reports(
    outcome: RunOutcome,
    directory: Path,
    *,
    inventory: str | None = None,
    templates: Path | None = None,
    planned_steps: Sequence[str] = (),
    started: datetime | None = None,
    platforms: Mapping[str, str] | None = None,
) -> ReportPaths:
    """Write every report of `outcome` under `directory/<run-id>/`.

    `templates`: the project's templates directory; the report templates are in its
    `report/`, then in the shipped templates' (by default only those).
    `planned_steps`: the runbook's step names, to list the steps a failed host
    skipped. `started`: when the run began; by default the run is taken to have
    ended just now, as reports are written right after it. `platforms`: each host's
    platform, as the inventory says (a host left out is reported without one).
    """
    if not _RUN_ID.fullmatch(outcome.run_id):
        raise ValueError(f"run id {outcome.run_id!r} cannot name a report directory")
    templates = templates or shipped.templates()
    if started is None:
        started = datetime.now(UTC) - timedelta(seconds=outcome.seconds)
    run = run_info(outcome, inventory=inventory, started=started)
    root = directory / outcome.run_id

    reports = {
        name: host_report(
            outcome.hosts[name],
            run,
            planned_steps,
            stopped=outcome.stopped,
            interrupted=outcome.interrupted,
            platform=(platforms or {}).get(name),
        )
        for name in sorted(outcome.hosts)
    }
    stems = {name: f"hosts/{render.file_stem(name)}" for name in reports}
    summary = summary_report(outcome, run, reports, stems)
    paths = ReportPaths(
        directory=root,
        hosts={
            n: HostPaths(root / f"{stem}.json", root / f"{stem}.md") for n, stem in stems.items()
        },
        summary_json=root / "summary.json",
        summary_markdown=root / "summary.md",
        html=root / "report.html",
    )
    # Everything is rendered before anything is written: a template error leaves no
    # half-written report behind.
    files: list[tuple[Path, str]] = []
    for name, report in reports.items():
        files.append((paths.hosts[name].json, _json(report)))
        files.append((paths.hosts[name].markdown, render.host_markdown(templates, report)))
    files.append((paths.summary_json, _json(summary)))
    files.append((paths.summary_markdown, render.summary_markdown(templates, summary)))
    files.append((paths.html, render.html(templates, summary, reports)))

    (root / "hosts").mkdir(parents=True, exist_ok=True)
    for path, text in files:
        _write(path, text)
    return paths


def _json(document: BaseModel) -> str:
    return json.dumps(document.model_dump(mode="json", by_alias=True), indent=2) + "\n"


def _write(path: Path, text: str) -> None:
    """Temp file in the same directory, synced, renamed over `path`: a reader sees the
    old file or the new one, never half of one."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600; a report is meant to be read by colleagues.
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
