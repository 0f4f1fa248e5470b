"""ubuntu hosts with two NICs (real netplan 0.106 and systemd-networkd 252), through the jump
host and the CLI: two bridges on two NICs, br0 on the management NIC with an IPv6 static
address and default route besides IPv4 and the DNS it had (the inventory says none), br1 on
the second NIC at MTU 9000 (a jumbo frame crosses it unfragmented) with STP on and a forward
delay networkd gave the kernel; a rerun changes nothing. A host cut off by its new address
reverts both bridges by itself. (This kernel has no bonds or VLANs: their netplan is proven
by unit tests against the real `netplan generate`.)"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hvbridge.lab import networkd
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.topology import CONTROLLER_DATA_ADDR, INNER_NET6, address6, data_address, gateway6

from .platform_lab import host_report, inventory, on, platform_lab, run
from .rollout_support import PROJECT, edit_yaml, runbook_with_timeout

NETWORK = PROJECT / "runbooks" / "bridge-network.yaml"
OURS = "/etc/netplan/90-hvbridge.yaml"
OLD = networkd.NETPLAN_FILE
NIC, SECOND = "enp1s0", "enp2s0"
GATEWAY6 = gateway6(INNER_NET6).ip


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from platform_lab(tmp_path_factory, "ubuntu", hosts=3, nics=2)


def two_bridges(lab_dir: Path, tmp_path: Path, *hosts: str) -> Path:
    """The lab's inventory for `hosts`, each with br1 on its second NIC (MTU 9000, STP on,
    forward delay 4 s) and br0 with an IPv6 address and gateway; DNS left to the host."""
    state = Lab(lab_dir).require_state()
    inv = inventory(lab_dir, tmp_path, *hosts)

    def edit(data: dict[str, Any]) -> None:
        for name in hosts:
            record = state.hosts[name]
            index = int(name[2:])
            mac = next(nic[1] for nic in record.nics if nic[0] == SECOND)
            host = data[name]["data"]
            host["nics"][SECOND] = {"hwaddr": mac.upper(), "mtu": 9000}
            host["bridges"]["br0"].update(
                ipv6addr=str(address6(INNER_NET6, index)), ipv6_gateway=str(GATEWAY6)
            )
            data4 = data_address(index)
            host["bridges"]["br1"] = {
                "ports": [SECOND], "bootproto": "static", "ipaddr": str(data4.ip),
                "prefix": data4.network.prefixlen, "defroute": False, "mtu": 9000, "stp": True,
                "delay": 4,
            }  # fmt: skip

    edit_yaml(inv / "hosts.yaml", edit)
    return inv


def networkd_link(lab_dir: Path, host: str, device: str) -> str:
    """networkd's own state of a device (/run/systemd/netif/links/IFINDEX): its DNS among it."""
    return on(
        lab_dir, host, f"cat /run/systemd/netif/links/$(cat /sys/class/net/{device}/ifindex)"
    ).stdout


def until(lab_dir: Path, host: str, command: str) -> str:
    """`command` on the host until it succeeds (a port STP still holds back, an address
    still tentative), at most 120 tries a second apart; its last output."""
    loop = f"for i in $(seq 120); do {command} && exit 0; sleep 1; done; exit 1"
    done = on(lab_dir, host, loop)
    assert done.ok, done.stdout + done.stderr
    return done.stdout


def test_two_bridges_on_two_nics_with_ipv6_mtu_9000_stp_and_the_dns_kept(
    lab_dir: Path, tmp_path: Path
) -> None:
    inv = two_bridges(lab_dir, tmp_path, "hv01")
    address6_ = address6(INNER_NET6, 1)
    port_state = networkd_link(lab_dir, "hv01", NIC)
    assert (
        f"DNS={networkd.NAMESERVER}" in port_state and f"DOMAINS={networkd.SEARCH}" in port_state
    ), port_state
    assert not on(lab_dir, "hv01", f"ip link show {SECOND} | grep -q master").ok

    code, output = run(NETWORK, inv, tmp_path)

    assert code == 2, output
    assert "== hv01: changed" in output, output
    for bridge, port, stp in (("br0", NIC, "no"), ("br1", SECOND, "yes")):
        brctl = on(lab_dir, "hv01", f"brctl show {bridge}").stdout
        assert brctl.splitlines()[1].split()[2:] == [stp, port], brctl
    # IPv6: the static address on br0 and the default route through it, to a gateway that
    # answers.
    assert str(address6_) in on(lab_dir, "hv01", "ip -6 -o addr show dev br0").stdout
    route6 = on(lab_dir, "hv01", "ip -6 route show default").stdout
    assert f"default via {GATEWAY6} dev br0" in route6, route6
    until(lab_dir, "hv01", f"ping -6 -c 1 -W 1 {GATEWAY6} >/dev/null")
    # The DNS cloud-init's file gave the NIC: networkd now has it on br0.
    bridge_state = networkd_link(lab_dir, "hv01", "br0")
    assert f"DNS={networkd.NAMESERVER}" in bridge_state, bridge_state
    assert f"DOMAINS={networkd.SEARCH}" in bridge_state, bridge_state
    # br1: MTU 9000 down to the NIC, STP on with the forward delay (sysfs: centiseconds).
    for device in ("br1", SECOND):
        assert on(lab_dir, "hv01", f"cat /sys/class/net/{device}/mtu").stdout.strip() == "9000"
    sysfs = "/sys/class/net/br1/bridge"
    assert on(lab_dir, "hv01", f"cat {sysfs}/stp_state").stdout.strip() == "1"
    assert on(lab_dir, "hv01", f"cat {sysfs}/forward_delay").stdout.strip() == "400"
    # STP lets the port forward only after listening and learning; then a jumbo frame
    # crosses br1 to the data switch unfragmented, and one byte more does not fit.
    until(lab_dir, "hv01", f"[ $(cat /sys/class/net/br1/brif/{SECOND}/state) = 3 ]")
    until(lab_dir, "hv01", f"ping -c 1 -W 1 -M do -s 8972 {CONTROLLER_DATA_ADDR} >/dev/null")
    over = on(lab_dir, "hv01", f"ping -c 1 -W 2 -M do -s 8973 {CONTROLLER_DATA_ADDR}")
    assert not over.ok and "message too long" in (over.stdout + over.stderr).lower()

    code, output = run(NETWORK, inv, tmp_path)

    assert code == 0, output
    assert "all files already as rendered" in output
    assert "no network file changed: not restarted" in output


def test_a_two_bridge_host_cut_off_by_its_new_address_reverts_both_bridges(
    lab_dir: Path, tmp_path: Path
) -> None:
    state = Lab(lab_dir).require_state()
    inv = two_bridges(lab_dir, tmp_path, "hv02")
    edit_yaml(
        inv / "hosts.yaml",
        lambda hosts: hosts["hv02"]["data"]["bridges"]["br0"].update(ipaddr="198.18.129.200"),
    )
    before = on(lab_dir, "hv02", f"cat {OLD}").stdout

    code, output = run(runbook_with_timeout(tmp_path / "net.yaml", 20), inv, tmp_path)

    assert code == 8, output
    assert "== hv02: rolled back" in output, output
    reason = host_report(tmp_path, "hv02")["rollback"]["reason"]  # type: ignore[index]
    assert reason.startswith("could not reconnect and verify in time: "), reason
    address = state.hosts["hv02"].address
    assert f"inet {address}/17" in on(lab_dir, "hv02", f"ip -4 -o addr show dev {NIC}").stdout
    for bridge in ("br0", "br1"):
        assert not on(lab_dir, "hv02", f"ip link show {bridge}").ok, bridge
    assert "master" not in on(lab_dir, "hv02", f"ip -o link show {SECOND}").stdout
    assert on(lab_dir, "hv02", f"cat {OLD}").stdout == before
    assert not on(lab_dir, "hv02", f"test -e {OURS}").ok


def test_the_ipv6_address_and_default_route_the_nic_had_are_kept_on_br0(
    lab_dir: Path, tmp_path: Path
) -> None:
    # cloud-init's file with a static IPv6 address and default route on the NIC, live.
    address6_ = address6(INNER_NET6, 3)
    old = on(lab_dir, "hv03", f"cat {OLD}").stdout
    ipv6 = old.replace("]\n", f', "{address6_}"]\n', 1).replace(
        "      routes:\n", f'      routes:\n        - to: default\n          via: "{GATEWAY6}"\n'
    )
    assert ipv6 != old and str(address6_) in ipv6, ipv6
    applied = on(lab_dir, "hv03", f"printf %s {shlex.quote(ipv6)} > {OLD} && netplan apply")
    assert applied.ok, applied.stdout + applied.stderr
    route6 = on(lab_dir, "hv03", "ip -6 route show default").stdout
    assert f"default via {GATEWAY6} dev {NIC}" in route6, route6
    # The inventory says nothing of IPv6: what the NIC had goes to br0.
    inv = inventory(lab_dir, tmp_path, "hv03")

    code, output = run(NETWORK, inv, tmp_path)

    assert code == 2, output
    assert str(address6_) in on(lab_dir, "hv03", "ip -6 -o addr show dev br0").stdout
    assert str(address6_) not in on(lab_dir, "hv03", f"ip -6 -o addr show dev {NIC}").stdout
    route6 = on(lab_dir, "hv03", "ip -6 route show default").stdout
    assert f"default via {GATEWAY6} dev br0" in route6, route6
    until(lab_dir, "hv03", f"ping -6 -c 1 -W 1 {GATEWAY6} >/dev/null")
    ours = on(lab_dir, "hv03", f"cat {OURS}").stdout
    assert f'"{address6_}"' in ours and f'"via": "{GATEWAY6}"' in ours, ours
