"""Half-done runs on the lab, through the CLI: a killed controller's guard, files pushed
but never applied, a rollback after a domain file edit, MAC and gateway checks."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hvbridge.domainxml import interfaces
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.ssh import CommandResult

from .conftest import HostPlatform, LabFactory
from .rollout_support import PROJECT, cli, copy_inventory, edit_yaml
from .test_lab_hypervisors import brctl_ports, ipv4_of

SCRIPTS = "/etc/sysconfig/network-scripts"
RUNS = "/var/lib/hvbridge/runs"
BRIDGE = PROJECT / "runbooks" / "bridge.yaml"
NETWORK = PROJECT / "runbooks" / "bridge-network.yaml"
# Hosts' addresses are 198.18.129.N; nothing answers here.
DEAD_GATEWAY = "198.18.128.9"


def restart_once(does: str, *, before_stop: bool = False) -> str:
    """Shell: /etc/init.d/network wrapped so that, next time, it first `does` (shell) where
    the restart brings the network up: el6's `service network restart` runs it once
    (`restart`), el7's `systemctl restart network` twice (`stop`, then `start`).
    `before_stop`: before the restart takes the network down instead (el7: at `stop`).
    `unwrap()` puts the real one back."""
    actions = "restart|stop" if before_stop else "restart|start"
    wrapper = (
        f'#!/bin/sh\ncase "$1" in {actions}) if [ -e /tmp/restart-once ]; then'
        f' rm -f /tmp/restart-once; {does}; fi;; esac\nexec /etc/init.d/network.real "$@"\n'
    )
    return (
        "mv /etc/init.d/network /etc/init.d/network.real"
        f" && printf %b {shlex.quote(wrapper)} > /etc/init.d/network"
        " && chmod 755 /etc/init.d/network && touch /tmp/restart-once"
    )


def unwrap() -> str:
    return "rm -f /tmp/restart-once; mv /etc/init.d/network.real /etc/init.d/network"


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=6, direct=False, libvirt=True, profile="modern")


def on(lab: Lab, host: str, command: str) -> CommandResult:
    with lab.connect(host) as conn:
        return conn.run(command)


def runbook_copy(source: Path, target: Path, timeout: int, keep: set[str] | None = None) -> Path:
    """`source` with network.apply's timeout set; only the tasks in `keep`, if given."""
    steps = yaml.safe_load(source.read_text())
    steps = [step for step in steps if keep is None or step["task"] in keep]
    for step in steps:
        if step["task"] == "network.apply":
            step["args"] = {"timeout": timeout}
    target.write_text(yaml.safe_dump(steps, sort_keys=False))
    return target


def run_cli(tmp_path: Path, runbook: Path, inventory: Path, *args: str) -> Any:
    return cli(
        "run", str(runbook), "-i", str(inventory), "--state-dir", str(tmp_path / "state"),
        "--reports-dir", str(tmp_path / "reports"), *args,
    )  # fmt: skip


def _run_id(stdout: str) -> str:
    return next(
        line.split()[1].rstrip(":") for line in stdout.splitlines() if line.startswith("run ")
    )


def armed_guards(lab: Lab, host: str) -> list[str]:
    return on(lab, host, f"ls -d {RUNS}/*/armed 2>/dev/null").stdout.split()


def assert_bridged(lab: Lab, state: LabState, host: str, nic: str) -> None:
    """br0 over the NIC with the address, v1 on br0, no NAT network, no guard armed."""
    rec = state.hosts[host]
    with lab.connect(host) as conn:
        assert brctl_ports(conn.run("brctl show").stdout).get("br0") == [nic]
        assert ipv4_of(conn, "br0") == [f"{rec.address}/17"]
        assert ipv4_of(conn, nic) == []
        assert conn.run(f"test -e {SCRIPTS}/ifcfg-br0").ok
        v1 = [i for i in interfaces(conn.run("virsh dumpxml --inactive v1").stdout) if i.mac]
        assert [(i.type, i.source) for i in v1] == [("bridge", "br0")]
        assert "default" not in conn.run("virsh net-list --all").stdout
        assert conn.run("pgrep -f guard.sh").exit_status == 1, conn.run("ps -ef").stdout
    assert armed_guards(lab, host) == []


@pytest.mark.parametrize(
    ("host", "break_lock"), [("hv01", True), ("hv02", False)], ids=["break-lock", "stale-lock"]
)
def test_a_killed_controllers_guard_is_resolved_by_the_rerun(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform, host: str, break_lock: bool
) -> None:
    """SIGKILL in the guarded restart; the rerun (with --break-lock, or taking the lock of
    the gone process by itself) fires the old guard first, then applies from the restored
    state; past the old deadline, nothing changes."""
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    runbook = runbook_copy(BRIDGE, tmp_path / "bridge.yaml", timeout=20)
    argv = [
        sys.executable, "-m", "hvbridge.cli", "--project", str(PROJECT), "run", str(runbook),
        "-i", str(inventory), "--limit", host, "--state-dir", str(tmp_path / "state"),
        "--reports-dir", str(tmp_path / "reports"),
    ]  # fmt: skip
    # The restart sleeps first (once): the run stays in the guarded restart for a while,
    # the host still up.
    assert on(the_lab, host, restart_once("sleep 8", before_stop=True)).ok
    try:
        _kill_in_the_guarded_restart_and_rerun(
            the_lab, state, tmp_path, host, break_lock, argv, platform.nic
        )
    finally:
        on(the_lab, host, unwrap())


def _kill_in_the_guarded_restart_and_rerun(
    the_lab: Lab,
    state: LabState,
    tmp_path: Path,
    host: str,
    break_lock: bool,
    argv: list[str],
    nic: str,
) -> None:
    inventory, runbook = tmp_path / "inventory", tmp_path / "bridge.yaml"
    with (tmp_path / "killed.out").open("w") as out:
        controller = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        with the_lab.connect(host) as conn:
            give_up = time.monotonic() + 180
            while not conn.run(f"ls -d {RUNS}/*/armed 2>/dev/null").stdout:
                assert controller.poll() is None, (tmp_path / "killed.out").read_text()
                assert time.monotonic() < give_up, "the guard was never armed"
                time.sleep(0.1)
    finally:
        controller.send_signal(signal.SIGKILL)
        controller.wait()
    (armed,) = armed_guards(the_lab, host)
    old_run = armed.split("/")[-2]
    # The guard sleeps 20 s from its arming: its deadline, by the host's clock.
    deadline = int(on(the_lab, host, f"stat -c %Y {shlex.quote(armed)}").stdout) + 20

    rerun = run_cli(
        tmp_path, runbook, inventory, "--limit", host, *(["--break-lock"] if break_lock else [])
    )
    assert rerun.returncode == 2, rerun.stdout + rerun.stderr
    assert f"== {host}: changed" in rerun.stdout
    took = "broke" if break_lock else "took over"
    assert f"note: {took} the lock of run {old_run}" in rerun.stdout
    assert (
        f"note: run {old_run} is gone and left its guard armed: fired it now; the host was"
        f" reverted by run {old_run} to its state before that run" in rerun.stdout
    ), rerun.stdout
    # The report says it too (the killed run wrote none).
    (report,) = (tmp_path / "reports").glob(f"*/hosts/{host}.json")
    notes = json.loads(report.read_text())["notes"]
    assert any(f"the host was reverted by run {old_run}" in note for note in notes), notes
    # Re-applied from the restored state: the files written again and the network restarted.
    assert f"wrote ifcfg-br0, ifcfg-{nic}" in rerun.stdout
    assert "network restarted and verified" in rerun.stdout
    assert on(the_lab, host, f"cat {RUNS}/{old_run}/revert.log").stdout.count("restored") == 1
    assert_bridged(the_lab, state, host, nic)

    now = int(on(the_lab, host, "date +%s").stdout)
    time.sleep(max(0, deadline - now) + 5)
    assert_bridged(the_lab, state, host, nic)


def test_files_pushed_but_never_applied_converge_on_a_plain_rerun(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    """A run that stopped between push and apply left the new files on the old network;
    the next run restarts because the host does not run its files, and says so."""
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    pushed_only = runbook_copy(
        NETWORK, tmp_path / "push.yaml", 20, keep={"network.render", "network.push"}
    )
    first = run_cli(tmp_path, pushed_only, inventory, "--limit", "hv03")
    assert first.returncode == 2, first.stdout + first.stderr
    with the_lab.connect("hv03") as conn:
        assert "BRIDGE=br0" in conn.run(f"cat {platform.ifcfg()}").stdout
        assert ipv4_of(conn, platform.nic) == [f"{state.hosts['hv03'].address}/17"]

    network = runbook_copy(NETWORK, tmp_path / "net.yaml", 20)
    checked = run_cli(tmp_path, network, inventory, "--limit", "hv03", "--check")
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert (
        "check mode: would restart the network (guarded, 20s): the host does not run its"
        " network files: br0: bridge is missing" in checked.stdout
    ), checked.stdout
    # A push killed before its rename leaves its temp file: the next run removes it.
    leftover = f"{SCRIPTS}/.ifcfg-{platform.nic}.hvbridge-tmp"
    assert on(the_lab, "hv03", f"echo DEVICE={platform.nic} > {leftover}").ok

    rerun = run_cli(tmp_path, network, inventory, "--limit", "hv03")
    assert rerun.returncode == 2, rerun.stdout + rerun.stderr
    assert (
        f"all files already as rendered; removed .ifcfg-{platform.nic}.hvbridge-tmp (left by a"
        " push that was interrupted)" in rerun.stdout
    ), rerun.stdout
    assert not on(the_lab, "hv03", f"test -e {leftover}").ok
    # The live display's wait: said with its deadline, then cleared.
    (log,) = (tmp_path / "state" / "runs").glob(f"{_run_id(rerun.stdout)}/events.jsonl")
    waits = [e for e in map(json.loads, log.read_text().splitlines()) if e["event"] == "waiting"]
    assert [(e["host"], e["what"]) for e in waits] == [
        ("hv03", "revert unless confirmed"), ("hv03", None),
    ]  # fmt: skip
    assert waits[0]["until"] > waits[0]["ts"]
    assert "restarted because the host does not run its network files: br0: bridge is missing" in (
        rerun.stdout
    )
    with the_lab.connect("hv03") as conn:
        assert brctl_ports(conn.run("brctl show").stdout).get("br0") == [platform.nic]
        assert ipv4_of(conn, "br0") == [f"{state.hosts['hv03'].address}/17"]
    again = run_cli(tmp_path, tmp_path / "net.yaml", inventory, "--limit", "hv03")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "no network file changed: not restarted" in again.stdout


def test_a_guard_still_reverting_is_waited_for_and_reported(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    """Another run's guard caught firing: the run waits until it has reverted (here: until
    the test, seeing the wait in the event log, ends the fake revert), says so, and only
    then goes on."""
    the_lab, _ = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    runbook = runbook_copy(NETWORK, tmp_path / "net.yaml", 20)
    other = f"{RUNS}/20200101T000000-f1r1n6"
    assert on(the_lab, "hv03", f"mkdir -p {other} && touch {other}/firing").ok
    argv = [
        sys.executable, "-m", "hvbridge.cli", "--project", str(PROJECT), "run", str(runbook),
        "-i", str(inventory), "--limit", "hv03", "--state-dir", str(tmp_path / "state"),
        "--reports-dir", str(tmp_path / "reports"),
    ]  # fmt: skip
    controller = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        give_up = time.monotonic() + 120
        waiting = {"event": "waiting", "host": "hv03", "what": "revert by run"
                   " 20200101T000000-f1r1n6's guard"}  # fmt: skip
        while not any(
            waiting.items() <= json.loads(line).items()
            for log in (tmp_path / "state").glob("runs/*/events.jsonl")
            for line in log.read_text().splitlines()
        ):
            assert controller.poll() is None, "the run ended without waiting"
            assert time.monotonic() < give_up, "the run never waited for the revert"
            time.sleep(0.2)
        assert on(the_lab, "hv03", f"touch {other}/reverted").ok
        stdout, _ = controller.communicate(timeout=300)
    finally:
        controller.kill()
    assert (
        "note: run 20200101T000000-f1r1n6's guard was reverting this host: waited for it; the"
        " host was reverted by run 20200101T000000-f1r1n6 to its state before that run"
    ) in stdout, stdout


def test_a_rollback_after_a_domain_file_edit_restores_each_file_where_it_was(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    """edit_mode: file edits /etc/libvirt/qemu/v1.xml before the restart fails: the revert
    puts v1.xml back in its place, and network-scripts holds only what it held."""
    the_lab, _ = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def file_mode(hosts: dict[str, Any]) -> None:
        hosts["hv04"]["data"]["libvirt"] = {"edit_mode": "file"}

    edit_yaml(inventory / "hosts.yaml", file_mode)
    steps = yaml.safe_load(BRIDGE.read_text())
    apply = next(i for i, s in enumerate(steps) if s["task"] == "network.apply")
    edit = next(s for s in steps if s["task"] == "libvirt.edit_domains")
    steps.remove(edit)
    steps.insert(apply, edit)
    steps[apply + 1]["args"] = {"timeout": 20}
    runbook = tmp_path / "domain-first.yaml"
    runbook.write_text(yaml.safe_dump(steps, sort_keys=False))
    with the_lab.connect("hv04") as conn:
        scripts_before = conn.run(f"ls -A {SCRIPTS}").stdout
        domain_before = conn.run("cat /etc/libvirt/qemu/v1.xml").stdout
        assert conn.run(restart_once("echo injected restart failure; exit 3")).ok
    try:
        done = run_cli(tmp_path, runbook, inventory, "--limit", "hv04")
    finally:
        on(the_lab, "hv04", unwrap())
    assert done.returncode & 8, done.stdout + done.stderr
    assert "== hv04: rolled back" in done.stdout
    assert platform.restart_failed(3, "injected restart failure") in done.stdout, done.stdout
    with the_lab.connect("hv04") as conn:
        assert conn.run(f"ls -A {SCRIPTS}").stdout == scripts_before
        assert conn.run("cat /etc/libvirt/qemu/v1.xml").stdout == domain_before


def test_a_host_that_reverted_by_itself_reports_the_restarts_own_failure(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    """The failed restart also cut the host off: the controller never got back before the
    deadline, the host reverted by itself, and the reason is the restart's status and log
    as kept on the host, not a connection error."""
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    runbook = runbook_copy(NETWORK, tmp_path / "net.yaml", 15)
    cut_off = f"ip addr flush dev {platform.nic}; echo address flushed; exit 4"
    assert on(the_lab, "hv06", restart_once(cut_off)).ok
    try:
        done = run_cli(tmp_path, runbook, inventory, "--limit", "hv06")
    finally:
        on(the_lab, "hv06", unwrap())
    assert done.returncode & 8, done.stdout + done.stderr
    assert platform.restart_failed(4, "address flushed") in done.stdout, done.stdout
    with the_lab.connect("hv06") as conn:
        assert ipv4_of(conn, platform.nic) == [f"{state.hosts['hv06'].address}/17"]


def test_a_nic_whose_mac_is_not_the_inventorys_is_refused_before_any_change(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    edit_yaml(
        inventory / "hosts.yaml",
        lambda hosts: hosts["hv05"]["data"]["nics"][platform.nic].update(
            hwaddr="02:48:56:00:00:99"
        ),
    )
    real = state.hosts["hv05"].mac.lower()
    said = (
        f"hv05: NIC {platform.nic} has MAC {real}, the inventory's hwaddr is 02:48:56:00:00:99:"
        " refusing to change the host"
    )
    files = f"ls -A {SCRIPTS}; cat {platform.ifcfg()}"
    before = on(the_lab, "hv05", files).stdout
    for check in (["--check"], []):
        done = run_cli(tmp_path, NETWORK, inventory, "--limit", "hv05", *check)
        assert done.returncode & 4, done.stdout + done.stderr
        assert said in done.stdout, done.stdout
        assert "wrote" not in done.stdout and "would write" not in done.stdout
        assert on(the_lab, "hv05", files).stdout == before


def test_a_dead_planned_gateway_fails_and_reverts_unless_not_verified(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    """The old gateway answered before: the planned one must answer after. With
    verify_gateway: false it passes, and the step's message warns."""
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    edit_yaml(
        inventory / "hosts.yaml",
        lambda hosts: hosts["hv05"]["data"]["bridges"]["br0"].update(gateway=DEAD_GATEWAY),
    )
    # Longer than elsewhere: the silent gateway's pings take 4 s of it after the restart.
    runbook = runbook_copy(NETWORK, tmp_path / "net.yaml", 30)
    done = run_cli(tmp_path, runbook, inventory, "--limit", "hv05")
    assert done.returncode & 8, done.stdout + done.stderr
    assert "== hv05: rolled back" in done.stdout
    assert (
        f"rolled back: the planned default gateway {DEAD_GATEWAY} (br0) does not answer ping,"
        " and the old default gateway 198.18.128.1 answered before the change; reverted:"
        " addresses and default route are as before" in done.stdout
    ), done.stdout
    with the_lab.connect("hv05") as conn:
        assert ipv4_of(conn, platform.nic) == [f"{state.hosts['hv05'].address}/17"]
        assert not conn.run(f"test -e {SCRIPTS}/ifcfg-br0").ok

    edit_yaml(
        inventory / "hosts.yaml",
        lambda hosts: hosts["hv05"]["data"]["bridges"]["br0"].update(verify_gateway=False),
    )
    done = run_cli(tmp_path, runbook, inventory, "--limit", "hv05")
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"warning: gateway {DEAD_GATEWAY} does not answer ping after the restart (not checked:"
        " verify_gateway is false for br0)" in done.stdout
    ), done.stdout
    with the_lab.connect("hv05") as conn:
        assert ipv4_of(conn, "br0") == [f"{state.hosts['hv05'].address}/17"]
