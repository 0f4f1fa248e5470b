"""An el6 hypervisor with two NICs, through the jump host and the CLI (issue 16, this
machine's kernel): two bridges on two NICs (br0 on eth0 with the address and the default
route, br1 on eth1 on the data switch), MTU 9000 end to end across br1, STP on br0 with a
forward delay the kernel honours, and what the host had on eth0 kept through the rollout:
its IPv6 address and IPv6 default route (now on br0) and /etc/resolv.conf; then a bond,
which this kernel cannot make: the rollout fails with initscripts' own words and the host
reverts to what it had."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.topology import CONTROLLER_DATA_ADDR, address6, data_address, gateway6, plan

from .platform_lab import inventory, on, run
from .rollout_support import PROJECT, cli, edit_yaml

NETWORK = PROJECT / "runbooks" / "bridge-network.yaml"
SCRIPTS = "/etc/sysconfig/network-scripts"
HV = "hv01"
TOPOLOGY = plan(1, direct=False, platforms=["el6"], nics=2)
(HOST,) = (host for host in TOPOLOGY.hosts if host.name == HV)
assert HOST.net6 is not None
V6 = address6(HOST.net6, HOST.index)
V6_GATEWAY = gateway6(HOST.net6).ip
DATA = data_address(HOST.index)
# Loopback resolvers: ifup-post writes them to resolv.conf, and nothing leaves the host.
DNS = 'DNS1=127.0.0.1\nDNS2=127.0.0.2\nDOMAIN="lab.test"\n'
IPV6 = f"IPV6INIT=yes\nIPV6ADDR={V6}\nIPV6_DEFAULTGW={V6_GATEWAY}\n"


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("el6-topology") / "lab"
    up = cli("--lab-dir", str(directory), "lab", "up", "--platform", "el6", "--hosts", "1",
             "--nics", "2", "--no-libvirt")  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield directory
    finally:
        down = cli("--lab-dir", str(directory), "lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr


def two_bridges(lab_dir: Path, tmp_path: Path) -> Path:
    """The lab's inventory for hv01, with br0 (STP on, forward delay 2 s) and br1 on eth1."""
    (_, eth1_mac, _) = Lab(lab_dir).require_state().hosts[HV].nics[1]
    inv = inventory(lab_dir, tmp_path, HV)

    def change(hosts: dict[str, dict[str, dict[str, dict[str, object]]]]) -> None:
        data = hosts[HV]["data"]
        data["nics"]["eth1"] = {"hwaddr": eth1_mac.upper(), "mtu": 9000}
        data["bridges"]["br0"].update(stp=True, delay=2)
        data["bridges"]["br1"] = {
            "ports": ["eth1"], "bootproto": "static", "ipaddr": str(DATA.ip),
            "prefix": DATA.network.prefixlen, "defroute": False, "mtu": 9000,
        }  # fmt: skip

    edit_yaml(inv / "hosts.yaml", change)
    return inv


def test_two_bridges_on_two_nics_mtu_9000_stp_and_ipv6_and_dns_kept(
    lab_dir: Path, tmp_path: Path
) -> None:
    # What the host has before hvbridge: eth0 with IPv6 and DNS servers in its file.
    assert on(lab_dir, HV, f"printf %s '{DNS}{IPV6}' >> {SCRIPTS}/ifcfg-eth0").ok
    restart = on(lab_dir, HV, "service network restart")
    assert restart.exit_status == 0, restart.stdout + restart.stderr
    resolv = on(lab_dir, HV, "cat /etc/resolv.conf").stdout
    assert "nameserver 127.0.0.2\n" in resolv and "search lab.test\n" in resolv, resolv
    assert str(V6) in on(lab_dir, HV, "ip -6 -o addr show dev eth0").stdout

    code, output = run(NETWORK, two_bridges(lab_dir, tmp_path), tmp_path)

    assert code == 2, output
    assert "kept DNS1, DNS2, DOMAIN of ifcfg-eth0 in ifcfg-br0" in output, output
    # Checked apart from hvbridge: bridge-utils and iproute2 on the host.
    brctl = on(lab_dir, HV, "brctl show").stdout
    ports = {line.split()[0]: line.split()[2:] for line in brctl.splitlines()[1:]}
    assert ports == {"br0": ["yes", "eth0"], "br1": ["no", "eth1"]}, brctl
    assert "dev br0" in on(lab_dir, HV, "ip -4 route show default").stdout
    assert f"inet {DATA}" in on(lab_dir, HV, "ip -4 -o addr show dev br1").stdout
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
    assert str(V6) in on(lab_dir, HV, "ip -6 -o addr show dev br0").stdout
    assert str(V6) not in on(lab_dir, HV, "ip -6 -o addr show dev eth0").stdout
    route6 = on(lab_dir, HV, "ip -6 route show default").stdout
    assert f"default via {V6_GATEWAY} dev br0" in route6, route6
    # DNS: resolv.conf as it was, its servers now in br0's file.
    assert on(lab_dir, HV, "cat /etc/resolv.conf").stdout == resolv
    br0 = on(lab_dir, HV, f"cat {SCRIPTS}/ifcfg-br0").stdout
    assert "DNS2=127.0.0.2\n" in br0 and f"IPV6ADDR={V6}\n" in br0, br0

    # A rerun changes nothing, and restarts nothing.
    again = tmp_path / "rerun"
    again.mkdir()
    code, output = run(NETWORK, two_bridges(lab_dir, again), again)
    assert code == 0, output
    assert "all files already as rendered" in output, output
    assert "no network file changed: not restarted" in output, output


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
