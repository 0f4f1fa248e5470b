"""The VM lab for tests (`hvbridge lab up --kernel debian`), driven through the CLI as an
operator drives it. One VM per module: each boot costs a minute or more under emulation."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hvbridge.lab.vm import VM_SHARE

from .rollout_support import PROJECT

# Under software emulation on a busy machine the VM's boot, the lab's build inside it and
# a rollout each take minutes; the tests never assert a time.
TIMEOUT = 1800


def hv(lab_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "hvbridge.cli", "--project", str(PROJECT),
            "--lab-dir", str(lab_dir), *args]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)


def said(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}"


@contextmanager
def vm_lab(lab_dir: Path, *up: str) -> Iterator[subprocess.CompletedProcess[str]]:
    """A VM lab up for the block (its `lab up` result), down after, leaving nothing."""
    done = hv(lab_dir, "lab", "up", "--kernel", "debian", *up)
    try:
        assert done.returncode == 0, said(done)
        yield done
    finally:
        if lab_dir.exists():
            down = hv(lab_dir, "lab", "down")
            assert down.returncode == 0, said(down)


def qemu_pid(lab_dir: Path) -> int:
    return int(json.loads((lab_dir / "vm" / "vm.json").read_text())["pid"])


def share(lab_dir: Path) -> Path:
    """The directory the host and the VM both see (here: its host path)."""
    return lab_dir / "vm" / "share"


def in_vm(lab_dir: Path, path: Path) -> str:
    """`path`, under the share, as the VM sees it."""
    return f"{VM_SHARE}/{path.relative_to(share(lab_dir))}"


def inner_inventory(lab_dir: Path) -> Path:
    """The inner lab's inventory as its `lab up` left it (a copy in the share)."""
    return share(lab_dir) / "lab" / "inventory"
