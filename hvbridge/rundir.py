"""Where each run keeps its state on the controller: `STATE_DIR/runs/<run-id>/`.

`state.json` says what was run (runbook, inventory, limit) and how each host
ended; `events.jsonl` is the event log. `--retry-failed` reads the newest state
of the same runbook and inventory and runs only its hosts that did not end ok.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

# Statuses a retry leaves alone; everything else (failed, rolled back, not run) is retried.
DONE = frozenset({"ok", "changed"})


@dataclass(frozen=True)
class RunState:
    run_id: str
    runbook: str
    inventory: str
    check: bool
    hosts: dict[str, str]  # name -> status
    stopped: str | None = None

    @property
    def unfinished(self) -> list[str]:
        return [name for name, status in self.hosts.items() if status not in DONE]


def runs_dir(state_dir: Path) -> Path:
    return state_dir / "runs"


def run_path(state_dir: Path, run_id: str) -> Path:
    return runs_dir(state_dir) / run_id


def save(state_dir: Path, state: RunState) -> Path:
    directory = run_path(state_dir, state.run_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "state.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def load(path: Path) -> RunState:
    return RunState(**json.loads(path.read_text()))


def last_run(state_dir: Path, runbook: Path, inventory: Path) -> RunState | None:
    """The newest real (not check-mode) run of this runbook on this inventory."""
    found = []
    for state_file in runs_dir(state_dir).glob("*/state.json"):
        try:
            state = load(state_file)
        except (ValueError, TypeError, OSError):
            continue
        same = state.runbook == str(runbook.resolve()) and state.inventory == str(
            inventory.resolve()
        )
        if same and not state.check:
            found.append(state)
    # Run ids start with a sortable timestamp.
    return max(found, key=lambda s: s.run_id, default=None)
