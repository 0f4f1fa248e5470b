"""hvbridge's tasks in a plain Nornir script: a context per host, Nornir's dry_run, data in
every Result, and the steps as Processor events. No network: network.render and tasks
of the test's own, which never connect."""

from __future__ import annotations

import pprint
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hvbridge.tasks import network
from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.task import Result, Task

from hvbridge import context
from hvbridge.events import Event
from hvbridge.hostrun import HostRun
from hvbridge.hosttask import read_only
from hvbridge.results import Rendered, Said
from hvbridge.stepevents import StepEvents

INVENTORY = Path(__file__).parent / "data" / "library"


def nornir(dry_run: bool = False, with_bad: bool = False) -> Nornir:
    """hv01 (el6) and hv02 (el7); `with_bad`: and a host whose data is invalid."""
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": 3}},
        inventory={"plugin": "SimpleInventory", "options": {
            "host_file": str(INVENTORY / "hosts.yaml"),
            "group_file": str(INVENTORY / "none.yaml"),
            "defaults_file": str(INVENTORY / "none.yaml"),
        }},
        logging={"enabled": False},
        dry_run=dry_run,
    )  # fmt: skip
    return nr if with_bad else nr.filter(filter_func=lambda host: host.name != "bad")


@pytest.fixture
def nr() -> Iterator[Nornir]:
    yield nornir()


@read_only
def look(task: Task, ctx: HostRun) -> Result:
    """What the host's context holds, for the test to read."""
    return Result(host=task.host, result=Said("looked"), ctx=ctx)  # type: ignore[call-arg]


def _ctx(result: Result) -> HostRun:
    ctx: HostRun = getattr(result, "ctx")  # noqa: B009 - Result keeps unknown keywords as attributes
    return ctx


def test_render_gives_each_host_its_own_files_as_data(nr: Nornir) -> None:
    results = nr.run(task=network.render)
    assert not results.failed
    hv01, hv02 = results["hv01"][0].result, results["hv02"][0].result
    assert isinstance(hv01, Rendered) and isinstance(hv02, Rendered)
    assert set(hv01.files) == {
        "/etc/sysconfig/network-scripts/ifcfg-br0", "/etc/sysconfig/network-scripts/ifcfg-eth0",
    }  # fmt: skip
    assert "/etc/sysconfig/network-scripts/ifcfg-ens3" in hv02.files
    assert "IPADDR=198.18.129.1\n" in hv01.files["/etc/sysconfig/network-scripts/ifcfg-br0"]
    assert "IPADDR=198.18.129.2\n" in hv02.files["/etc/sysconfig/network-scripts/ifcfg-br0"]
    assert str(hv01) == "rendered ifcfg-br0, ifcfg-eth0"


def test_each_host_keeps_its_own_context_across_runs(nr: Nornir) -> None:
    nr.run(task=network.render)
    first = nr.run(task=look)
    second = nr.run(task=look)
    hv01, hv02 = _ctx(first["hv01"][0]), _ctx(first["hv02"][0])
    assert hv01 is not hv02
    assert hv01.name == "hv01" and hv02.name == "hv02"
    assert hv01.rendered != hv02.rendered and hv01.rendered, "render's files stay per host"
    assert _ctx(second["hv01"][0]) is hv01
    assert hv01.platform.name == "el6" and hv02.platform.name == "el7"


def test_each_run_of_a_script_is_a_new_run_on_the_host(nr: Nornir) -> None:
    first = _ctx(nr.run(task=look)["hv01"][0])
    first.changes.network_files.append("ifcfg-br0")
    run_id = first.run_id
    again = _ctx(nr.run(task=look)["hv01"][0])
    assert again is first and again.run_id != run_id
    assert again.changes.network_files == []


def test_two_inventories_hosts_of_one_name_have_two_contexts() -> None:
    one = _ctx(nornir().run(task=look)["hv01"][0])
    two = _ctx(nornir().run(task=look)["hv01"][0])
    assert one is not two


def test_check_mode_is_nornirs_dry_run() -> None:
    assert _ctx(nornir(dry_run=True).run(task=look)["hv01"][0]).check is True
    assert _ctx(nornir(dry_run=False).run(task=look)["hv01"][0]).check is False
    # A task's own dry_run overrides the run's, as with Nornir's tasks.
    assert _ctx(nornir(dry_run=False).run(task=look, dry_run=True)["hv01"][0]).check is True
    assert _ctx(nornir(dry_run=True).run(task=look, dry_run=False)["hv01"][0]).check is False


def test_a_host_whose_data_is_invalid_fails_alone_saying_why() -> None:
    results = nornir(with_bad=True).run(task=network.render)
    assert not results["hv01"].failed and not results["hv02"].failed
    failed = results["bad"][0]
    assert failed.failed
    assert "hosts.yaml: host bad: nics.eth0.hwaddr: " in str(failed.exception)


def test_print_result_shows_the_sentences(nr: Nornir) -> None:
    """nornir_utils' print_result prints a str as it is and pprints anything else (the
    lab's Python API test runs print_result itself, in a script of its own)."""
    results = nr.run(task=network.render)
    data = results["hv02"][0].result
    assert pprint.pformat(data) == "rendered ifcfg-br0, ifcfg-ens3"
    assert str(data) == "rendered ifcfg-br0, ifcfg-ens3"


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def close(self) -> None:
        return None


def test_steps_are_events_to_a_processor(nr: Nornir) -> None:
    sink = Sink()
    nr.with_processors([StepEvents(sink)]).run(task=network.render)
    finished = sorted(
        (e["host"], e["step"], e["status"], e["message"])
        for e in sink.events
        if e["event"] == "step_finished"
    )
    assert finished == [
        ("hv01", "render", "ok", "rendered ifcfg-br0, ifcfg-eth0"),
        ("hv02", "render", "ok", "rendered ifcfg-br0, ifcfg-ens3"),
    ]
    started = sorted((e["host"], e["step"]) for e in sink.events if e["event"] == "step_started")
    assert started == [("hv01", "render"), ("hv02", "render")]


def test_a_processor_at_a_level_sees_only_the_subtasks(nr: Nornir) -> None:
    def both(task: Task) -> Result:
        task.run(task=network.render)
        task.run(task=look)
        return Result(host=task.host)

    sink = Sink()
    nr.with_processors([StepEvents(sink, level=1)]).run(task=both)
    steps = sorted((e["host"], e["step"]) for e in sink.events if e["event"] == "step_finished")
    assert steps == [("hv01", "look"), ("hv01", "render"), ("hv02", "look"), ("hv02", "render")]


def test_the_runner_attaches_its_own_context() -> None:
    nr = nornir()
    host = nr.inventory.hosts["hv01"]
    mine = HostRun(run_id="R1", model=context.model_of(host), check=True)
    context.attach(host, mine)
    try:
        seen = _ctx(nr.run(task=look)["hv01"][0])
        assert seen is mine and seen.run_id == "R1", "the runner's run id stays"
        assert seen.check is False, "check mode is still the task's"
    finally:
        context.detach(host)
    assert _ctx(nr.run(task=look)["hv01"][0]) is not mine
