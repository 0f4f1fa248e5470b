"""EL7's explanation of a failed network restart: the init script's words from the failed
start only, read from the unit's journal (systemctl itself says only that the job failed).

The platform's shell runs here for real, with a `journalctl` on PATH that prints a journal
as systemd 219 writes it (the lab's wording, hvbridge.lab.units)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hvbridge import platforms
from hvbridge.lab.units import (
    NETWORK,
    JournalEntry,
    failed_lines,
    journal_text,
    started,
    starting,
    stopped,
    stopping,
)


def journal(*entries: tuple[str, int, str]) -> str:
    """`journalctl -q`: one line per (identifier, pid, message)."""
    return journal_text(
        [JournalEntry(1764619709.0, NETWORK.name, who, pid, said) for who, pid, said in entries],
        host="hv04",
        header=False,
    )


def explain(tmp_path: Path, text: str) -> str:
    (tmp_path / "journal").write_text(text)
    fake = tmp_path / "journalctl"
    fake.write_text(f"#!/bin/sh\ncat {tmp_path / 'journal'}\n")
    fake.chmod(0o755)
    diagnostics = platforms.get("el7").restart_diagnostics
    done = subprocess.run(
        ["sh", "-c", diagnostics], capture_output=True, text=True, check=True,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
    )  # fmt: skip
    return done.stdout


def test_only_the_failed_start_s_words_without_the_journal_s_prefix(tmp_path: Path) -> None:
    systemd = ("systemd", 1)
    text = journal(
        (*systemd, starting(NETWORK)),
        ("network", 14, "Bringing up loopback interface:  [  OK  ]"),
        ("network", 14, "Bringing up interface ens3:  [  OK  ]"),
        (*systemd, started(NETWORK)),
        (*systemd, stopping(NETWORK)),
        ("network", 206, "Shutting down interface ens3:  [  OK  ]"),
        (*systemd, stopped(NETWORK)),
        (*systemd, starting(NETWORK)),
        ("network", 209, "Bringing up loopback interface:  [  OK  ]"),
        ("network", 209, "Device eth1 does not seem to be present, delaying initialization."),
        *((*systemd, line) for line in failed_lines(NETWORK, "start", 1)),
    )
    assert explain(tmp_path, text) == (
        "Bringing up loopback interface:  [  OK  ]\n"
        "Device eth1 does not seem to be present, delaying initialization.\n"
    )


def test_a_start_that_said_nothing_explains_nothing(tmp_path: Path) -> None:
    """Not the earlier starts' "[  OK  ]" lines: they are not why this one failed."""
    systemd = ("systemd", 1)
    text = journal(
        (*systemd, starting(NETWORK)),
        ("network", 14, "Bringing up interface ens3:  [  OK  ]"),
        (*systemd, started(NETWORK)),
        (*systemd, starting(NETWORK)),
        *((*systemd, line) for line in failed_lines(NETWORK, "start", 1)),
    )
    assert explain(tmp_path, text) == ""
