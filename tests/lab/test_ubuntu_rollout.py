"""ubuntu hosts with real netplan (0.106) and systemd-networkd (252), through the jump host
and the CLI: bridged (br0 holds the NIC, the address and the default route, the guest's
vnet0 under it), a rerun changes nothing; a host cut off by its new address reverts by
itself while another converges; another NIC's netplan file byte for byte intact after the
rollout and after the revert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab import networkd
from hvbridge.lab.lifecycle import Lab

from .platform_lab import host_report, inventory, on, platform_lab, run
from .rollout_support import PROJECT, edit_yaml, runbook_with_timeout

BRIDGE = PROJECT / "runbooks" / "bridge.yaml"
OURS = "/etc/netplan/90-hvbridge.yaml"
OLD = networkd.NETPLAN_FILE
NIC = "enp1s0"
# Where netplan generates networkd's files.
NETWORKD = "/run/systemd/network"


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from platform_lab(tmp_path_factory, "ubuntu")


def test_ubuntu_hosts_are_bridged_through_the_jump_host_and_a_rerun_changes_nothing(
    lab_dir: Path, tmp_path: Path
) -> None:
    address = Lab(lab_dir).require_state().hosts["hv01"].address
    inv = inventory(lab_dir, tmp_path, "hv01")
    before = on(lab_dir, "hv01", f"cat {OLD}").stdout
    assert f"inet {address}/17" in on(lab_dir, "hv01", f"ip -4 -o addr show dev {NIC}").stdout
    # What networkd was told for the port: nothing of RAs, so its default (accept them).
    port_network = on(lab_dir, "hv01", f"cat {NETWORKD}/10-netplan-{NIC}.network").stdout
    assert "[Network]" in port_network and "IPv6AcceptRA" not in port_network, port_network

    code, output = run(BRIDGE, inv, tmp_path, "--check", "--diff")
    assert code == 2, output
    assert f"would take {OLD} out of the way" in output, output
    assert not on(lab_dir, "hv01", f"test -e {OURS}").ok

    code, output = run(BRIDGE, inv, tmp_path)

    assert code == 2, output
    assert f"took {OLD} out of the way (kept for the revert)" in output, output
    assert "netplan.io 0.106" in output
    brctl = on(lab_dir, "hv01", "brctl show br0").stdout
    assert brctl.splitlines()[1].split()[2:] == ["no", NIC], brctl
    assert f"inet {address}/17" in on(lab_dir, "hv01", "ip -4 -o addr show dev br0").stdout
    assert "inet " not in on(lab_dir, "hv01", f"ip -4 -o addr show dev {NIC}").stdout
    assert "dev br0" in on(lab_dir, "hv01", "ip -4 route show default").stdout
    assert on(lab_dir, "hv01", "cat /sys/class/net/br0/bridge/stp_state").stdout.strip() == "0"
    assert on(lab_dir, "hv01", "cat /sys/class/net/br0/bridge/forward_delay").stdout.strip() == "0"
    ours = on(lab_dir, "hv01", f"cat {OURS}").stdout
    assert f'addresses: ["{networkd.NAMESERVER}"]' in ours, ours
    assert f'search: ["{networkd.SEARCH}"]' in ours, ours
    # Router advertisements as on the port: networkd told so for br0 by the real netplan
    # (networkd's default for a bridge is not to accept them).
    bridge_network = on(lab_dir, "hv01", f"cat {NETWORKD}/10-netplan-br0.network").stdout
    assert "IPv6AcceptRA=yes" in bridge_network, bridge_network
    assert "accept-ra: true" in ours, ours
    assert on(lab_dir, "hv01", f"cat {networkd.FOREIGN_FILE}").stdout == networkd.FOREIGN
    assert on(lab_dir, "hv01", f"cat /var/lib/hvbridge/runs/*/before{OLD}").stdout == before
    assert on(lab_dir, "hv01", "virsh start v1").ok
    assert "vnet0" in on(lab_dir, "hv01", "ls /sys/class/net/br0/brif").stdout.split()

    code, output = run(BRIDGE, inv, tmp_path)

    assert code == 0, output
    assert "all files already as rendered" in output
    assert "no network file changed: not restarted" in output


def test_a_host_cut_off_by_its_new_address_reverts_by_itself_and_another_converges(
    lab_dir: Path, tmp_path: Path
) -> None:
    state = Lab(lab_dir).require_state()
    inv = inventory(lab_dir, tmp_path, "hv02", "hv03")
    edit_yaml(
        inv / "hosts.yaml",
        lambda hosts: hosts["hv02"]["data"]["bridges"]["br0"].update(ipaddr="198.18.129.200"),
    )
    before = on(lab_dir, "hv02", f"cat {OLD}").stdout

    code, output = run(runbook_with_timeout(tmp_path / "net.yaml", 20), inv, tmp_path)

    assert code == 2 | 8, output
    assert "== hv02: rolled back" in output and "== hv03: changed" in output
    reason = host_report(tmp_path, "hv02")["rollback"]["reason"]  # type: ignore[index]
    assert reason.startswith("could not reconnect and verify in time: "), reason
    address = state.hosts["hv02"].address
    assert f"inet {address}/17" in on(lab_dir, "hv02", f"ip -4 -o addr show dev {NIC}").stdout
    assert f"dev {NIC}" in on(lab_dir, "hv02", "ip -4 route show default").stdout
    assert not on(lab_dir, "hv02", "ip link show br0").ok
    assert on(lab_dir, "hv02", f"cat {OLD}").stdout == before
    assert not on(lab_dir, "hv02", f"test -e {OURS}").ok
    assert on(lab_dir, "hv02", f"cat {networkd.FOREIGN_FILE}").stdout == networkd.FOREIGN
    revert_log = on(lab_dir, "hv02", "cat /var/lib/hvbridge/runs/*/revert.log").stdout
    assert f"restored {OLD}" in revert_log and f"removed {OURS}" in revert_log, revert_log
    assert "master br0" in on(lab_dir, "hv03", f"ip -o link show {NIC}").stdout
