"""A task for the live display's test: each host waits, saying so, until the test
creates its go file; the test decides when each host ends."""

from __future__ import annotations

import time
from pathlib import Path

from nornir.core.task import Result, Task

from hvbridge.hostrun import HostRun


def hold(task: Task, ctx: HostRun, go_dir: str, note: str) -> Result:
    """Wait for GO_DIR/HOST, then end changed with `note` as the message."""
    go = Path(go_dir) / ctx.name
    ctx.emit("waiting", what=f"go file [{ctx.name}]", until=time.time() + 600)
    while not go.exists():
        time.sleep(0.05)
    ctx.emit("waiting", what=None)
    return Result(host=task.host, changed=True, result=note)
