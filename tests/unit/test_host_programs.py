"""How many programs hvbridge's shell starts on a host: each costs the host milliseconds
of CPU (issue 17; bench/README.md "Where the rest goes"). The shell runs here with sh, a
logging stand-in on PATH for every program it might start."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hvbridge import remote
from hvbridge.hoststate import parse_state
from hvbridge.platforms.iproute import STATE_COMMAND

# Programs the scripts could start; each stand-in logs its name and runs the real one
# (or prints a canned output, for the ones that read the machine's network).
LOGGED = ("mkdir", "cp", "cat", "grep", "sed", "head", "sleep", "mv", "rm")
CANNED = {
    "brctl": "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n",
    "ip": "",
}


def _path(tmp_path: Path) -> tuple[dict[str, str], Path]:
    bin_dir, log = tmp_path / "bin", tmp_path / "programs.log"
    bin_dir.mkdir()
    for name in LOGGED:
        real = subprocess.run(
            ["sh", "-c", f"command -v {name}"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if not real.startswith("/"):
            # A builtin in every sh: /usr/bin's copy stands behind it, never started.
            real = f"/usr/bin/{name}"
        (bin_dir / name).write_text(f'#!/bin/sh\necho {name} >> "{log}"\nexec {real} "$@"\n')
    for name, output in CANNED.items():
        (bin_dir / name).write_text(f"#!/bin/sh\necho {name} >> \"{log}\"\nprintf %b '{output}'\n")
    for stand_in in bin_dir.iterdir():
        stand_in.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, log


def _started(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_a_state_read_starts_brctl_and_four_ips_and_nothing_else(tmp_path: Path) -> None:
    """Both address families in one `ip`; the resolver, the bridges' STP settings, bonds
    and VLANs read with builtins (it started grep and cat, and a cat per bridge)."""
    env, log = _path(tmp_path)
    done = subprocess.run(["sh", "-c", STATE_COMMAND], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(_started(log)) == ["brctl", "ip", "ip", "ip", "ip"]
    # What it printed still parses, the resolver included.
    state = parse_state("hv01", done.stdout)
    assert state.chain is not None and state.chain.resolver is not None


def test_keeping_files_makes_their_directories_with_one_mkdir(tmp_path: Path) -> None:
    env, log = _path(tmp_path)
    etc = tmp_path / "etc"
    (etc / "a").mkdir(parents=True)
    (etc / "b").mkdir()
    files = [etc / "a" / "one", etc / "b" / "two", etc / "a" / "three"]
    for path in files:
        path.write_text(f"{path.name}\n")
    run = tmp_path / "run"
    script = "set -e\n" + "\n".join(remote.keep_commands(str(run), [str(p) for p in files]))
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(_started(log)) == ["cp", "cp", "cp", "mkdir"]
    assert [(run / f"before{p}").read_text() for p in files] == ["one\n", "two\n", "three\n"]
    # Kept once: the next write of the same files in the run starts nothing.
    log.unlink()
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert _started(log) == []
