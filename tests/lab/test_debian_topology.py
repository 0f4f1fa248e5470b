"""debian hosts with two NICs (`lab up --nics 2`) and the real ifupdown, through the CLI:
two bridges on two NICs, each its own chain: br0 on eth0 with the management address, an
IPv6 static address and default route; br1 on eth1 at MTU 9000 (a jumbo frame crosses it
unfragmented to the controller) with STP on and a forward delay the kernel holds the port
to; /etc/resolv.conf as it was."""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge import platforms
from hvbridge.inventory.models import HostData
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.topology import (
    CONTROLLER_DATA_ADDR,
    INNER_NET6,
    address6,
    data_address,
    gateway6,
)
from hvbridge.shipped import templates

from .platform_lab import inventory, on, platform_lab, run
from .rollout_support import PROJECT, edit_yaml

BRIDGE = PROJECT / "runbooks" / "bridge.yaml"
OURS = "/etc/network/interfaces.d/hvbridge"
DELAY = 4  # seconds of forward delay on br1


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from platform_lab(tmp_path_factory, "debian", hosts=2, nics=2)


def _until(check: object, what: str, seconds: float = 90) -> None:
    """Poll `check()` (a callable) until true; the bound only ends a hung wait."""
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(1)


def test_two_bridges_on_two_nics_jumbo_frames_ipv6_and_stp_after_the_rollout(
    lab_dir: Path, tmp_path: Path
) -> None:
    two_bridges(lab_dir, tmp_path, ("eth0", "eth1"))


def two_bridges(lab_dir: Path, tmp_path: Path, names: tuple[str, str]) -> None:
    """The rollout of br0 on the first NIC and br1 on the second (`names`, as the platform
    names them), and what the host looks like after it (test_proxmox_topology too)."""
    state = Lab(lab_dir).require_state()
    (eth0, _, _), (eth1, eth1_mac, switch) = state.hosts["hv01"].nics
    assert (eth0, eth1, switch) == (*names, "hvl-data")
    ipv6 = address6(INNER_NET6, 1)
    gateway = gateway6(INNER_NET6).ip
    inv = inventory(lab_dir, tmp_path, "hv01")

    def topology(hosts: dict[str, dict[str, dict[str, dict[str, object]]]]) -> None:
        data = hosts["hv01"]["data"]
        data["nics"][eth1] = {"hwaddr": eth1_mac.upper()}
        data["bridges"]["br0"].update(ipv6addr=str(ipv6), ipv6_gateway=str(gateway))
        data["bridges"]["br1"] = {
            "ports": [eth1], "bootproto": "static", "ipaddr": str(data_address(1).ip),
            "prefix": data_address(1).network.prefixlen, "defroute": False, "mtu": 9000,
            "stp": True, "delay": DELAY,
        }  # fmt: skip

    edit_yaml(inv / "hosts.yaml", topology)
    resolv = on(lab_dir, "hv01", "cat /etc/resolv.conf").stdout

    code, output = run(BRIDGE, inv, tmp_path)

    assert code == 2, output
    assert f"the stanza of {eth0} out of /etc/network/interfaces" in output, output
    # Two chains, each bridge holding its own NIC (bridge-utils' and the kernel's view).
    for bridge, port in (("br0", eth0), ("br1", eth1)):
        ports = on(lab_dir, "hv01", f"ls /sys/class/net/{bridge}/brif").stdout.split()
        assert ports == [port], (bridge, ports)
    ours = on(lab_dir, "hv01", f"cat {OURS}").stdout
    assert f"iface {eth1} inet manual\n    mtu 9000\n" in ours, ours
    # MTU 9000 along br1's chain, and a jumbo frame across it with fragmentation forbidden.
    for device in ("br1", eth1):
        assert on(lab_dir, "hv01", f"cat /sys/class/net/{device}/mtu").stdout.strip() == "9000"
    # STP on, the forward delay in the kernel (centiseconds), the port held back by it
    # until it forwards.
    sysfs = "/sys/class/net/br1/bridge"
    assert on(lab_dir, "hv01", f"cat {sysfs}/stp_state").stdout.strip() == "1"
    assert on(lab_dir, "hv01", f"cat {sysfs}/forward_delay").stdout.strip() == str(DELAY * 100)
    assert on(lab_dir, "hv01", "cat /sys/class/net/br0/bridge/stp_state").stdout.strip() == "0"
    port_state = f"cat /sys/class/net/br1/brif/{eth1}/state"
    _until(lambda: on(lab_dir, "hv01", port_state).stdout.strip() == "3", "br1's port forwards")
    jumbo = on(lab_dir, "hv01", f"ping -c 1 -W 5 -M do -s 8972 {CONTROLLER_DATA_ADDR}")
    assert jumbo.exit_status == 0, jumbo.stdout + jumbo.stderr
    # IPv6: the static address and the default route on br0, the gateway reachable.
    assert f"inet6 {ipv6}" in on(lab_dir, "hv01", "ip -6 -o addr show dev br0").stdout
    route = on(lab_dir, "hv01", "ip -6 route show default").stdout
    assert f"default via {gateway} dev br0" in route, route
    ping6 = on(lab_dir, "hv01", f"ping -6 -c 1 -W 5 {gateway}")
    assert ping6.exit_status == 0, ping6.stdout + ping6.stderr
    # The IPv4 default route stays on br0 (br1 has none), DNS as it was.
    assert "dev br0" in on(lab_dir, "hv01", "ip -4 route show default").stdout
    assert on(lab_dir, "hv01", "cat /etc/resolv.conf").stdout == resolv

    code, output = run(BRIDGE, inv, tmp_path)

    assert code == 0, output
    assert "no network file changed: not restarted" in output


def test_ifupdown_makes_a_dotted_vlan_itself_and_reads_the_whole_chain(lab_dir: Path) -> None:
    """Bonds and VLANs cannot be made on this kernel: the real ifupdown says what it would
    run for hvbridge's file (`--no-act`). A VLAN named PARENT.ID needs no `vlan` package."""
    data = {
        "nics": {"eth1": {"hwaddr": "02:48:56:00:00:02"}, "eth2": {"hwaddr": "02:48:56:00:00:03"}},
        "bonds": {"bond0": {"slaves": ["eth1", "eth2"], "mode": "active-backup",
                            "primary": "eth1", "mtu": 9000}},
        "vlans": {"bond0.100": {"parent": "bond0", "id": 100}},
        "bridges": {"br100": {"ports": ["bond0.100"], "bootproto": "static",
                              "ipaddr": "198.19.0.17", "prefix": 24, "defroute": False,
                              "ipv6addr": "fd48:6862:0:3::101/64", "ipv6_autoconf": False}},
    }  # fmt: skip
    model = HostData.model_validate(data, strict=False)
    (text,) = platforms.get("debian").render(templates(), model).values()
    write = f"printf %s {shlex.quote(text)} > /tmp/hvbridge-noact"
    assert on(lab_dir, "hv01", write).ok
    vlan = on(lab_dir, "hv01", "ifup --no-act -v -i /tmp/hvbridge-noact bond0.100")
    said = vlan.stdout + vlan.stderr
    assert vlan.exit_status == 0, said
    assert "ip link add link bond0 name bond0.100 type vlan id 100" in said, said
    # The parent first (its own stanza: the bond's mtu), then the VLAN on it.
    assert "ip link set dev bond0 mtu 9000" in said, said
    bridge = on(lab_dir, "hv01", "ifup --no-act -v -i /tmp/hvbridge-noact br100")
    said = bridge.stdout + bridge.stderr
    assert bridge.exit_status == 0, said
    assert "ip -6 addr add fd48:6862:0:3::101/64" in said, said
    assert "net.ipv6.conf.br100.accept_ra=0" in said, said


def test_the_port_s_ipv6_static_address_and_default_route_are_kept_on_the_bridge(
    lab_dir: Path, tmp_path: Path
) -> None:
    """The inventory says nothing of IPv6: eth0's `inet6 static` stanza becomes br0's, and
    the address and the default route move with it."""
    ipv6, gateway = address6(INNER_NET6, 2), gateway6(INNER_NET6).ip
    interfaces = "/etc/network/interfaces"
    # hv02 as if installed with a static IPv6 address: in its file, and running.
    static = f"iface eth0 inet6 static\\n\\taddress {ipv6}\\n\\tgateway {gateway}"
    prepare = (
        f"sed -i -z 's|iface eth0 inet6 auto\\n\\taccept_ra 2|{static}|' {interfaces}"
        f" && ip -6 addr add {ipv6} dev eth0 nodad && ip -6 route add default via {gateway}"
    )
    done = on(lab_dir, "hv02", prepare)
    assert done.ok, done.stderr
    assert (
        f"iface eth0 inet6 static\n\taddress {ipv6}\n"
        in on(lab_dir, "hv02", f"cat {interfaces}").stdout
    )
    resolv = on(lab_dir, "hv02", "cat /etc/resolv.conf").stdout

    code, output = run(BRIDGE, inventory(lab_dir, tmp_path, "hv02"), tmp_path)

    assert code == 2, output
    ours = on(lab_dir, "hv02", f"cat {OURS}").stdout
    assert f"iface br0 inet6 static\n    address {ipv6}\n    gateway {gateway}\n" in ours, ours
    assert f"inet6 {ipv6}" in on(lab_dir, "hv02", "ip -6 -o addr show dev br0").stdout
    assert "inet6 fd48" not in on(lab_dir, "hv02", "ip -6 -o addr show dev eth0").stdout
    route = on(lab_dir, "hv02", "ip -6 route show default").stdout
    assert f"default via {gateway} dev br0" in route, route
    ping6 = on(lab_dir, "hv02", f"ping -6 -c 1 -W 5 {gateway}")
    assert ping6.exit_status == 0, ping6.stdout + ping6.stderr
    assert on(lab_dir, "hv02", "cat /etc/resolv.conf").stdout == resolv
