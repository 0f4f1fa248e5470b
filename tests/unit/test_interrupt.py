"""SIGINT and SIGTERM: the first asks the run to stop, a second exits at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from hvbridge.interrupt import Interrupt

TWICE = """
import os, signal, time
from hvbridge.interrupt import Interrupt

stop = Interrupt()
stop.locked_hosts = lambda: ["hv02", "hv01"]
with stop.handling():
    os.kill(os.getpid(), signal.SIGINT)
    print("asked", stop.requested, stop.exit_code, flush=True)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
print("not reached")
"""


def test_the_first_signal_asks_and_the_handlers_are_put_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    stop = Interrupt()
    with stop.handling():
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested
        assert (stop.name, stop.exit_code) == ("SIGTERM", 143)
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_second_sigint_exits_130_at_once_naming_the_hosts_that_may_hold_locks() -> None:
    done = subprocess.run([sys.executable, "-c", TWICE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130
    assert done.stdout == "asked True 130\n"
    assert "SIGINT: no new step starts; steps under way finish" in done.stderr
    assert (
        "SIGINT again: exiting now; these hosts may still hold a hvbridge lock (the next run"
        " sees it stale, or use --break-lock): hv01, hv02"
    ) in done.stderr
