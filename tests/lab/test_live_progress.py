"""What an operator sees on a terminal while a run runs, read off a real terminal
(tmux, capture-pane): the bar moves as each host ends, the hosts in flight show their
step and what they wait for, nothing is read as markup, lines are cut to the width,
and the recap is in colour unless NO_COLOR. Off a terminal, no ANSI codes at all."""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

from .conftest import LabFactory
from .rollout_support import PROJECT

TASKS = Path(__file__).parent / "data" / "live_tasks"
STEP = "wait for the test"
# Longer than 80 columns once stamped, shorter than the wide terminal.
NOTE = "br0 [eth0] [bold]kept as written[/bold] " + "x" * 40 + " END"
ESC = "\x1b["


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=3, direct=True, libvirt=False, profile="modern")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose only task is `hold.hold`, and a runbook of that one step."""
    project = tmp_path / "project"
    (project / "runbooks").mkdir(parents=True)
    shutil.copytree(TASKS, project / "tasks")
    (project / "templates").symlink_to(PROJECT / "templates")
    step = {"name": STEP, "task": "hold.hold",
            "args": {"go_dir": str(tmp_path / "go"), "note": NOTE}}  # fmt: skip
    (project / "runbooks" / "hold.yaml").write_text(yaml.safe_dump([step]))
    (tmp_path / "go").mkdir()
    return project


class Terminal:
    """A tmux server of the test's own (its own socket), one window of a set size."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", str(self.socket), *args],
                              capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
        return done.stdout

    def start(self, command: str, width: int, height: int = 40) -> None:
        # The shell stays after the command, so that the screen can still be read.
        shell = f'{command}; echo "exit=$?"; sleep 600'
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), shell)

    def screen(self, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t", *(["-e"] if escapes else []))

    def wait_for(self, seen: Callable[[str], bool], what: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if seen(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never saw {what}; the screen:\n{self.screen()}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    assert shutil.which("tmux"), "tmux is missing: apt-get install tmux (scripts/install does)"
    term = Terminal(tmp_path / "tmux.sock")
    yield term
    # A run left waiting (a test failed half-way) is let go and ends, releasing its
    # locks, before the terminal goes: the next test finds the hosts free.
    go = tmp_path / "go"
    if go.is_dir():
        for host in ("hv01", "hv02", "hv03"):
            (go / host).touch()
        with contextlib.suppress(AssertionError, subprocess.SubprocessError):
            term.wait_for(lambda s: "exit=" in s, "the run's end", timeout=60)
    subprocess.run(["tmux", "-S", str(term.socket), "kill-server"], capture_output=True)


def run_argv(project: Path, lab: Lab, tmp_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hvbridge.cli", "--project", str(project), "run",
            str(project / "runbooks" / "hold.yaml"), "-i", str(lab.paths.inventory),
            "--state-dir", str(tmp_path / "state"), "--reports-dir", str(tmp_path / "reports"),
            *extra]  # fmt: skip


def command(project: Path, lab: Lab, tmp_path: Path, env: str = "") -> str:
    """The run, in a shell that exported COLUMNS and LINES once, as a login shell or a
    tool may have done: the display must follow the terminal, not them."""
    argv = shlex.join(run_argv(project, lab, tmp_path))
    return f"cd {shlex.quote(str(tmp_path))} && env COLUMNS=80 LINES=24 {env} {argv}"


def bar(screen: str) -> str:
    (line,) = [line for line in screen.splitlines() if line.startswith("batch 1/1 ")]
    return line


def in_flight(screen: str) -> list[str]:
    return [line.strip() for line in screen.splitlines() if re.match(r"  hv0\d ", line)]


def recap_start(screen: str) -> int:
    lines = screen.splitlines()
    return next(i for i, line in enumerate(lines) if re.match(r"run \S+: hold on 3 host", line))


def recap(screen: str, start: int) -> list[str]:
    return screen.splitlines()[start:]


def test_live_display_per_host_in_flight_waits_markup_width_and_colour(
    lab: tuple[Lab, LabState], project: Path, tmp_path: Path, terminal: Terminal
) -> None:
    the_lab, _ = lab
    go = tmp_path / "go"
    terminal.start(command(project, the_lab, tmp_path), width=160)
    screen = terminal.wait_for(lambda s: len(in_flight(s)) == 3, "three hosts in flight")
    assert " 0/3 " in bar(screen) and "3 in flight" in bar(screen)
    for host in ("hv01", "hv02", "hv03"):
        (line,) = [line for line in in_flight(screen) if line.startswith(host)]
        assert re.fullmatch(rf"{host} {STEP}: go file \[{host}\] \(\d+ s left\)", line), line

    (go / "hv01").touch()
    screen = terminal.wait_for(lambda s: " 1/3 " in bar(s), "the bar at 1/3")
    # hv01 ended while hv02 and hv03 still wait: the bar did not wait for the batch.
    assert [line.split()[0] for line in in_flight(screen)] == ["hv02", "hv03"]
    assert "1 changed, 2 in flight" in bar(screen)
    (done,) = [line for line in screen.splitlines() if f"hv01 {STEP}: changed" in line]
    # The whole line, as written (no markup eaten), on one line of the 160 columns.
    assert done.endswith(f": {NOTE}") and len(done) > 80
    assert re.match(r"^\d\d:\d\d:\d\d hv01 ", done)
    assert "events.py" not in screen

    (go / "hv02").touch()
    (go / "hv03").touch()
    screen = terminal.wait_for(lambda s: "exit=2" in s, "the run's end")
    assert re.search(r"^\d\d:\d\d:\d\d batch 1/1 done: 3 changed$", screen, re.M)
    assert in_flight(screen) == []
    start = recap_start(screen)
    assert "== hv01: changed" in recap(screen, start)
    (header,) = [line for line in recap(terminal.screen(escapes=True), start) if "hv01:" in line]
    assert ESC in header and "changed" in header


def test_narrow_terminal_cuts_lines_and_no_color_has_none(
    lab: tuple[Lab, LabState], project: Path, tmp_path: Path, terminal: Terminal
) -> None:
    the_lab, _ = lab
    for host in ("hv01", "hv02", "hv03"):
        (tmp_path / "go" / host).touch()
    terminal.start(command(project, the_lab, tmp_path, env="NO_COLOR=1"), width=60)
    screen = terminal.wait_for(lambda s: "exit=2" in s, "the run's end")
    lines = screen.splitlines()
    start = recap_start(screen)
    live = lines[:start]
    steps = [line for line in live if re.search(r"hv0\d wait for the", line)]
    assert len(steps) == 3, live
    # Cut with an ellipsis at the width, not wrapped onto a second line.
    assert all(len(line) == 60 and line.endswith("…") for line in steps), steps
    assert not any("END" in line for line in live)
    assert "== hv01: changed" in recap(screen, start)
    assert not any(ESC in line for line in recap(terminal.screen(escapes=True), start))


def test_nornir_output_off_a_terminal_has_no_ansi_codes(
    lab: tuple[Lab, LabState], project: Path, tmp_path: Path
) -> None:
    the_lab, _ = lab
    for host in ("hv01", "hv02", "hv03"):
        (tmp_path / "go" / host).touch()
    argv = run_argv(project, the_lab, tmp_path, "--nornir-output")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "* hv01 ** changed : True" in done.stdout
    assert NOTE in done.stdout
    assert ESC not in done.stdout and ESC not in done.stderr
