"""How a run reads on a terminal: a line per host and step, diffs on request, in colour
on a terminal that wants it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

import click

from hvbridge.runner import STATUSES, RunOutcome

Echo = Callable[[str], None]

# click's colour names, as events.STATUS_STYLES gives rich's for the live display.
STATUS_COLOURS: dict[str, dict[str, Any]] = {
    "ok": {"fg": "green"},
    "changed": {"fg": "yellow"},
    "FAILED": {"fg": "red", "bold": True},
    "failed": {"fg": "red", "bold": True},
    "rolled back": {"fg": "magenta", "bold": True},
    "not run": {"dim": True},
    "interrupted": {"fg": "red", "bold": True},
}


def use_colour(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Colour only on a terminal, and not when NO_COLOR is set (https://no-color.org)
    or the terminal says it cannot show it."""
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def print_run(
    outcome: RunOutcome, echo: Echo, *, show_diff: bool, colour: bool | None = None
) -> None:
    if colour is None:
        colour = use_colour(sys.stdout)

    def paint(word: str, width: int = 0) -> str:
        padded = f"{word:<{width}}"
        style = STATUS_COLOURS.get(word)
        return click.style(padded, **style) if colour and style else padded

    mode = " (check mode: nothing changed on any host)" if outcome.check else ""
    echo(f"run {outcome.run_id}: {outcome.runbook} on {len(outcome.hosts)} host(s){mode}")
    width = max((len(s.name) for h in outcome.hosts.values() for s in h.steps), default=10)
    for host in sorted(outcome.hosts.values(), key=lambda h: h.name):
        header = f"== {host.name}: {paint(host.status)}"
        echo(click.style(header, bold=True) if colour else header)
        for note in host.notes:
            echo(f"   note: {note}")
        for step in host.steps:
            word = "FAILED" if step.failed else "changed" if step.changed else "ok"
            first, *rest = (step.message or "").splitlines() or [""]
            echo(f"   {step.name:<{width}}  {paint(word, 7)}  {first}")
            for line in rest:
                echo(f"   {'':<{width}}  {'':<7}  {line}")
            if show_diff and step.diff:
                echo(_diff("".join(f"      {line}\n" for line in step.diff.splitlines()), colour))
    counts = {s: sum(1 for h in outcome.hosts.values() if h.status == s) for s in STATUSES}
    summary = ", ".join(f"{n} {paint(s)}" for s, n in counts.items() if n)
    if outcome.stopped:
        echo(f"{_stopped(colour)}: {outcome.stopped}")
    echo(f"done in {outcome.seconds:.1f}s: {summary or 'no hosts'}; exit {outcome.exit_code}")


def _stopped(colour: bool) -> str:
    return click.style("STOPPED", fg="red", bold=True) if colour else "STOPPED"


def _diff(text: str, colour: bool) -> str:
    lines = text.rstrip("\n").split("\n")
    if not colour:
        return "\n".join(lines)
    painted = []
    for line in lines:
        body = line.lstrip()
        if body.startswith(("+++", "---")):
            painted.append(click.style(line, bold=True))
        elif body.startswith("+"):
            painted.append(click.style(line, fg="green"))
        elif body.startswith("-"):
            painted.append(click.style(line, fg="red"))
        elif body.startswith("@@"):
            painted.append(click.style(line, fg="cyan"))
        else:
            painted.append(line)
    return "\n".join(painted)


def print_nornir_results(results: Iterable[Any]) -> None:
    """nornir_utils' print_result, with its colours only where `use_colour` allows.

    nornir_utils runs `colorama.init(autoreset=True, strip=False)` when imported: every
    write then carries ANSI codes, into pipes and files too. Here colorama is set again
    for the printing alone (stripping the codes off a terminal) and undone after.
    """
    import colorama  # type: ignore[import-untyped]  # no stubs; nornir_utils depends on it
    from nornir_utils.plugins.functions import print_result

    colour = use_colour(sys.stdout)
    colorama.deinit()
    colorama.init(autoreset=colour, strip=not colour)
    try:
        for result in results:
            print_result(result)
    finally:
        colorama.deinit()
