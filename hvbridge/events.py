"""What a run says while it runs: every event to a JSON-lines log, and to the terminal
as live progress (a TTY) or as one plain line per event (anything else).

Events come from Nornir's worker threads; every sink serialises them itself.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

Event = dict[str, Any]


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


def plain_line(item: Event) -> str | None:
    """One line per event, greppable: time, then what happened."""
    stamp = time.strftime("%H:%M:%S", time.localtime(item["ts"]))
    kind = item["event"]
    text: str | None
    if kind == "run_started":
        text = (
            f"run {item['run_id']}: {item['runbook']} on {item['hosts']} host(s),"
            f" {item['batches']} batch(es)"
        )
    elif kind == "batch_started":
        text = f"batch {item['batch']}/{item['batches']}: {' '.join(item['hosts'])}"
    elif kind == "step_finished":
        first = (item.get("message") or "").splitlines()[:1]
        detail = f": {first[0]}" if first else ""
        text = f"{item['host']} {item['step']}: {item['status']} ({item['seconds']:.1f}s){detail}"
    elif kind == "host_finished":
        reason = item.get("reason")
        text = f"{item['host']}: {item['status']}" + (f": {reason}" if reason else "")
    elif kind == "batch_finished":
        text = f"batch {item['batch']}/{item['batches']} done: {_counts(item['counts'])}"
    elif kind == "run_stopped":
        text = f"STOPPED: {item['reason']}"
    elif kind == "run_finished":
        text = f"run {item['run_id']} finished: {_counts(item['counts'])}; exit {item['exit_code']}"
    else:
        text = None
    return f"{stamp} {text}" if text else None


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


class LiveProgress:
    """A bar per batch with done/changed/failed/running counts; events logged above it."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._lock = threading.Lock()
        self._batch: TaskID | None = None
        self._counts: dict[str, int] = {}
        self._progress.start()

    def emit(self, item: Event) -> None:
        with self._lock:
            kind = item["event"]
            if kind == "batch_started":
                self._counts = {"running": len(item["hosts"])}
                self._batch = self._progress.add_task(
                    f"batch {item['batch']}/{item['batches']}",
                    total=len(item["hosts"]),
                    counts=self._describe(),
                )
            elif kind == "host_finished" and self._batch is not None:
                self._counts["running"] -= 1
                self._counts[item["status"]] = self._counts.get(item["status"], 0) + 1
                self._progress.update(self._batch, advance=1, counts=self._describe())
            line = plain_line(item)
            if line and kind in {"step_finished", "run_stopped", "run_started"}:
                self._progress.console.log(line.split(" ", 1)[1], highlight=False)

    def _describe(self) -> str:
        return ", ".join(f"{n} {k}" for k, n in self._counts.items() if n)

    def close(self) -> None:
        self._progress.stop()


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
        return LiveProgress(Console(file=stream))
    return PlainLines(stream)
