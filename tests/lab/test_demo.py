"""The README's main command: `hvbridge demo` bridges a lab and leaves nothing behind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import HostPlatform
from .rollout_support import PROJECT
from .test_lab_down import links


def test_demo_bridges_the_lab_and_removes_it(tmp_path: Path, platform: HostPlatform) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for part in ("tasks", "templates", "runbooks"):
        (project / part).symlink_to(PROJECT / part)
    lab_dir = tmp_path / "lab"
    argv = [sys.executable, "-m", "hvbridge.cli", "--project", str(project), "--lab-dir",
            str(lab_dir), "demo", "--hosts", "1", "--platform", platform.name]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    # Exits with the run's bits: 2, every host was bridged (changed), nothing else.
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr
    before, _, after = done.stdout.partition(f"== hv01 after ({platform.name}, ")
    assert "default   active" in before and "v1     shut off" in before
    bridges = after.split("# ip -4")[0]
    assert re.search(rf"^br0\s+\S+\s+no\s+{platform.nic}\s+vnet0$", bridges, re.M), bridges
    assert "v1     running" in after
    (report,) = [
        line.split()[1] for line in done.stdout.splitlines() if line.startswith("reports:")
    ]
    assert Path(report).is_file() and Path(report).is_relative_to(project / "reports")
    assert not lab_dir.exists()
    assert not [name for name in links() if name.startswith("hvl-")]
