"""The network half of the seed on three hypervisors behind the jump host."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from hvbridge import guard, remote
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.platforms.ifcfg import parse_ifcfg
from hvbridge.remote import run_dir
from hvbridge.runbook import load_tasks_module
from hvbridge.runner import EXIT_CHANGED, EXIT_ROLLED_BACK

from .conftest import HostPlatform, LabFactory
from .rollout_support import (
    PROJECT,
    RUNBOOK,
    accepted_logins,
    cli,
    copy_inventory,
    edit_yaml,
    rollout,
    runbook_with_timeout,
)
from .test_lab_hypervisors import brctl_ports, ipv4_of

SCRIPTS = "/etc/sysconfig/network-scripts"


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=3, direct=False, libvirt=True, profile="modern")


def remote_ifcfg(lab: Lab, host: str, name: str) -> dict[str, str] | None:
    with lab.connect(host) as conn:
        result = conn.run(f"cat {SCRIPTS}/{name}")
    return parse_ifcfg(result.stdout, name) if result.ok else None


def test_check_mode_shows_diffs_and_changes_nothing(
    lab: tuple[Lab, LabState], platform: HostPlatform
) -> None:
    the_lab, _ = lab
    nic_file = f"ifcfg-{platform.nic}"
    before = {h: remote_ifcfg(the_lab, h, nic_file) for h in ("hv01", "hv02", "hv03")}
    outcome = rollout(the_lab.paths.inventory, check=True)
    assert outcome.exit_code == EXIT_CHANGED
    for name, host in outcome.hosts.items():
        push = next(s for s in host.steps if s.name == "push network files")
        assert push.changed and "+BRIDGE=br0" in push.diff and "+TYPE=Bridge" in push.diff
        apply = next(s for s in host.steps if s.name == "restart network (guarded)")
        assert apply.message.startswith("check mode: would restart")
        assert remote_ifcfg(the_lab, name, "ifcfg-br0") is None
        assert remote_ifcfg(the_lab, name, nic_file) == before[name]


def test_rollout_bridges_every_hypervisor(
    lab: tuple[Lab, LabState], platform: HostPlatform
) -> None:
    the_lab, state = lab
    nic = platform.nic
    outcome = rollout(the_lab.paths.inventory)
    assert outcome.exit_code == EXIT_CHANGED, [h.steps for h in outcome.hosts.values()]
    for name in ("hv01", "hv02", "hv03"):
        rec = state.hosts[name]
        assert outcome.hosts[name].status == "changed"
        assert remote_ifcfg(the_lab, name, "ifcfg-br0") == {
            "DEVICE": "br0", "TYPE": "Bridge", "ONBOOT": "yes", "BOOTPROTO": "static",
            "IPADDR": rec.address, "NETMASK": "255.255.128.0", "GATEWAY": "198.18.128.1",
            "DEFROUTE": "yes", "STP": "off", "DELAY": "0", **platform.bridge_nm_controlled,
        }  # fmt: skip
        assert remote_ifcfg(the_lab, name, f"ifcfg-{nic}") == {
            "DEVICE": nic, "TYPE": "Ethernet", "HWADDR": rec.mac.upper(), "ONBOOT": "yes",
            "NM_CONTROLLED": "no", "BOOTPROTO": "none", "BRIDGE": "br0",
        }  # fmt: skip
        with the_lab.connect(name, state) as conn:
            assert brctl_ports(conn.run("brctl show").stdout)["br0"] == [nic]
            assert ipv4_of(conn, "br0") == [f"{rec.address}/17"]
            assert ipv4_of(conn, nic) == []
            mode = conn.run(f"stat -c %a {SCRIPTS}/ifcfg-br0").stdout.strip()
            assert mode == "644"
            kept = conn.run(f"cat /var/lib/hvbridge/runs/{outcome.run_id}/before{platform.ifcfg()}")
            assert kept.ok and "IPADDR=" in kept.stdout
            assert conn.run("pgrep -f guard.sh").exit_status == 1, "revert still armed"
            # Cancelling kills the guard's whole group: no `sleep 120` left behind, and
            # no waiter on the restart's lock either.
            assert conn.run("pgrep -x sleep").exit_status == 1, conn.run("ps -ef").stdout
            assert conn.run("pgrep -x flock").exit_status == 1, conn.run("ps -ef").stdout
            run_dir = f"/var/lib/hvbridge/runs/{outcome.run_id}"
            assert conn.run(f"cat {run_dir}/restart.rc; ls {run_dir}").stdout.split() == [
                "0", "before", "cancelled", "created", "guard.pid", "guard.sh", "restart.lock",
                "restart.log", "restart.rc", "revert.sh", "saved",
            ]  # fmt: skip
            # The restart ran with the session's umask: what it writes keeps normal modes.
            assert conn.run(f"stat -c %a {run_dir}/restart.log").stdout == "644\n"
        verified = next(s for s in outcome.hosts[name].steps if s.name == "verify bridges")
        # Verified on the state the guarded restart read after restarting, not read again.
        assert (
            verified.message
            == "verified br0 (network state as read by 'restart network (guarded)')"
        )
        facts = outcome.hosts[name].facts
        assert facts is not None
        assert facts["bridges"]["br0"]["ports"] == [nic]
        assert facts["addresses"]["br0"] == [f"{rec.address}/17"]
        collected = next(s for s in outcome.hosts[name].steps if s.name == "collect facts")
        assert f"br0 [{nic}] {rec.address}/17" in collected.message
        assert "; default via 198.18.128.1 dev br0; networks: default; guests: v1 shut off" in (
            collected.message
        )
        assert facts["libvirt"]["networks"]["default"] == {
            "active": True, "autostart": True, "persistent": True, "bridge": "virbr0",
        }  # fmt: skip
        assert facts["libvirt"]["domains"]["v1"]["interfaces"] == [
            {"type": "network", "source": "default", "mac": rec.guest_mac, "model": "virtio"}
        ]
        timed = {step.name: step.seconds for step in outcome.hosts[name].steps}
        assert min(timed.values()) >= 0 and timed["restart network (guarded)"] > 0


def test_second_run_changes_nothing_and_restarts_nothing(lab: tuple[Lab, LabState]) -> None:
    the_lab, _ = lab
    outcome = rollout(the_lab.paths.inventory)
    assert outcome.exit_code == 0
    for host in outcome.hosts.values():
        assert not any(step.changed for step in host.steps)
        apply = next(s for s in host.steps if s.name == "restart network (guarded)")
        assert apply.message == "no network file changed: not restarted"


def test_cli_prints_each_host_and_step(lab: tuple[Lab, LabState]) -> None:
    the_lab, _ = lab
    done = cli("run", str(RUNBOOK), "-i", str(the_lab.paths.inventory), "--limit", "hv01")
    assert done.returncode == 0, done.stderr
    assert "== hv01: ok" in done.stdout
    assert "push network files" in done.stdout and "all files already as rendered" in done.stdout
    assert "hv02" not in done.stdout


def test_a_host_cut_off_by_its_new_address_reverts_by_itself(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def cut_off_hv02(hosts: dict) -> None:
        for name in hosts:
            hosts[name]["data"]["bridges"]["br0"]["ipaddr"] = f"198.18.{200 + int(name[2:])}.5"
            hosts[name]["data"]["bridges"]["br0"]["netmask"] = "255.255.255.0"
            hosts[name]["data"]["bridges"]["br0"]["gateway"] = f"198.18.{200 + int(name[2:])}.1"
        del hosts["hv01"], hosts["hv03"]

    edit_yaml(inventory / "hosts.yaml", cut_off_hv02)
    runbook = runbook_with_timeout(tmp_path / "runbook.yaml", 15)
    outcome = rollout(inventory, runbook)
    host = outcome.hosts["hv02"]
    assert host.status == "rolled back"
    # Each bit is one host status: a rolled-back host sets 8 alone.
    assert outcome.exit_code == EXIT_ROLLED_BACK
    apply = next(s for s in host.steps if s.name == "restart network (guarded)")
    assert apply.failed
    assert "could not reconnect and verify in time" in apply.message
    assert "reverted: addresses and default route are as before" in apply.message
    with the_lab.connect("hv02", state) as conn:
        assert ipv4_of(conn, "br0") == [f"{state.hosts['hv02'].address}/17"]
        assert (
            f"IPADDR={state.hosts['hv02'].address}" in conn.run(f"cat {SCRIPTS}/ifcfg-br0").stdout
        )


def test_a_change_on_one_host_restarts_only_that_host(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def stp_on_hv03(hosts: dict) -> None:
        hosts["hv03"]["data"]["bridges"]["br0"]["stp"] = True

    edit_yaml(inventory / "hosts.yaml", stp_on_hv03)
    outcome = rollout(inventory)
    assert outcome.hosts["hv03"].status == "changed"
    assert outcome.hosts["hv01"].status == "ok"
    hv01_apply = next(s for s in outcome.hosts["hv01"].steps if s.name.startswith("restart"))
    assert hv01_apply.message == "no network file changed: not restarted"
    with the_lab.connect("hv03", state) as conn:
        assert "STP=on" in conn.run(f"cat {SCRIPTS}/ifcfg-br0").stdout


def test_bad_inventory_is_refused_before_any_connection(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, _ = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def inject(hosts: dict) -> None:
        hosts["hv01"]["data"]["nics"][platform.nic]["name"] = "x$(reboot)"
        hosts["hv02"]["data"]["bridges"]["br0"]["gateway"] = "10.9.9.9"

    edit_yaml(inventory / "hosts.yaml", inject)
    logins = accepted_logins(the_lab, "jump")
    done = cli("run", str(RUNBOOK), "-i", str(inventory))
    assert done.returncode == 1
    assert "hosts.yaml" in done.stderr and "hv01" in done.stderr
    assert f"nics.{platform.nic}.name" in done.stderr
    assert "hv02" in done.stderr and "bridges.br0.gateway" in done.stderr
    assert accepted_logins(the_lab, "jump") == logins


def test_unknown_host_key_and_unreachable_host_fail_alone(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    known = tmp_path / "known_hosts"
    hv01 = state.hosts["hv01"].address
    known.write_text(
        "".join(
            line + "\n"
            for line in the_lab.paths.known_hosts.read_text().splitlines()
            if not line.startswith(hv01 + " ")
        )
    )

    def change(hosts: dict) -> None:
        hosts["hv01"]["connection_options"] = {
            "hvbridge": {"extras": {"known_hosts": str(known), "key_file": str(the_lab.paths.key),
                                    "jump": [f"root@{state.hosts['jump'].address}:22"]}}
        }  # fmt: skip
        ghost = dict(hosts["hv02"])
        ghost["hostname"] = "198.18.129.200"
        ghost["data"] = {"nics": {platform.nic: {"hwaddr": "02:48:56:00:00:C8"}}, "bridges": {}}
        hosts["hv99"] = ghost

    edit_yaml(inventory / "hosts.yaml", change)
    outcome = rollout(inventory)
    assert outcome.hosts["hv01"].status == "failed"
    assert "host key unknown" in outcome.hosts["hv01"].steps[-1].message
    assert outcome.hosts["hv99"].status == "failed"
    assert "cannot reach" in outcome.hosts["hv99"].steps[-1].message
    assert outcome.hosts["hv02"].status in {"ok", "changed"}
    assert outcome.hosts["hv03"].status in {"ok", "changed"}


def test_another_file_for_the_same_device_is_refused_before_writing(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    edit_yaml(
        inventory / "hosts.yaml",
        lambda hosts: hosts["hv01"]["data"]["bridges"]["br0"].update(mtu=1400),
    )
    with the_lab.connect("hv01", state) as conn:
        before = conn.run(f"cat {SCRIPTS}/ifcfg-br0").stdout
        assert conn.run(f"printf 'DEVICE=br0\\nONBOOT=no\\n' > {SCRIPTS}/ifcfg-bridge-old").ok
    try:
        outcome = rollout(inventory, limit=("hv01",))
        push = next(s for s in outcome.hosts["hv01"].steps if s.name == "push network files")
        assert push.failed
        assert f"{SCRIPTS}/ifcfg-bridge-old also configures DEVICE=br0" in push.message
        assert [s.name for s in outcome.hosts["hv01"].steps][-1] == "push network files"
        with the_lab.connect("hv01", state) as conn:
            assert conn.run(f"cat {SCRIPTS}/ifcfg-br0").stdout == before
    finally:
        with the_lab.connect("hv01", state) as conn:
            conn.run(f"rm -f {SCRIPTS}/ifcfg-bridge-old")


def test_a_run_that_never_armed_a_guard_is_seen_as_such(
    lab: tuple[Lab, LabState], platform: HostPlatform
) -> None:
    """What a controller sees when its session died before arming: no guard, no restart."""
    the_lab, state = lab
    with the_lab.connect("hv01", state) as conn:
        seen = guard.look(
            conn, guard.Armed(time.time(), run_dir("never-armed")), 1.0, [], platform.seam
        )
    assert (seen.guard, seen.restart_rc, seen.state) == (guard.NOT_ARMED, None, None)


def test_libvirt_facts_only_where_libvirtd_answers(
    lab: tuple[Lab, LabState], platform: HostPlatform
) -> None:
    """A host without a libvirt socket has no libvirt facts, and starts no virsh for it."""
    the_lab, state = lab
    libvirt_facts = load_tasks_module(PROJECT / "tasks", "facts").libvirt_facts
    with the_lab.connect("hv02", state) as conn:
        assert remote.is_socket(conn, "/var/run/libvirt/libvirt-sock")
        found = libvirt_facts(conn)
        assert found is not None and "v1" in found["domains"]
        assert conn.run(platform.service("libvirtd", "stop")).ok
        # A virsh of this host's own (a bind mount in its mount namespace) that says
        # whenever it is started.
        fake = "printf '#!/bin/sh\\necho started >> /tmp/virsh-started\\nexit 1\\n' > /tmp/virsh"
        bind = "chmod 755 /tmp/virsh; mount --bind /tmp/virsh $(command -v virsh)"
        assert conn.run(f"{fake}; {bind}").ok
        try:
            assert not remote.is_socket(conn, "/var/run/libvirt/libvirt-sock")
            assert libvirt_facts(conn) is None
            assert conn.run("cat /tmp/virsh-started").exit_status != 0, "virsh was started"
            assert conn.run("virsh -q version").exit_status == 1  # the fake one is in place
            assert conn.run("cat /tmp/virsh-started").stdout == "started\n"
        finally:
            conn.run("umount $(command -v virsh); rm -f /tmp/virsh /tmp/virsh-started")
            assert conn.run(platform.service("libvirtd", "start")).ok
        assert libvirt_facts(conn) is not None


def test_a_restart_slower_than_the_wait_is_waited_for_after_reconnecting(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    """The old session waits half the timeout; a restart still running then is no
    error: the new connection waits for the rest, verifies and cancels."""
    the_lab, state = lab
    steps = yaml.safe_load(RUNBOOK.read_text())
    for step in steps:
        if step["task"] == "network.apply":
            step["args"] = {"timeout": 20, "force": True}  # waits 10 s on the old session
    runbook = tmp_path / "runbook.yaml"
    runbook.write_text(yaml.safe_dump(steps, sort_keys=False))
    # Slow to bring the network up: el6's `service network restart` runs the script once
    # (restart), el7's `systemctl restart network` twice (stop, then start).
    slow = (
        "mv /etc/init.d/network /etc/init.d/network.real && printf '#!/bin/sh\\n"
        '[ "$1" = stop ] || sleep 12\\n'
        'exec /etc/init.d/network.real "$@"\\n\' > /etc/init.d/network'
        " && chmod 755 /etc/init.d/network"
    )
    with the_lab.connect("hv03", state) as conn:
        assert conn.run(slow).ok
    try:
        outcome = rollout(the_lab.paths.inventory, runbook, limit=("hv03",))
    finally:
        with the_lab.connect("hv03", state) as conn:
            assert conn.run("mv /etc/init.d/network.real /etc/init.d/network").ok
    host = outcome.hosts["hv03"]
    assert host.status == "changed", host.steps
    apply = next(s for s in host.steps if s.name == "restart network (guarded)")
    assert re.fullmatch(
        r"network restarted and verified in 1\d\.\ds; revert cancelled", apply.message
    )
    with the_lab.connect("hv03", state) as conn:
        assert conn.run("pgrep -f guard.sh").exit_status == 1, "revert still armed"
