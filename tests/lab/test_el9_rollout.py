"""el9 hosts with real NetworkManager, through the jump host and the CLI: bridged (br0
active, eth0 its port, the address and default route on br0, the guest's vnet0 under it),
a rerun changes nothing; a host cut off by its new address reverts by itself (NetworkManager's
checkpoint and the host guard) while the others converge; NetworkManager stopped, or a NIC
whose MAC is not the inventory's, is refused before anything changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hvbridge.lab.lifecycle import Lab

from .platform_lab import host_report, inventory, on, platform_lab, run
from .rollout_support import PROJECT, edit_yaml, runbook_with_timeout

BRIDGE = PROJECT / "runbooks" / "bridge.yaml"
CONNECTIONS = "/etc/NetworkManager/system-connections"
OLD_PROFILE = f"{CONNECTIONS}/eth0.nmconnection"
CHECKPOINTS = (
    "busctl --system get-property org.freedesktop.NetworkManager"
    " /org/freedesktop/NetworkManager org.freedesktop.NetworkManager Checkpoints"
)


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from platform_lab(tmp_path_factory, "el9")


def test_el9_hosts_are_bridged_through_the_jump_host_and_a_rerun_changes_nothing(
    lab_dir: Path, tmp_path: Path
) -> None:
    address = Lab(lab_dir).require_state().hosts["hv01"].address
    inv = inventory(lab_dir, tmp_path, "hv01")
    assert f"{OLD_PROFILE}:yes" in on(lab_dir, "hv01", "nmcli -t -f FILENAME,ACTIVE c show").stdout

    code, output = run(BRIDGE, inv, tmp_path)

    assert code == 2, output
    assert f"took {OLD_PROFILE} out of the way (kept for the revert)" in output
    assert "NetworkManager 1.42" in output
    # NetworkManager's own view was verified beside the kernel's, in the guarded apply.
    assert (
        "network restarted and verified (the kernel's view and the network service's own)" in output
    )
    active = on(lab_dir, "hv01", "nmcli -t -f NAME,DEVICE connection show --active").stdout
    assert {"br0:br0", "br0-port-eth0:eth0"} <= set(active.split()), active
    assert "eth0:ethernet:connected:br0-port-eth0" in on(lab_dir, "hv01", "nmcli -t device").stdout
    # eth0's profile set DNS: br0's carries it (the old one is gone).
    assert "DNS 198.18.0.53, search lab.example carried to br0's profile from eth0's" in output
    dns = on(lab_dir, "hv01", "nmcli -t -f IP4.DNS device show br0").stdout
    assert dns.split() == ["IP4.DNS[1]:198.18.0.53"], dns
    said = on(lab_dir, "hv01", "nmcli -t -f ipv4.dns,ipv4.dns-search connection show br0").stdout
    assert said.split() == ["ipv4.dns:198.18.0.53", "ipv4.dns-search:lab.example"], said
    assert "master br0" in on(lab_dir, "hv01", "ip -o link show eth0").stdout
    assert f"inet {address}/17" in on(lab_dir, "hv01", "ip -4 -o addr show dev br0").stdout
    assert "inet " not in on(lab_dir, "hv01", "ip -4 -o addr show dev eth0").stdout
    assert "dev br0" in on(lab_dir, "hv01", "ip -4 route show default").stdout
    assert on(lab_dir, "hv01", "cat /sys/class/net/br0/bridge/stp_state").stdout.strip() == "0"
    # The old profile is kept for a revert, not in NetworkManager's sight; no checkpoint left.
    kept = on(lab_dir, "hv01", f"ls /var/lib/hvbridge/runs/*/before{OLD_PROFILE}")
    assert kept.ok, kept.stderr
    assert not on(lab_dir, "hv01", f"test -e {OLD_PROFILE}").ok
    assert on(lab_dir, "hv01", CHECKPOINTS).stdout.strip() == "ao 0"
    assert on(lab_dir, "hv01", "virsh start v1").ok
    assert "vnet0" in on(lab_dir, "hv01", "ls /sys/class/net/br0/brif").stdout.split()

    code, output = run(BRIDGE, inv, tmp_path)

    assert code == 0, output
    assert "all files already as rendered; NetworkManager 1.42" in output
    assert "no network file changed: not restarted" in output


def test_a_host_cut_off_by_its_new_address_reverts_by_itself_and_the_others_converge(
    lab_dir: Path, tmp_path: Path
) -> None:
    state = Lab(lab_dir).require_state()
    inv = inventory(lab_dir, tmp_path, "hv02")
    hosts = yaml.safe_load((lab_dir / "inventory" / "hosts.yaml").read_text())
    both = {name: hosts[name] for name in ("hv02", "hv03")}
    # hv02's bridge takes another address of its subnet: the controller, which connects to
    # the old one, never gets back in.
    both["hv02"]["data"]["bridges"]["br0"]["ipaddr"] = "198.18.129.200"
    (inv / "hosts.yaml").write_text(yaml.safe_dump(both, sort_keys=False))
    before = on(lab_dir, "hv02", f"cat {OLD_PROFILE}").stdout

    code, output = run(runbook_with_timeout(tmp_path / "net.yaml", 20), inv, tmp_path)

    assert code == 2 | 8, output
    assert "== hv02: rolled back" in output and "== hv03: changed" in output
    reason = host_report(tmp_path, "hv02")["rollback"]["reason"]  # type: ignore[index]
    assert reason.startswith("could not reconnect and verify in time: "), reason
    address = state.hosts["hv02"].address
    assert f"inet {address}/17" in on(lab_dir, "hv02", "ip -4 -o addr show dev eth0").stdout
    assert "dev eth0" in on(lab_dir, "hv02", "ip -4 route show default").stdout
    assert not on(lab_dir, "hv02", "ip link show br0").ok
    assert on(lab_dir, "hv02", f"cat {OLD_PROFILE}").stdout == before
    assert on(lab_dir, "hv02", f"ls {CONNECTIONS}").stdout.split() == ["eth0.nmconnection"]
    profiles = on(lab_dir, "hv02", "nmcli -t -f NAME,DEVICE connection show --active").stdout
    assert "eth0:eth0" in profiles.split(), profiles
    revert_log = on(lab_dir, "hv02", "cat /var/lib/hvbridge/runs/*/revert.log").stdout
    assert f"restored {OLD_PROFILE}" in revert_log, revert_log
    # The inner undo came first: NetworkManager's checkpoint, rolled back by the guard or
    # by NetworkManager itself at the same deadline.
    assert "checkpoint /org/freedesktop/NetworkManager/Checkpoint/" in revert_log, revert_log
    assert on(lab_dir, "hv02", CHECKPOINTS).stdout.strip() == "ao 0"
    assert "master br0" in on(lab_dir, "hv03", "ip -o link show eth0").stdout


def test_a_host_whose_networkmanager_is_stopped_is_refused_and_left_as_it_was(
    lab_dir: Path, tmp_path: Path
) -> None:
    inv = inventory(lab_dir, tmp_path, "hv03")
    stopped = on(lab_dir, "hv03", "systemctl stop NetworkManager")
    assert stopped.ok, stopped.stdout + stopped.stderr
    try:
        before = on(lab_dir, "hv03", f"ls -l {CONNECTIONS}; ip -4 -o addr").stdout
        code, output = run(BRIDGE, inv, tmp_path)
        assert code == 4, output
        assert (
            "hv03: NetworkManager is not running (systemctl is-active NetworkManager: inactive):"
            " refusing to change the host; start it first (systemctl start NetworkManager)"
        ) in output
        assert on(lab_dir, "hv03", f"ls -l {CONNECTIONS}; ip -4 -o addr").stdout == before
    finally:
        assert on(lab_dir, "hv03", "systemctl start NetworkManager").ok


def test_a_nic_whose_mac_is_not_the_inventory_s_is_refused_before_anything_changes(
    lab_dir: Path, tmp_path: Path
) -> None:
    inv = inventory(lab_dir, tmp_path, "hv03")
    edit_yaml(
        inv / "hosts.yaml",
        lambda hosts: hosts["hv03"]["data"]["nics"]["eth0"].update(hwaddr="02:48:56:00:99:99"),
    )
    before = on(lab_dir, "hv03", f"ls -l {CONNECTIONS}; ip -4 -o addr").stdout
    code, output = run(BRIDGE, inv, tmp_path)
    assert code == 4, output
    assert (
        "hv03: NIC eth0 has MAC 02:48:56:00:00:03, the inventory's hwaddr is 02:48:56:00:99:99:"
        " refusing to change the host"
    ) in output
    assert on(lab_dir, "hv03", f"ls -l {CONNECTIONS}; ip -4 -o addr").stdout == before
