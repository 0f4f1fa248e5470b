"""hvbridge.events: the live display's bookkeeping and lines, without a terminal."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console, Group

from hvbridge.events import (
    Flight,
    LiveProgress,
    event,
    flight_texts,
    plain_line,
    styled,
    terminal_console,
)

HOSTS = ["hv01", "hv02", "hv03"]


def started_batch() -> Flight:
    flight = Flight()
    flight.apply(event("batch_started", batch=1, batches=2, hosts=HOSTS))
    for host in HOSTS:
        flight.apply(event("step_started", host=host, step="restart network (guarded)"))
    return flight


def test_a_host_counts_as_done_when_it_ends_not_when_its_batch_does() -> None:
    flight = started_batch()
    assert (flight.done, flight.counts()) == (0, {"in flight": 3})
    flight.apply(event("step_finished", host="hv01", step="x", status="changed", seconds=1.0))
    flight.apply(event("host_done", host="hv01", failed=False))
    flight.apply(event("host_done", host="hv02", failed=True))
    assert flight.done == 2
    assert flight.counts() == {"changed": 1, "failed": 1, "in flight": 1}
    assert [host for host, _, _ in flight.lines(0)] == ["hv03"]
    # The runner's last word on a host wins over the guess from its steps.
    flight.apply(event("host_finished", host="hv02", status="rolled back"))
    assert flight.counts() == {"changed": 1, "rolled back": 1, "in flight": 1}


def test_hosts_not_started_yet_are_counted_apart_from_those_in_flight() -> None:
    flight = Flight()
    flight.apply(event("batch_started", batch=1, batches=1, hosts=HOSTS))
    flight.apply(event("step_started", host="hv02", step="push ifcfg files"))
    assert flight.counts() == {"in flight": 1, "to start": 2}


def test_a_wait_shows_what_and_the_seconds_left_until_it_is_cleared() -> None:
    flight = started_batch()
    flight.apply(event("waiting", host="hv03", what="revert", until=1015.4))
    assert flight.lines(1000.0)[2] == ("hv03", "restart network (guarded)", "revert (15 s left)")
    assert flight.lines(1100.0)[2][2] == "revert (0 s left)"
    flight.apply(event("waiting", host="hv03", what=None))
    assert flight.lines(1000.0)[2] == ("hv03", "restart network (guarded)", "")


def test_events_of_hosts_outside_the_batch_are_ignored() -> None:
    flight = started_batch()
    flight.apply(event("step_started", host="hv09", step="x"))
    flight.apply(event("batch_started", batch=2, batches=2, hosts=["hv04"]))
    assert (flight.lines(0), flight.counts()) == ([], {"to start": 1})


def test_flight_texts_put_waiting_hosts_first_and_fit_the_room() -> None:
    rows = [
        ("hv01", "verify bridges", ""),
        ("hv02", "restart network (guarded)", "revert (9 s left)"),
        ("hv03", "push ifcfg files", ""),
        ("hv04", "push ifcfg files", ""),
    ]
    assert flight_texts(rows, 10) == [
        "hv02 restart network (guarded): revert (9 s left)",
        "hv01 verify bridges",
        "hv03 push ifcfg files",
        "hv04 push ifcfg files",
    ]
    assert flight_texts(rows, 3) == [
        "hv02 restart network (guarded): revert (9 s left)",
        "hv01 verify bridges",
        "... and 2 more host(s) in flight",
    ]


def test_styled_lines_keep_brackets_as_written_and_colour_the_status() -> None:
    item = event("step_finished", host="hv01", step="verify bridges", status="failed",
                 seconds=0.25, message="br0 [eth0] [bold]missing[/bold]\nsecond line")  # fmt: skip
    text = styled(item)
    assert text is not None
    assert text.plain.endswith(
        " hv01 verify bridges: failed (0.2s): br0 [eth0] [bold]missing[/bold]"
    )
    (span,) = text.spans
    assert text.plain[span.start : span.end] == "failed" and "red" in str(span.style)
    assert text.plain == plain_line(item)


def test_live_lines_are_cut_at_the_width_with_no_location_column() -> None:
    out = io.StringIO()
    live = LiveProgress(Console(file=out, width=50, color_system=None))
    live.emit(event("batch_started", batch=1, batches=1, hosts=["hv01", "hv02"]))
    live.emit(event("step_started", host="hv01", step="push ifcfg files"))
    live.emit(event("step_started", host="hv02", step="restart network"))
    live.emit(event("waiting", host="hv02", what="[revert] at [bold]x", until=time.time() + 60))
    message = "wrote ifcfg-br0, ifcfg-eth0 " + "x" * 60 + " END"
    live.emit(event("step_finished", host="hv01", step="push ifcfg files", status="changed",
                    seconds=0.3, message=message))  # fmt: skip
    live.emit(event("host_done", host="hv01", failed=False))
    # What the live part shows now: hv01 is counted before its batch ends; hv02 waits.
    screen = io.StringIO()
    drawn = Group(*live._progress.get_renderables())  # as rich's Live draws it
    Console(file=screen, width=80, color_system=None).print(drawn)
    bar, waiting = screen.getvalue().splitlines()
    assert bar.startswith("batch 1/1") and " 1/2 " in bar and "1 changed, 1 in flight" in bar
    assert re.fullmatch(r"  hv02 restart network: \[revert\] at \[bold\]x \(\d\d s left\)", waiting)
    for host in ("hv01", "hv02"):
        live.emit(event("host_finished", host=host, status="changed"))
    live.emit(event("batch_finished", batch=1, batches=1, counts={"changed": 2}))
    live.close()
    lines = out.getvalue().splitlines()
    (step,) = [line for line in lines if "push ifcfg files: changed" in line]
    assert len(step) == 50 and step.endswith("…")
    assert not any("END" in line or "events.py" in line for line in lines)
    assert any(line.endswith(" batch 1/1 done: 2 changed") for line in lines)


def test_terminal_console_ignores_a_stale_columns_but_keeps_no_color() -> None:
    console = terminal_console(io.StringIO(), {"COLUMNS": "33", "LINES": "7", "NO_COLOR": "1"})
    # Off a terminal rich falls back to 80x25; with COLUMNS kept it would say 33x7.
    assert (console.size.width, console.size.height) == (80, 25)
    assert console.no_color


def test_plain_lines_stay_greppable() -> None:
    item = event("step_finished", host="hv01", step="push ifcfg files", status="changed",
                 seconds=0.31, message="wrote ifcfg-br0, ifcfg-eth0")  # fmt: skip
    line = plain_line(item)
    assert line is not None
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d hv01 push ifcfg files: changed \(0\.3s\): wrote ifcfg-br0, ifcfg-eth0",
        line,
    )
    wait = plain_line(event("waiting", host="hv01", what="revert at the deadline", until=0))
    assert wait is not None
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d hv01 waiting: revert at the deadline \(until \d\d:\d\d:\d\d\)", wait
    )
    assert plain_line(event("waiting", host="hv01", what=None)) is None
    assert plain_line(event("host_done", host="hv01", failed=False)) is None
