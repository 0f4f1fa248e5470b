"""How a run reads on a terminal: a line per host and step, diffs on request."""

from __future__ import annotations

from collections.abc import Callable

from hvbridge.runner import STATUSES, RunOutcome

Echo = Callable[[str], None]


def print_run(outcome: RunOutcome, echo: Echo, *, show_diff: bool) -> None:
    mode = " (check mode: nothing changed on any host)" if outcome.check else ""
    echo(f"run {outcome.run_id}: {outcome.runbook} on {len(outcome.hosts)} host(s){mode}")
    width = max((len(s.name) for h in outcome.hosts.values() for s in h.steps), default=10)
    for host in sorted(outcome.hosts.values(), key=lambda h: h.name):
        echo(f"== {host.name}: {host.status}")
        for note in host.notes:
            echo(f"   note: {note}")
        for step in host.steps:
            word = "FAILED" if step.failed else "changed" if step.changed else "ok"
            first, *rest = (step.message or "").splitlines() or [""]
            echo(f"   {step.name:<{width}}  {word:<7}  {first}")
            for line in rest:
                echo(f"   {'':<{width}}  {'':<7}  {line}")
            if show_diff and step.diff:
                echo("".join(f"      {line}\n" for line in step.diff.splitlines()).rstrip("\n"))
    counts = {s: sum(1 for h in outcome.hosts.values() if h.status == s) for s in STATUSES}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if outcome.stopped:
        echo(f"STOPPED: {outcome.stopped}")
    echo(f"done in {outcome.seconds:.1f}s: {summary or 'no hosts'}; exit {outcome.exit_code}")
