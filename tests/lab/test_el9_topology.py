"""el9 hosts with two NICs and real NetworkManager, through the CLI (issue 16 on this
kernel): two bridges on two NICs, br1 at MTU 9000 end to end (a jumbo frame to the
controller on the data switch, unfragmented), an IPv6 address and default route on br0,
the DNS the host had kept where the inventory sets none, STP and forward delay as written
(sysfs, and a new port's state), DNS set by the inventory written per family; a rerun
changes nothing. The IPv6 address and gateway a host had are kept on the bridge where the
inventory says nothing of IPv6; a host cut off gets both chains reverted. Bonds and VLANs
need another kernel (the VM lab)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.networkmanager import START_DNS, START_SEARCH
from hvbridge.lab.topology import (
    CONTROLLER_DATA_ADDR,
    INNER_NET6,
    address6,
    data_address,
    gateway6,
)

from .platform_lab import host_report, inventory, on, platform_lab, run
from .rollout_support import PROJECT, edit_yaml, runbook_with_timeout

NETWORK = PROJECT / "runbooks" / "bridge-network.yaml"
# A bridge port's STP state in sysfs (brif/PORT/state).
LISTENING, LEARNING, FORWARDING = "1", "2", "3"


def new_port_state(lab_dir: Path, host: str, bridge: str) -> str:
    """The state of a port put in `bridge` just now (a veth, as a guest's tap would be),
    read at once; the veth is removed again."""
    port = f"hvt-{bridge}"
    done = on(
        lab_dir, host,
        f"ip link add {port} type veth peer name {port}p && ip link set {port}p up"
        f" && ip link set {port} master {bridge} up"
        f" && cat /sys/class/net/{bridge}/brif/{port}/state; ip link del {port}",
    )  # fmt: skip
    assert done.exit_status == 0, done.stdout + done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from platform_lab(tmp_path_factory, "el9", hosts=4, nics=2)


def two_bridges(lab_dir: Path, tmp_path: Path, name: str, **br0: Any) -> Path:
    """The lab's inventory for `name` alone, with eth1 (its MAC from the lab) bridged in br1
    at MTU 9000 on the data switch, and `br0` added to br0."""
    record = Lab(lab_dir).require_state().hosts[name]
    eth1 = next(nic for nic in record.nics if nic[0] == "eth1")
    index = int(name[2:])
    inv = inventory(lab_dir, tmp_path, name)

    def change(hosts: dict[str, Any]) -> None:
        data = hosts[name]["data"]
        data["nics"]["eth1"] = {"hwaddr": eth1[1].upper(), "mtu": 9000}
        data["bridges"]["br0"].update(br0)
        address = data_address(index)
        data["bridges"]["br1"] = {
            "ports": ["eth1"], "bootproto": "static", "ipaddr": str(address.ip),
            "prefix": address.network.prefixlen, "defroute": False, "mtu": 9000,
        }  # fmt: skip

    edit_yaml(inv / "hosts.yaml", change)
    return inv


def test_two_bridges_on_two_nics_with_jumbo_frames_ipv6_and_the_host_s_dns(
    lab_dir: Path, tmp_path: Path
) -> None:
    mine, gateway = address6(INNER_NET6, 1), gateway6(INNER_NET6).ip
    inv = two_bridges(lab_dir, tmp_path, "hv01", ipv6addr=str(mine), ipv6_gateway=str(gateway))
    before = on(lab_dir, "hv01", "nmcli -g IP4.DNS device show eth0").stdout
    assert before.split() == [START_DNS], before

    code, output = run(NETWORK, inv, tmp_path)

    assert code == 2, output
    assert f"DNS {START_DNS}, search {START_SEARCH} carried to br0's profile from eth0's" in output
    # NetworkManager's own view (both chains' profiles active) verified in the guarded apply.
    assert (
        "network restarted and verified (the kernel's view and the network service's own)" in output
    )
    active = on(lab_dir, "hv01", "nmcli -t -f NAME,DEVICE connection show --active").stdout
    assert {"br0:br0", "br0-port-eth0:eth0", "br1:br1", "br1-port-eth1:eth1"} <= set(
        active.split()
    ), active
    assert "master br1" in on(lab_dir, "hv01", "ip -o link show eth1").stdout
    # MTU 9000 across br1: a 9000-byte packet leaves unfragmented and the controller answers.
    for device in ("br1", "eth1"):
        assert "mtu 9000 " in on(lab_dir, "hv01", f"ip -o link show {device}").stdout
    jumbo = on(lab_dir, "hv01", f"ping -c 1 -W 5 -M do -s 8972 {CONTROLLER_DATA_ADDR}")
    assert jumbo.exit_status == 0, jumbo.stdout + jumbo.stderr
    over = on(lab_dir, "hv01", f"ping -c 1 -W 2 -M do -s 8973 {CONTROLLER_DATA_ADDR}")
    assert "message too long" in (over.stdout + over.stderr).lower(), over.stdout
    # br0's IPv6 address and default route, and the gateway answers through them.
    assert f"inet6 {mine} scope global" in on(lab_dir, "hv01", "ip -6 -o addr show dev br0").stdout
    route = on(lab_dir, "hv01", "ip -6 route show default").stdout
    assert f"default via {gateway} dev br0" in route, route
    ping6 = on(lab_dir, "hv01", f"ping -6 -c 1 -W 5 {gateway}")
    assert ping6.exit_status == 0, ping6.stdout + ping6.stderr
    # The DNS eth0's profile gave the host, now br0's; br1 has none.
    after = on(lab_dir, "hv01", "nmcli -g IP4.DNS device show br0").stdout
    assert after.split() == before.split(), after
    search = on(lab_dir, "hv01", "nmcli -g ipv4.dns-search connection show br0").stdout
    assert search.split() == [START_SEARCH], search
    assert on(lab_dir, "hv01", "nmcli -g IP4.DNS device show br1").stdout.strip() == ""
    # STP off, as written (NetworkManager's own default: on, 15 s): a new port forwards at
    # once. NetworkManager leaves the kernel's forward_delay where STP is off (the kernel
    # uses it only with STP), so sysfs keeps 1500 there whatever the profile says.
    for bridge in ("br0", "br1"):
        stp = on(lab_dir, "hv01", f"cat /sys/class/net/{bridge}/bridge/stp_state").stdout
        assert stp.strip() == "0", (bridge, stp)
        assert new_port_state(lab_dir, "hv01", bridge) == FORWARDING

    code, output = run(NETWORK, inv, tmp_path)

    assert code == 0, output
    assert "no network file changed: not restarted" in output


def test_stp_on_with_a_forward_delay_and_the_inventory_s_dns_are_honoured(
    lab_dir: Path, tmp_path: Path
) -> None:
    dns = {"servers": ["198.18.0.54", str(gateway6(INNER_NET6).ip)], "search": ["set.example"]}
    inv = two_bridges(lab_dir, tmp_path, "hv02", stp=True, delay=4, dns=dns,
                      ipv6addr=str(address6(INNER_NET6, 2)))  # fmt: skip

    code, output = run(NETWORK, inv, tmp_path)

    assert code == 2, output
    # The inventory's DNS, each family's server in its own, and not the host's old one.
    assert "carried" not in output, output
    said = on(lab_dir, "hv02", "nmcli --escape no -g IP4.DNS,IP6.DNS device show br0").stdout
    assert said.split() == dns["servers"], said
    search = on(lab_dir, "hv02", "nmcli -g ipv4.dns-search connection show br0").stdout
    assert search.split() == ["set.example"], search
    # The kernel's STP (1) with a 4 s forward delay (sysfs: hundredths of a second): a new
    # port listens first; br1 keeps the inventory's default, STP off: it forwards at once.
    sysfs = on(lab_dir, "hv02", "cat /sys/class/net/br0/bridge/{stp_state,forward_delay}")
    assert sysfs.stdout.split() == ["1", "400"], sysfs.stdout
    assert new_port_state(lab_dir, "hv02", "br0") in (LISTENING, LEARNING)
    assert on(lab_dir, "hv02", "cat /sys/class/net/br1/bridge/stp_state").stdout.strip() == "0"
    assert new_port_state(lab_dir, "hv02", "br1") == FORWARDING


def test_the_ipv6_address_and_default_route_the_host_had_are_kept_on_the_bridge(
    lab_dir: Path, tmp_path: Path
) -> None:
    # hv03's eth0 has a static IPv6 address and gateway, as an operator set them; the
    # inventory says nothing of IPv6.
    mine, gateway = address6(INNER_NET6, 3), gateway6(INNER_NET6).ip
    set_v6 = on(
        lab_dir, "hv03",
        f"nmcli connection modify eth0 ipv6.method manual ipv6.addresses {mine}"
        f" ipv6.gateway {gateway} && nmcli connection up eth0",
    )  # fmt: skip
    assert set_v6.exit_status == 0, set_v6.stdout + set_v6.stderr
    assert f"inet6 {mine}" in on(lab_dir, "hv03", "ip -6 -o addr show dev eth0").stdout
    inv = inventory(lab_dir, tmp_path, "hv03")

    code, output = run(NETWORK, inv, tmp_path)

    assert code == 2, output
    assert f"IPv6 (manual {mine}) carried to br0's profile from eth0's" in output
    assert f"inet6 {mine} scope global" in on(lab_dir, "hv03", "ip -6 -o addr show dev br0").stdout
    route = on(lab_dir, "hv03", "ip -6 route show default").stdout
    assert f"default via {gateway} dev br0" in route, route
    ping6 = on(lab_dir, "hv03", f"ping -6 -c 1 -W 5 {gateway}")
    assert ping6.exit_status == 0, ping6.stdout + ping6.stderr

    code, output = run(NETWORK, inv, tmp_path)

    assert code == 0, output
    assert "no network file changed: not restarted" in output


def test_a_host_cut_off_with_two_bridges_gets_both_chains_reverted(
    lab_dir: Path, tmp_path: Path
) -> None:
    # br0 takes another address of its subnet: the controller never gets back in.
    inv = two_bridges(lab_dir, tmp_path, "hv04", ipaddr="198.18.129.204")
    address = Lab(lab_dir).require_state().hosts["hv04"].address

    code, output = run(runbook_with_timeout(tmp_path / "net.yaml", 20), inv, tmp_path)

    assert code == 8, output
    assert "== hv04: rolled back" in output
    reason = host_report(tmp_path, "hv04")["rollback"]["reason"]  # type: ignore[index]
    assert reason.startswith("could not reconnect and verify in time: "), reason
    # Both chains gone: the host as it was, eth0 on its own profile, eth1 on none.
    assert f"inet {address}/17" in on(lab_dir, "hv04", "ip -4 -o addr show dev eth0").stdout
    assert "dev eth0" in on(lab_dir, "hv04", "ip -4 route show default").stdout
    for bridge in ("br0", "br1"):
        assert not on(lab_dir, "hv04", f"ip link show {bridge}").ok
    assert "master" not in on(lab_dir, "hv04", "ip -o link show eth1").stdout
    listed = on(lab_dir, "hv04", "ls /etc/NetworkManager/system-connections").stdout
    assert listed.split() == ["eth0.nmconnection"], listed
    devices = on(lab_dir, "hv04", "nmcli -t -f DEVICE,STATE,CONNECTION device").stdout
    assert {"eth0:connected:eth0", "eth1:disconnected:"} <= set(devices.split()), devices
