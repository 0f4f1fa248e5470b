"""What a run says while it runs: every event to a JSON-lines log, and to the terminal
as live progress (a TTY) or as one plain line per event (anything else).

Events come from Nornir's worker threads; every sink serialises them itself.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column
from rich.text import Text

Event = dict[str, Any]

# The style of each host or step status on a terminal (rich's style names).
STATUS_STYLES = {
    "ok": "green",
    "changed": "yellow",
    "failed": "bold red",
    "rolled back": "bold magenta",
    "not run": "dim",
    "interrupted": "bold red",
}


class Sink(Protocol):
    def emit(self, event: Event) -> None: ...

    def close(self) -> None: ...


def event(kind: str, **fields: Any) -> Event:
    return {"ts": round(time.time(), 3), "event": kind, **fields}


class JsonLines:
    """The run's event log: one JSON object per line, flushed as it happens."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a")
        self._lock = threading.Lock()

    def emit(self, item: Event) -> None:
        with self._lock:
            self._file.write(json.dumps(item, sort_keys=True) + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def describe(item: Event) -> tuple[str, str | None, str] | None:
    """What an event says, without its time, as (text before the status, the status
    or None, text after it); None for an event that says nothing on its own."""
    kind = item["event"]
    if kind == "run_started":
        return (
            f"run {item['run_id']}: {item['runbook']} on {item['hosts']} host(s),"
            f" {item['batches']} batch(es)",
            None,
            "",
        )
    if kind == "batch_started":
        return f"batch {item['batch']}/{item['batches']}: {' '.join(item['hosts'])}", None, ""
    if kind == "step_finished":
        first = (item.get("message") or "").splitlines()[:1]
        detail = f": {first[0]}" if first else ""
        return (
            f"{item['host']} {item['step']}: ",
            str(item["status"]),
            f" ({item['seconds']:.1f}s){detail}",
        )
    if kind == "waiting" and item.get("what") is not None:
        until = item.get("until")
        deadline = f" (until {_stamp({'ts': until})})" if until is not None else ""
        return f"{item['host']} waiting: {item['what']}{deadline}", None, ""
    if kind == "host_finished":
        reason = item.get("reason")
        return f"{item['host']}: ", str(item["status"]), f": {reason}" if reason else ""
    if kind == "batch_finished":
        return f"batch {item['batch']}/{item['batches']} done: {_counts(item['counts'])}", None, ""
    if kind == "run_stopped":
        return "", "STOPPED", f": {item['reason']}"
    if kind == "run_finished":
        counts = _counts(item["counts"])
        return f"run {item['run_id']} finished: {counts}; exit {item['exit_code']}", None, ""
    return None


def plain_line(item: Event) -> str | None:
    """One line per event, greppable: time, then what happened."""
    said = describe(item)
    if said is None:
        return None
    before, status, after = said
    return f"{_stamp(item)} {before}{status or ''}{after}"


def _stamp(item: Event) -> str:
    return time.strftime("%H:%M:%S", time.localtime(item["ts"]))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no hosts"


class PlainLines:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, item: Event) -> None:
        line = plain_line(item)
        if line is None:
            return
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        return None


@dataclass
class Wait:
    what: str
    until: float | None


@dataclass
class Flight:
    """The hosts of the running batch: which step each is in, what it waits for, and
    how each that ended did. Pure bookkeeping from events, for the live display."""

    batch: int = 0
    batches: int = 0
    hosts: list[str] = field(default_factory=list)
    steps: dict[str, str] = field(default_factory=dict)
    waits: dict[str, Wait] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    # A host's status as soon as it ended; the runner's `host_finished` has the last word.
    ended: dict[str, str] = field(default_factory=dict)

    def apply(self, item: Event) -> None:
        kind, host = item["event"], item.get("host")
        if kind == "batch_started":
            self.batch, self.batches = item["batch"], item["batches"]
            self.hosts = list(item["hosts"])
            self.steps.clear()
            self.waits.clear()
            self.changed.clear()
            self.failed.clear()
            self.ended.clear()
        elif host is None or host not in self.hosts:
            return
        elif kind == "step_started" and host not in self.ended:
            self.steps[host] = item["step"]
        elif kind == "step_finished":
            if item["status"] == "failed":
                self.failed.add(host)
            elif item["status"] == "changed":
                self.changed.add(host)
        elif kind == "waiting":
            if item.get("what") is None:
                self.waits.pop(host, None)
            else:
                self.waits[host] = Wait(str(item["what"]), item.get("until"))
        elif kind == "host_done":
            if item.get("failed"):
                self.failed.add(host)
            self._end(host, self._guess(host))
        elif kind == "host_finished":
            self._end(host, item["status"])

    def _guess(self, host: str) -> str:
        if host in self.failed:
            return "failed"
        return "changed" if host in self.changed else "ok"

    def _end(self, host: str, status: str) -> None:
        self.ended[host] = status
        self.steps.pop(host, None)
        self.waits.pop(host, None)

    @property
    def done(self) -> int:
        return len(self.ended)

    def counts(self) -> dict[str, int]:
        """Hosts per status, then those working on a step and those not started yet
        (queued for a worker, or connecting)."""
        counts: dict[str, int] = {}
        for status in self.ended.values():
            counts[status] = counts.get(status, 0) + 1
        counts["in flight"] = len(self.steps)
        counts["to start"] = len(self.hosts) - len(self.ended) - len(self.steps)
        return {name: n for name, n in counts.items() if n}

    def lines(self, now: float) -> list[tuple[str, str, str]]:
        """Per host in flight: (host, step, what it waits for and for how long, or "")."""
        rows = []
        for host in sorted(self.steps):
            wait = self.waits.get(host)
            waiting = ""
            if wait is not None:
                waiting = wait.what
                if wait.until is not None:
                    waiting += f" ({max(0, round(wait.until - now))} s left)"
            rows.append((host, self.steps[host], waiting))
        return rows


def flight_texts(rows: list[tuple[str, str, str]], room: int) -> list[str]:
    """The in-flight lines, at most `room` of them: the hosts that wait for something
    first, as they are the ones an operator watches; the rest summed up on the last."""
    ordered = [r for r in rows if r[2]] + [r for r in rows if not r[2]]
    texts = [f"{host} {step}: {waiting}" if waiting else f"{host} {step}"
             for host, step, waiting in ordered]  # fmt: skip
    room = max(room, 1)
    if len(texts) > room:
        hidden = len(texts) - room + 1
        texts = [*texts[: room - 1], f"... and {hidden} more host(s) in flight"]
    return texts


def styled(item: Event) -> Text | None:
    """An event as a line of rich Text: never parsed as markup (`br0 [eth0]` stays as
    it is), the status in its colour."""
    said = describe(item)
    if said is None:
        return None
    before, status, after = said
    text = Text(f"{_stamp(item)} {before}")
    if status:
        text.append(status, style=STATUS_STYLES.get(status, "bold red"))
    text.append(after)
    return text


class LiveProgress:
    """The running batch's bar, which moves as each host ends, with its hosts' counts;
    under it a line per host in flight (its step, what it waits for); events printed
    above it. Every line is cut to the terminal's width, never wrapped."""

    # Lines of the terminal kept for the bar and the lines printed above it.
    RESERVED_LINES = 6

    def __init__(self, console: Console) -> None:
        self._console = console
        self._lock = threading.Lock()
        self._flight = Flight()
        self._batch_task: TaskID | None = None

        def cut() -> Column:
            return Column(no_wrap=True, overflow="ellipsis")

        self._progress = FlightProgress(
            self._in_flight,
            TextColumn("{task.description}", table_column=cut()),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}", table_column=cut()),
            TextColumn("{task.fields[counts]}", table_column=cut()),
            TimeElapsedColumn(),
            console=console,
            refresh_per_second=4,
        )
        self._progress.start()

    def emit(self, item: Event) -> None:
        # rich takes its own lock to draw, and draws the in-flight lines under ours: ours
        # is never held while calling rich, or the two could wait on each other.
        kind = item["event"]
        with self._lock:
            self._flight.apply(item)
            done, counts = self._flight.done, self._describe()
        if kind == "batch_started":
            self._batch_task = self._progress.add_task(
                f"batch {item['batch']}/{item['batches']}", total=len(item["hosts"]), counts=counts
            )
        elif self._batch_task is not None:
            # A batch that ended leaves a line above, not a bar: with `--serial 1` on
            # a fleet, bars would fill the screen.
            ended = kind == "batch_finished"
            self._progress.update(
                self._batch_task, completed=done, counts=counts, visible=not ended
            )
        if kind in {"step_finished", "batch_finished", "run_stopped", "run_started"}:
            text = styled(item)
            if text is not None:
                self._console.print(
                    text, no_wrap=True, overflow="ellipsis", crop=True, highlight=False
                )

    def _describe(self) -> str:
        return _counts(self._flight.counts())

    def _in_flight(self) -> Iterable[RenderableType]:
        with self._lock:
            rows = self._flight.lines(time.time())
        room = self._console.size.height - self.RESERVED_LINES
        for line in flight_texts(rows, room) if rows else []:
            yield Text("  " + line, no_wrap=True, overflow="ellipsis", style="cyan")

    def close(self) -> None:
        with self._lock:
            self._flight.steps.clear()
        self._progress.stop()


class FlightProgress(Progress):
    """rich's Progress with more lines under its bars (rich's documented way to add to
    the display: override get_renderables)."""

    def __init__(
        self, extra: Callable[[], Iterable[RenderableType]], *columns: Any, **options: Any
    ) -> None:
        self._extra = extra  # before rich's __init__, which draws once
        super().__init__(*columns, **options)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield from super().get_renderables()
        yield from self._extra()


class Fanout:
    def __init__(self, *sinks: Sink) -> None:
        self.sinks = list(sinks)

    def emit(self, item: Event) -> None:
        for sink in self.sinks:
            sink.emit(item)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


def console_sink(stream: TextIO, is_tty: Callable[[], bool]) -> Sink:
    if is_tty():
        return LiveProgress(terminal_console(stream))
    return PlainLines(stream)


def terminal_console(stream: TextIO, environ: Mapping[str, str] = os.environ) -> Console:
    """A rich Console as wide and high as the terminal is now, each time it draws.

    rich prefers COLUMNS and LINES from the environment to the terminal's own size;
    exported once, they go stale when the window is resized (or come from whatever
    started the shell), and the display would wrap or cut at 80 in a wider terminal.
    NO_COLOR and the rest of the environment still apply."""
    kept = {name: value for name, value in environ.items() if name not in {"COLUMNS", "LINES"}}
    return Console(file=stream, _environ=kept)
