"""el6 hypervisors with two NICs, through the jump host and the CLI (issue 16, this
machine's kernel): two bridges on two NICs (br0 on eth0 with the address and the default
route, br1 on eth1 on the data switch), MTU 9000 end to end across br1, STP on br0 with a
forward delay the kernel honours, and what the host had on eth0 kept through the rollout:
its IPv6 address and IPv6 default route (now on br0) and /etc/resolv.conf; the same change
cut off reverts the whole of it (the second NIC's new files gone, IPv6 and resolv.conf as
they were); a bond and a VLAN this kernel cannot make fail with initscripts' own words."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from ipaddress import IPv6Interface
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.topology import CONTROLLER_DATA_ADDR, address6, data_address, gateway6, plan

from .platform_lab import host_report, inventory, on, run
from .rollout_support import PROJECT, cli, edit_yaml, runbook_with_timeout

NETWORK = PROJECT / "runbooks" / "bridge-network.yaml"
SCRIPTS = "/etc/sysconfig/network-scripts"
HV = "hv01"
TOPOLOGY = plan(2, direct=False, platforms=["el6", "el6"], nics=2)
HOSTS = {host.name: host for host in TOPOLOGY.hosts}
# Loopback resolvers: ifup-post writes them to resolv.conf, and nothing leaves the host.
DNS = 'DNS1=127.0.0.1\nDNS2=127.0.0.2\nDOMAIN="lab.test"\n'


def v6(host: str) -> tuple[IPv6Interface, str]:
    """The IPv6 address a test gives the host on its management switch, and its gateway."""
    net6 = HOSTS[host].net6
    assert net6 is not None
    return address6(net6, HOSTS[host].index), str(gateway6(net6).ip)


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("el6-topology") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el6", "--hosts", "2",
             "--nics", "2", "--no-libvirt")  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def with_ipv6_and_dns(lab_dir: Path, host: str) -> str:
    """What the host has before hvbridge: eth0 with IPv6 and DNS servers in its file,
    applied; returns resolv.conf as initscripts wrote it."""
    address, gateway = v6(host)
    lines = f"{DNS}IPV6INIT=yes\nIPV6ADDR={address}\nIPV6_DEFAULTGW={gateway}\n"
    assert on(lab_dir, host, f"printf %s '{lines}' >> {SCRIPTS}/ifcfg-eth0").ok
    restart = on(lab_dir, host, "service network restart")
    assert restart.exit_status == 0, restart.stdout + restart.stderr
    resolv = on(lab_dir, host, "cat /etc/resolv.conf").stdout
    assert "nameserver 127.0.0.2\n" in resolv and "search lab.test\n" in resolv, resolv
    assert str(address) in on(lab_dir, host, "ip -6 -o addr show dev eth0").stdout
    return resolv


def two_bridges(lab_dir: Path, tmp_path: Path, host: str, **br0: object) -> Path:
    """The lab's inventory for `host` alone, with br0 (STP on, forward delay 2 s, `br0`'s
    changes) and br1 on eth1."""
    (_, eth1_mac, _) = Lab(lab_dir).require_state().hosts[host].nics[1]
    data_ip = data_address(HOSTS[host].index)
    inv = inventory(lab_dir, tmp_path, host)

    def change(hosts: dict[str, dict[str, dict[str, dict[str, object]]]]) -> None:
        data = hosts[host]["data"]
        data["nics"]["eth1"] = {"hwaddr": eth1_mac.upper(), "mtu": 9000}
        data["bridges"]["br0"].update(stp=True, delay=2, **br0)
        data["bridges"]["br1"] = {
            "ports": ["eth1"], "bootproto": "static", "ipaddr": str(data_ip.ip),
            "prefix": data_ip.network.prefixlen, "defroute": False, "mtu": 9000,
        }  # fmt: skip

    edit_yaml(inv / "hosts.yaml", change)
    return inv


def test_two_bridges_on_two_nics_mtu_9000_stp_and_ipv6_and_dns_kept(
    lab_dir: Path, tmp_path: Path
) -> None:
    resolv = with_ipv6_and_dns(lab_dir, HV)
    address6_, gateway6_ = v6(HV)
    data_ip = data_address(HOSTS[HV].index)

    code, output = run(NETWORK, two_bridges(lab_dir, tmp_path, HV), tmp_path)

    assert code == 2, output
    assert "kept DNS1, DNS2, DOMAIN of ifcfg-eth0 in ifcfg-br0" in output, output
    # Checked apart from hvbridge: bridge-utils and iproute2 on the host.
    brctl = on(lab_dir, HV, "brctl show").stdout
    ports = {line.split()[0]: line.split()[2:] for line in brctl.splitlines()[1:]}
    assert ports == {"br0": ["yes", "eth0"], "br1": ["no", "eth1"]}, brctl
    assert "dev br0" in on(lab_dir, HV, "ip -4 route show default").stdout
    assert f"inet {data_ip}" in on(lab_dir, HV, "ip -4 -o addr show dev br1").stdout
    # MTU 9000 end to end: a full jumbo frame crosses br1 unfragmented to the data switch.
    for device in ("eth1", "br1"):
        link = json.loads(on(lab_dir, HV, f"ip -j link show {device}").stdout)[0]
        assert link["mtu"] == 9000, link
    jumbo = on(lab_dir, HV, f"ping -c 1 -W 5 -M do -s 8972 {CONTROLLER_DATA_ADDR}")
    assert jumbo.exit_status == 0, jumbo.stdout + jumbo.stderr
    # STP on, its forward delay (in hundredths of a second) as the inventory says.
    assert on(lab_dir, HV, "cat /sys/class/net/br0/bridge/stp_state").stdout.strip() == "1"
    assert on(lab_dir, HV, "cat /sys/class/net/br0/bridge/forward_delay").stdout.strip() == "200"
    # IPv6: the address and default route eth0 had, now br0's.
    assert str(address6_) in on(lab_dir, HV, "ip -6 -o addr show dev br0").stdout
    assert str(address6_) not in on(lab_dir, HV, "ip -6 -o addr show dev eth0").stdout
    route6 = on(lab_dir, HV, "ip -6 route show default").stdout
    assert f"default via {gateway6_} dev br0" in route6, route6
    # DNS: resolv.conf as it was, its servers now in br0's file.
    assert on(lab_dir, HV, "cat /etc/resolv.conf").stdout == resolv
    br0 = on(lab_dir, HV, f"cat {SCRIPTS}/ifcfg-br0").stdout
    assert "DNS2=127.0.0.2\n" in br0 and f"IPV6ADDR={address6_}\n" in br0, br0

    # A rerun changes nothing, and restarts nothing.
    again = tmp_path / "rerun"
    again.mkdir()
    code, output = run(NETWORK, two_bridges(lab_dir, again, HV), again)
    assert code == 0, output
    assert "all files already as rendered" in output, output
    assert "no network file changed: not restarted" in output, output


def test_two_bridges_cut_off_revert_the_second_nic_and_ipv6_and_dns_as_they_were(
    lab_dir: Path, tmp_path: Path
) -> None:
    host = "hv02"
    resolv = with_ipv6_and_dns(lab_dir, host)
    eth0 = on(lab_dir, host, f"cat {SCRIPTS}/ifcfg-eth0").stdout
    address6_, gateway6_ = v6(host)
    # br0 takes another address of its subnet: the controller, which connects to the old
    # one, never gets back in.
    inv = two_bridges(lab_dir, tmp_path, host, ipaddr="198.18.129.201")

    code, output = run(runbook_with_timeout(tmp_path / "net.yaml", 20), inv, tmp_path)

    assert code == 8, output
    assert f"== {host}: rolled back" in output, output
    reason = host_report(tmp_path, host)["rollback"]["reason"]  # type: ignore[index]
    assert reason.startswith("could not reconnect and verify in time: "), reason
    # The whole of it as it was: eth0's file and addresses, no bridge, eth1's files gone.
    address = Lab(lab_dir).require_state().hosts[host].address
    assert f"inet {address}/17" in on(lab_dir, host, "ip -4 -o addr show dev eth0").stdout
    assert str(address6_) in on(lab_dir, host, "ip -6 -o addr show dev eth0").stdout
    route6 = on(lab_dir, host, "ip -6 route show default").stdout
    assert f"default via {gateway6_} dev eth0" in route6, route6
    for bridge in ("br0", "br1"):
        assert not on(lab_dir, host, f"ip link show {bridge}").ok
    assert on(lab_dir, host, f"cat {SCRIPTS}/ifcfg-eth0").stdout == eth0
    assert on(lab_dir, host, f"ls {SCRIPTS}").stdout.split() == ["ifcfg-eth0"]
    assert on(lab_dir, host, "cat /etc/resolv.conf").stdout == resolv
    revert_log = on(lab_dir, host, "cat /var/lib/hvbridge/runs/*/revert.log").stdout
    assert f"removed {SCRIPTS}/ifcfg-eth1" in revert_log, revert_log
    assert f"restored {SCRIPTS}/ifcfg-eth0" in revert_log, revert_log


def test_a_bond_and_a_vlan_this_kernel_cannot_make_fail_with_initscripts_words(
    lab_dir: Path,
) -> None:
    # This machine's kernel has neither bonding nor 802.1Q: `service network` says so as
    # EL6's initscripts do, fails, and brings up everything else.
    (_, eth1_mac, _) = Lab(lab_dir).require_state().hosts[HV].nics[1]
    files = {
        "bond9": 'DEVICE=bond9\nBONDING_OPTS="mode=active-backup miimon=100"\nONBOOT=yes\n',
        "eth1": f"DEVICE=eth1\nHWADDR={eth1_mac.upper()}\nMASTER=bond9\nSLAVE=yes\n",
        "eth1.100": "DEVICE=eth1.100\nVLAN=yes\nONBOOT=yes\n",
    }
    before = {name: on(lab_dir, HV, f"cat {SCRIPTS}/ifcfg-{name}") for name in files}
    try:
        for name, text in files.items():
            assert on(lab_dir, HV, f"printf %s '{text}' > {SCRIPTS}/ifcfg-{name}").ok
        start = on(lab_dir, HV, "service network start")
        assert start.exit_status == 1, start.stdout + start.stderr
        said = start.stdout
        assert (
            "Device bond9 does not seem to be present, delaying initialization.\n"
            "Bringing up interface bond9:  [FAILED]\n" in said
        ), said
        assert (
            "ERROR: could not add vlan 100 as eth1.100 on dev eth1\n"
            "Bringing up interface eth1.100:  [FAILED]\n" in said
        ), said
        assert "Bringing up interface eth0:  [  OK  ]" in said, said
        assert not on(lab_dir, HV, "ip link show bond9").ok
    finally:
        for name in files:
            old = before[name]
            restore = (
                f"printf %s {shlex.quote(old.stdout)} > {SCRIPTS}/ifcfg-{name}"
                if old.ok
                else f"rm -f {SCRIPTS}/ifcfg-{name}"
            )
            assert on(lab_dir, HV, restore).ok
