"""hvbridge.output: the recap in colour only where colour is wanted; nornir_utils'
print_result without ANSI codes off a terminal."""

from __future__ import annotations

import io
import sys

import pytest
from nornir.core.inventory import Host
from nornir.core.task import AggregatedResult, MultiResult, Result

from hvbridge.output import print_nornir_results, print_run, use_colour
from hvbridge.runner import HostOutcome, RunOutcome, StepOutcome

ESC = "\x1b["


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_on_a_terminal_unless_no_color_or_a_dumb_terminal() -> None:
    assert use_colour(Tty(), {})
    assert not use_colour(io.StringIO(), {})
    assert not use_colour(Tty(), {"NO_COLOR": "1"})
    # no-color.org: set and not empty.
    assert use_colour(Tty(), {"NO_COLOR": ""})
    assert not use_colour(Tty(), {"TERM": "dumb"})


def outcome() -> RunOutcome:
    ok = HostOutcome("hv01", [StepOutcome("verify bridges", False, False, "br0 [eth0]", "")])
    changed = HostOutcome(
        "hv02",
        [StepOutcome("push ifcfg files", True, False, "wrote ifcfg-br0", "+BRIDGE=br0\n-X=1")],
        changed=True,
    )
    failed = HostOutcome(
        "hv03", [StepOutcome("verify bridges", False, True, "br0 has no port", "")], failed=True
    )
    hosts = {h.name: h for h in (ok, changed, failed)}
    return RunOutcome("R1", "bridge", False, hosts, 1.5, stopped="batch 1/2: too many failed")


def recap(colour: bool | None) -> list[str]:
    lines: list[str] = []
    print_run(outcome(), lines.append, show_diff=True, colour=colour)
    return "\n".join(lines).splitlines()


def test_the_recap_in_colour_marks_each_status() -> None:
    lines = recap(True)
    (hv02,) = [line for line in lines if line.startswith(f"{ESC}1m== hv02")]
    assert f"{ESC}33mchanged" in hv02
    (failed,) = [line for line in lines if "verify bridges" in line and "FAILED" in line]
    assert f"{ESC}31m{ESC}1mFAILED" in failed or f"{ESC}1m{ESC}31mFAILED" in failed
    assert any(line.endswith(f"{ESC}32m      +BRIDGE=br0{ESC}0m") for line in lines)
    assert any(line.startswith(f"{ESC}31m") and "STOPPED" in line for line in lines)


def test_the_recap_without_colour_has_no_codes_and_says_the_same() -> None:
    plain = recap(False)
    assert not any(ESC in line for line in plain)
    assert "== hv02: changed" in plain and "STOPPED: batch 1/2: too many failed" in plain
    assert any(line.startswith("   verify bridges    ok       br0 [eth0]") for line in plain)
    assert plain[-1] == "done in 1.5s: 1 ok, 1 changed, 1 failed; exit 22"


def test_the_recap_off_a_terminal_decides_by_itself(capsys: pytest.CaptureFixture[str]) -> None:
    assert not any(ESC in line for line in recap(None))


def results() -> AggregatedResult:
    host = Host("hv01")
    aggregated = AggregatedResult("bridge")
    multi = MultiResult("bridge")
    multi.append(Result(host=host, name="bridge"))
    multi.append(Result(host=host, name="push ifcfg files", changed=True, result="wrote"))
    aggregated["hv01"] = multi
    return aggregated


def test_nornir_output_off_a_terminal_has_no_ansi_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_nornir_results([results()])
    out = capsys.readouterr().out
    assert "* hv01 ** changed : True" in out and "---- push ifcfg files" in out
    assert ESC not in out
    # colorama's wrapper is gone again: later output is left alone.
    assert "colorama" not in type(sys.stdout).__module__
