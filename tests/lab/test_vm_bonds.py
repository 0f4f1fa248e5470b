"""Bonds and VLANs for real, on Debian's kernel (the VM lab), through the CLI: el6
hypervisors with three NICs (eth0 management; eth1 and eth2 on the data switch), the
controller inside the VM (`lab exec -- hvbridge run`).

hv01: bond0 (active-backup over eth1 and eth2) under br1, and bond0.100 (VLAN 100 on the
bond) under br100; a cut-off change first reverts the whole chain (bond, VLAN and bridge
files and devices as before); then the rollout is verified apart from hvbridge (brctl,
/proc/net/bonding), the VLAN reaches the controller's VLAN 100 through the switch, and
the active slave's link cut on the switch side fails over while br1 keeps answering.
hv02: an 802.3ad bond whose switch side is an 802.3ad bond too (LACP partner)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hvbridge.lab.topology import CONTROLLER_DATA_ADDR, data_address, plan

from .rollout_support import PROJECT, edit_yaml, runbook_with_timeout
from .vm_support import hv, in_vm, inner_inventory, said, share, vm_lab

pytestmark = [pytest.mark.lab, pytest.mark.vm]

NETWORK = PROJECT / "runbooks" / "bridge-network.yaml"
SCRIPTS = "/etc/sysconfig/network-scripts"
TOPOLOGY = plan(2, direct=False, platforms=["el6", "el6"], nics=3)
HOSTS = {host.name: host for host in TOPOLOGY.hosts}
VLAN = 100
# The controller's end of VLAN 100 on the data switch; the hosts' br100 are .16+N.
VLAN_GATEWAY = "198.19.100.1"
SWITCH_LACP = "hvl-lacp"


def vlan_address(host: str) -> str:
    return f"198.19.100.{16 + HOSTS[host].index}"


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("vm-bonds") / "lab"
    with vm_lab(directory, "--hosts", "2", "--platform", "el6", "--nics", "3", "--no-libvirt"):
        # The controller's side of VLAN 100, on the data switch (no VLAN filtering there).
        setup = controller(
            directory,
            f"ip link add link hvl-data name hvl-data.{VLAN} type vlan id {VLAN}"
            f" && ip addr add {VLAN_GATEWAY}/24 dev hvl-data.{VLAN}"
            f" && ip link set hvl-data.{VLAN} up",
        )
        assert setup.returncode == 0, said(setup)
        yield directory


def on(lab_dir: Path, host: str, command: str) -> subprocess.CompletedProcess[str]:
    return hv(lab_dir, "lab", "ssh", host, "--", command)


def controller(lab_dir: Path, command: str) -> subprocess.CompletedProcess[str]:
    """`command` in the VM's root network namespace: the controller and the switches."""
    return hv(lab_dir, "lab", "exec", "--", "sh", "-c", command)


def out(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, said(done)
    return done.stdout


def bonded(lab_dir: Path, work: Path, host: str, mode: str, **br0: object) -> Path:
    """The inner lab's inventory for `host` alone: bond0 (`mode`) over eth1 and eth2 under
    br1, bond0.100 under br100, br0 on eth0 with `br0`'s changes."""
    target = work / "inventory"
    shutil.copytree(inner_inventory(lab_dir), target)
    (_, eth1, _), (_, eth2, _) = HOSTS[host].nics[1:]
    data_ip = data_address(HOSTS[host].index)
    bond: dict[str, object] = {"slaves": ["eth1", "eth2"], "mode": mode, "miimon": 100}
    bond.update({"primary": "eth1"} if mode == "active-backup" else {"lacp_rate": "fast"})

    def change(hosts: dict[str, Any]) -> None:
        for name in [name for name in hosts if name != host]:
            del hosts[name]
        data = hosts[host]["data"]
        data["nics"]["eth1"] = {"hwaddr": eth1.upper()}
        data["nics"]["eth2"] = {"hwaddr": eth2.upper()}
        data["bonds"] = {"bond0": bond}
        data["vlans"] = {f"bond0.{VLAN}": {"parent": "bond0", "id": VLAN}}
        data["bridges"]["br0"].update(br0)
        data["bridges"]["br1"] = {
            "ports": ["bond0"], "bootproto": "static", "ipaddr": str(data_ip.ip),
            "prefix": data_ip.network.prefixlen, "defroute": False,
        }  # fmt: skip
        data["bridges"][f"br{VLAN}"] = {
            "ports": [f"bond0.{VLAN}"], "bootproto": "static", "ipaddr": vlan_address(host),
            "prefix": 24, "defroute": False,
        }  # fmt: skip

    edit_yaml(target / "hosts.yaml", change)
    return target


def rollout(lab_dir: Path, work: Path, inventory: Path, runbook: Path = NETWORK) -> str:
    """`hvbridge run` by the controller inside the VM; its exit status and output."""
    done = hv(lab_dir, "lab", "exec", "--", "hvbridge", "run",
              in_vm(lab_dir, runbook) if runbook.is_relative_to(share(lab_dir)) else str(runbook),
              "-i", in_vm(lab_dir, inventory),
              "--state-dir", in_vm(lab_dir, work / "state"),
              "--reports-dir", in_vm(lab_dir, work / "reports"))  # fmt: skip
    return said(done)


def workdir(lab_dir: Path, name: str) -> Path:
    work = share(lab_dir) / name
    work.mkdir()
    return work


def devices(lab_dir: Path, host: str) -> list[str]:
    links = json.loads(out(on(lab_dir, host, "ip -j link show")))
    return sorted(link["ifname"] for link in links)


def bonding(lab_dir: Path, host: str) -> str:
    return out(on(lab_dir, host, "cat /proc/net/bonding/bond0"))


def test_a_cut_off_change_reverts_the_bond_the_vlan_and_the_bridges(lab_dir: Path) -> None:
    host = "hv01"
    files = out(on(lab_dir, host, f"ls {SCRIPTS}")).split()
    eth0 = out(on(lab_dir, host, f"cat {SCRIPTS}/ifcfg-eth0"))
    before = devices(lab_dir, host)
    work = workdir(lab_dir, "cut-off")
    # br0 takes another address of its subnet: the controller, which connects to the old
    # one, never gets back in.
    inventory = bonded(lab_dir, work, host, "active-backup", ipaddr="198.18.129.201")

    output = rollout(lab_dir, work, inventory, runbook_with_timeout(work / "net.yaml", 30))

    assert output.startswith("exit 8\n"), output
    assert f"== {host}: rolled back" in output, output
    # The whole chain as it was: no bond, VLAN or bridge; eth0's file and address.
    assert devices(lab_dir, host) == before
    assert before == ["eth0", "eth1", "eth2", "lo"]
    assert out(on(lab_dir, host, f"ls {SCRIPTS}")).split() == files
    assert out(on(lab_dir, host, f"cat {SCRIPTS}/ifcfg-eth0")) == eth0
    address = HOSTS[host].address
    assert f"inet {address}/17" in out(on(lab_dir, host, "ip -4 -o addr show dev eth0"))


def test_an_active_backup_bond_and_a_vlan_on_it_each_under_a_bridge(lab_dir: Path) -> None:
    host = "hv01"
    work = workdir(lab_dir, "active-backup")

    output = rollout(lab_dir, work, bonded(lab_dir, work, host, "active-backup"))

    assert output.startswith("exit 2\n"), output
    assert f"== {host}: changed" in output, output
    # Checked apart from hvbridge: bridge-utils, the bonding driver and iproute2.
    brctl = out(on(lab_dir, host, "brctl show"))
    ports = {line.split()[0]: line.split()[3:] for line in brctl.splitlines()[1:]}
    assert ports == {"br0": ["eth0"], "br1": ["bond0"], f"br{VLAN}": [f"bond0.{VLAN}"]}, brctl
    state = bonding(lab_dir, host)
    assert "Bonding Mode: fault-tolerance (active-backup)" in state, state
    assert "Primary Slave: eth1" in state and "Currently Active Slave: eth1" in state, state
    assert re.findall(r"Slave Interface: (\S+)", state) == ["eth1", "eth2"], state
    vlan = out(on(lab_dir, host, f"ip -d -o link show bond0.{VLAN}"))
    assert "@bond0:" in vlan and f"vlan protocol 802.1Q id {VLAN} " in vlan, vlan
    # br1 answers on the data switch, br100 on VLAN 100 through the same switch.
    data_ip = data_address(HOSTS[host].index).ip
    out(controller(lab_dir, f"ping -c 2 -W 5 {data_ip} && ping -c 2 -W 5 {vlan_address(host)}"))
    assert f"dev br{VLAN}" in out(on(lab_dir, host, f"ip route get {VLAN_GATEWAY}"))


def test_the_bond_fails_over_while_br1_keeps_answering(lab_dir: Path) -> None:
    host = "hv01"
    assert "Currently Active Slave: eth1" in bonding(lab_dir, host)
    eth1_peer = HOSTS[host].data_nics[0].peer
    data_ip = data_address(HOSTS[host].index).ip
    # 40 pings, 0.2 s apart; eth1's link cut on the switch side after the 10th.
    pings = controller(
        lab_dir,
        f"ping -n -i 0.2 -c 40 -W 2 {data_ip} > /tmp/failover & pid=$!;"
        f" sleep 2; ip link set {eth1_peer} down; wait $pid; cat /tmp/failover",
    )
    try:
        answered = {int(seq) for seq in re.findall(r"icmp_seq=(\d+) ", pings.stdout)}
        assert {seq for seq in answered if seq > 20}, said(pings)
        state = bonding(lab_dir, host)
        assert "Currently Active Slave: eth2" in state, state
        eth1 = state.split("Slave Interface: eth1")[1].split("Slave Interface:")[0]
        assert "MII Status: down" in eth1, state
    finally:
        out(controller(lab_dir, f"ip link set {eth1_peer} up"))


def test_an_8023ad_bond_negotiates_lacp_with_the_switch(lab_dir: Path) -> None:
    host = "hv02"
    peers = [nic.peer for nic in HOSTS[host].data_nics]
    # The switch side: hv02's two veth peers in an 802.3ad bond of their own on hvl-data.
    out(controller(
        lab_dir,
        f"ip link add {SWITCH_LACP} type bond mode 802.3ad lacp_rate fast miimon 100"
        + "".join(f" && ip link set {peer} down && ip link set {peer} nomaster"
                  f" && ip link set {peer} master {SWITCH_LACP}" for peer in peers)
        + f" && ip link set {SWITCH_LACP} master hvl-data && ip link set {SWITCH_LACP} up"
        + "".join(f" && ip link set {peer} up" for peer in peers),
    ))  # fmt: skip
    work = workdir(lab_dir, "lacp")

    output = rollout(lab_dir, work, bonded(lab_dir, work, host, "802.3ad"))

    assert output.startswith("exit 2\n"), output
    state = bonding(lab_dir, host)
    assert "Bonding Mode: IEEE 802.3ad Dynamic link aggregation" in state, state
    switch_mac = json.loads(out(controller(lab_dir, f"ip -j link show {SWITCH_LACP}")))[0]
    partner = re.findall(r"Partner Mac Address: (\S+)", state)
    assert partner and set(partner) == {switch_mac["address"]}, state
    aggregators = re.findall(r"Aggregator ID: (\d+)", state)
    # The bond's active aggregator, then each slave's: both slaves in it.
    assert len(aggregators) == 3 and len(set(aggregators)) == 1, state
    ping = on(lab_dir, host, f"ping -c 3 -W 5 {CONTROLLER_DATA_ADDR}")
    assert ping.returncode == 0, said(ping)
