"""`systemctl` and `journalctl` of an el7 lab host, for network.service and libvirtd.service.

An el7 lab host's `/usr/bin/systemctl` runs `python -m hvbridge.lab.systemctl systemctl ARGS`
(and `journalctl` likewise). There is no systemd: a job (start, stop, restart) runs the lab's
script for the unit (`/etc/init.d/network`, the same one `service network` runs on el6) in
a process of its own session, as systemd runs it from PID 1, so the caller's SSH session
dying under a network restart does not end it. What the script prints goes to the journal,
not to the caller, and the caller sees systemctl's own words and exit codes.
docs/lab-network-service.md lists what is emulated.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import fnmatch
import json
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from hvbridge.lab.units import (
    UNITS,
    JournalEntry,
    Process,
    Unit,
    UnitState,
    failed_lines,
    job_failed,
    journal_text,
    started,
    starting,
    status_text,
    stopped,
    stopping,
    unit_name,
)

# Where /etc, /run and /var are: `/` on a lab host; a temporary directory in unit tests.
ROOT_ENV = "HVBRIDGE_LAB_ROOT"
# What systemd gives a service: a fixed PATH, no caller's environment. SYSTEMCTL_SKIP_REDIRECT
# tells the script not to hand itself back to systemctl, as EL7's init functions see PPID 1.
SERVICE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C",
    "SYSTEMCTL_SKIP_REDIRECT": "1",
}
SYSTEMD_PID = 1
EXIT_EXEC = 203  # systemd's status for a script that cannot be started
JOB_VERBS = ("start", "stop", "restart", "try-restart", "condrestart")
EMULATED = (*JOB_VERBS, "status", "is-active", "is-failed", "is-enabled", "daemon-reload")
_NO_OP_OPTIONS = frozenset(
    {"--no-pager", "-l", "--full", "--no-block", "--no-legend", "--no-ask-password"}
)


@dataclass(frozen=True)
class Layout:
    root: Path

    @classmethod
    def from_environ(cls) -> Layout:
        return cls(Path(os.environ.get(ROOT_ENV) or "/"))

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    @property
    def state_dir(self) -> Path:
        return self.path("/run/hvbridge-lab/systemd")

    @property
    def journal(self) -> Path:
        return self.path("/var/log/hvbridge-lab/journal.jsonl")


def main(argv: Sequence[str], layout: Layout) -> int:
    program, *args = argv or ["systemctl"]
    if program == "journalctl":
        return journalctl(args, layout, sys.stdout)
    return systemctl(args, layout, sys.stdout, sys.stderr)


# -- systemctl --------------------------------------------------------------------------


def systemctl(args: Sequence[str], layout: Layout, out: TextIO, err: TextIO) -> int:
    quiet, lines, words = False, 10, []
    arguments = iter(args)
    for arg in arguments:
        if arg in _NO_OP_OPTIONS:
            continue
        if arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("-n", "--lines") or arg.startswith("--lines="):
            value = arg.partition("=")[2] if "=" in arg else next(arguments, "")
            if not value.isdigit():
                err.write(f"Failed to parse lines '{value}'\n")
                return 1
            lines = int(value)
        elif arg.startswith("-"):
            err.write(f"systemctl: unrecognized option '{arg}'\n")
            return 1
        else:
            words.append(arg)
    verb, names = (words[0], [unit_name(w) for w in words[1:]]) if words else ("list-units", [])
    if verb not in EMULATED:
        err.write(
            f"systemctl {verb}: not emulated in the hvbridge lab"
            f" (it has {', '.join(EMULATED)}, for {', '.join(UNITS)})\n"
        )
        return 1
    if verb == "daemon-reload":
        return 0
    if not names:
        err.write("Too few arguments.\n")
        return 1
    if verb in JOB_VERBS:
        return _jobs(verb, names, layout, err)
    if verb == "status":
        return _status(names, layout, lines, out, err)
    if verb == "is-enabled":
        return _is_enabled(names, quiet, out, err)
    states = [_active(UNITS[n], layout) if n in UNITS else "unknown" for n in names]
    if not quiet:
        out.writelines(f"{state}\n" for state in states)
    wanted = "active" if verb == "is-active" else "failed"
    if wanted in states:
        return 0
    return 3 if verb == "is-active" else 1


def _jobs(verb: str, names: Sequence[str], layout: Layout, err: TextIO) -> int:
    # A pattern names the units it matches, none at all being no error (netplan stops
    # `netplan-wpa-*.service`), as systemd matches patterns against its loaded units.
    names = [
        match
        for name in names
        for match in (fnmatch.filter(UNITS, name) if _is_pattern(name) else [name])
    ]
    missing = [name for name in names if name not in UNITS]
    if missing:
        err.write(
            f"Failed to {verb} {missing[0]}: Unit {missing[0]} failed to load:"
            " No such file or directory.\n"
        )
        return 5
    rc = 0
    for name in names:
        if run_job(UNITS[name], verb, layout) != 0:
            err.write(job_failed(name) + "\n")
            rc = 1
    return rc


def _is_pattern(name: str) -> bool:
    return any(char in name for char in "*?[")


def _status(names: Sequence[str], layout: Layout, lines: int, out: TextIO, err: TextIO) -> int:
    rc, shown = 0, 0
    for name in names:
        if name not in UNITS:
            err.write(f"Unit {name} could not be found.\n")
            rc = max(rc, 4)
            continue
        unit = UNITS[name]
        entries = [e for e in read_journal(layout) if e.unit == name][-lines:] if lines else []
        if shown:
            out.write("\n")
        out.write(
            status_text(
                unit,
                _state_now(unit, layout),
                _main_pid(unit, layout),
                entries,
                host=socket.gethostname(),
                now=time.time(),
            )
        )
        shown += 1
        if _active(unit, layout) != "active":
            rc = max(rc, 3)
    return rc


def _is_enabled(names: Sequence[str], quiet: bool, out: TextIO, err: TextIO) -> int:
    for name in names:
        if name not in UNITS:
            err.write(f"Failed to get unit file state for {name}: No such file or directory\n")
            return 1
    for name in names:
        unit = UNITS[name]
        if unit.sysv:
            err.write(
                f"{name} is not a native service, redirecting to /sbin/chkconfig.\n"
                f"Executing /sbin/chkconfig {unit.identifier} --level=5\n"
            )
        if not quiet:
            out.write("enabled\n")
    return 0


# -- jobs -------------------------------------------------------------------------------


def run_job(unit: Unit, verb: str, layout: Layout) -> int:
    """Run the job in a child of its own session and wait for it: 0 done, 1 failed."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends in os._exit
        code = 1
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            # Nothing of the caller's: a lock it holds (the guard's restart.lock) must not
            # outlive the caller in a job that runs on.
            os.closerange(3, os.sysconf("SC_OPEN_MAX"))
            code = _job(unit, verb, layout)
        except BaseException as exc:  # the child reports, never raises
            _journal(layout, unit, "systemd", SYSTEMD_PID, f"{unit.name}: job failed: {exc}")
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return 0 if os.waitstatus_to_exitcode(status) == 0 else 1


def _job(unit: Unit, verb: str, layout: Layout) -> int:
    # One job at a time per unit, as systemd queues them.
    with _locked(layout, unit):
        active = _active(unit, layout) == "active"
        if verb == "stop":
            # systemd does not stop what is not running: a failed unit stays failed. A stop
            # job is done once the unit is down, even when its script failed (the unit is
            # then failed).
            if active:
                _stop(unit, layout)
            return 0
        if verb in ("restart", "try-restart", "condrestart"):
            if not active and verb != "restart":
                return 0
            if active:
                _stop(unit, layout)
        elif active:
            return 0
        return _start(unit, layout)


def _start(unit: Unit, layout: Layout) -> int:
    _journal(layout, unit, "systemd", SYSTEMD_PID, starting(unit))
    pid, status = _run_script(unit, "start", layout)
    now = time.time()
    if status == 0:
        # A daemon's status shows its Main PID, not the script that started it.
        process = None if unit.pidfile else Process(pid, "start", 0)
        _save_state(layout, unit, UnitState("active", now, process))
        _journal(layout, unit, "systemd", SYSTEMD_PID, started(unit))
        return 0
    _save_state(layout, unit, UnitState("failed", now, Process(pid, "start", status)))
    for line in failed_lines(unit, "start", status):
        _journal(layout, unit, "systemd", SYSTEMD_PID, line)
    return 1


def _stop(unit: Unit, layout: Layout) -> None:
    _journal(layout, unit, "systemd", SYSTEMD_PID, stopping(unit))
    pid, status = _run_script(unit, "stop", layout)
    now = time.time()
    process = Process(pid, "stop", status)
    if status == 0:
        _save_state(layout, unit, UnitState("inactive", now, process))
        _journal(layout, unit, "systemd", SYSTEMD_PID, stopped(unit))
        return
    _save_state(layout, unit, UnitState("failed", now, process))
    for line in failed_lines(unit, "stop", status):
        _journal(layout, unit, "systemd", SYSTEMD_PID, line)


def _run_script(unit: Unit, action: Literal["start", "stop"], layout: Layout) -> tuple[int, int]:
    """Run the unit's script; every line it prints goes to the journal. (pid, status)"""
    script = layout.path(unit.script)
    try:
        proc = subprocess.Popen(
            [str(script), action],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=SERVICE_ENV,
            cwd="/",
        )
    except OSError as exc:
        message = f"Failed at step EXEC spawning {unit.script}: {exc.strerror}"
        _journal(layout, unit, "systemd", SYSTEMD_PID, message)
        return 0, EXIT_EXEC
    assert proc.stdout is not None
    for line in _lines_until_exit(proc, proc.stdout.fileno()):
        _journal(layout, unit, unit.identifier, proc.pid, line)
    proc.stdout.close()
    return proc.pid, proc.wait()


def _lines_until_exit(proc: subprocess.Popen[bytes], fd: int) -> Iterator[str]:
    """Lines as they come, until the script has exited and said all it had to say.

    Not until end of file: a daemon the script starts may keep the pipe open.
    """
    os.set_blocking(fd, False)
    pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            if selector.select(timeout=0.2):
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    break
                pending += chunk
                *complete, pending = pending.split(b"\n")
                yield from (line.decode(errors="replace") for line in complete)
            elif proc.poll() is not None:
                break
    if pending:
        yield pending.decode(errors="replace")


# -- state and journal ------------------------------------------------------------------


@contextlib.contextmanager
def _locked(layout: Layout, unit: Unit) -> Iterator[None]:
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    with (layout.state_dir / f"{unit.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def load_state(layout: Layout, unit: Unit) -> UnitState:
    path = layout.state_dir / f"{unit.name}.json"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return UnitState()
    process = raw.get("process")
    return UnitState(
        active=raw["active"],
        since=raw.get("since"),
        process=Process(**process) if process else None,
    )


def _save_state(layout: Layout, unit: Unit, state: UnitState) -> None:
    path = layout.state_dir / f"{unit.name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(state)))
    os.replace(tmp, path)


def _state_now(unit: Unit, layout: Layout) -> UnitState:
    """The kept state, corrected by whether a daemon still lives."""
    state = load_state(layout, unit)
    active = _active(unit, layout)
    return state if active == state.active else dataclasses.replace(state, active=active)


def _active(unit: Unit, layout: Layout) -> Literal["active", "inactive", "failed"]:
    state = load_state(layout, unit)
    if unit.pidfile is None:
        return state.active
    if _main_pid(unit, layout) is not None:
        return "active"
    return "failed" if state.active == "failed" else "inactive"


def _main_pid(unit: Unit, layout: Layout) -> int | None:
    if unit.pidfile is None:
        return None
    try:
        pid = int(layout.path(unit.pidfile).read_text().strip())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    # A daemon killed but not yet reaped is gone for systemd too.
    return None if stat.rsplit(")", 1)[1].split()[0] == "Z" else pid


def _journal(layout: Layout, unit: Unit, identifier: str, pid: int, message: str) -> None:
    entry = JournalEntry(time.time(), unit.name, identifier, pid, message)
    layout.journal.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(dataclasses.asdict(entry)) + "\n"
    # One write of a whole line with O_APPEND: concurrent jobs never interleave within it.
    fd = os.open(layout.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_journal(layout: Layout) -> list[JournalEntry]:
    try:
        text = layout.journal.read_text()
    except FileNotFoundError:
        return []
    return [JournalEntry(**json.loads(line)) for line in text.splitlines() if line]


# -- journalctl -------------------------------------------------------------------------


def journalctl(args: Sequence[str], layout: Layout, out: TextIO) -> int:
    parser = argparse.ArgumentParser(prog="journalctl")
    parser.add_argument("-u", "--unit", action="append", default=[])
    parser.add_argument("-n", "--lines", nargs="?", const=10, type=int)
    parser.add_argument("-e", "--pager-end", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    for flag in (("-x", "--catalog"), ("-l", "--full"), ("-a", "--all"), ("--no-pager",)):
        parser.add_argument(*flag, action="store_true")
    parser.add_argument("-b", "--boot", nargs="?", const="0")
    options = parser.parse_args(args)
    entries = read_journal(layout)
    if options.unit:
        wanted = {unit_name(name) for name in options.unit}
        entries = [entry for entry in entries if entry.unit in wanted]
    lines = options.lines if options.lines is not None else (1000 if options.pager_end else None)
    if lines is not None:
        entries = entries[-lines:] if lines else []
    out.write(journal_text(entries, host=socket.gethostname(), header=not options.quiet))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], Layout.from_environ()))
