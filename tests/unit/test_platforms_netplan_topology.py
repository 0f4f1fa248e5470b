"""hvbridge.platforms ubuntu (netplan for systemd-networkd) on real topologies: bonds, VLANs,
several bridges, MTU, IPv6 and DNS rendered exactly; the old definitions of every device of
a bridge's chain taken over, their DNS and IPv6 carried to that bridge alone and only where
the inventory says nothing; which NICs the platform refuses. Pure, no network."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from hvbridge import platforms
from hvbridge.inventory.models import HASHED_MODES, PRIMARY_MODES, BondMode, HostData
from hvbridge.platforms.interfaces import MARK as DUMP_MARK
from hvbridge.platforms.netplan import MARK, OWN_FILE

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
UBUNTU = platforms.get("ubuntu")
OLD = "/etc/netplan/50-cloud-init.yaml"
MAC1, MAC2 = "02:48:56:00:00:01", "02:48:56:00:00:02"


def host(**data: Any) -> HostData:
    return HostData.model_validate({"platform": "ubuntu", **data})


def nics(*names: str, **mtus: int) -> dict[str, dict[str, Any]]:
    return {
        name: {"hwaddr": f"02:48:56:00:00:{n:02x}", **({"mtu": mtus[name]} if name in mtus else {})}
        for n, name in enumerate(names, 1)
    }


def rendered(model: HostData) -> str:
    files = UBUNTU.render(TEMPLATES, model)
    assert list(files) == [OWN_FILE]
    return files[OWN_FILE]


def output(files: dict[str, str]) -> str:
    dump = "".join(f"{DUMP_MARK} file {p}\n{t}\n{DUMP_MARK} end\n" for p, t in files.items())
    return f"netplan.io 0.106-2+deb12u1\nactive\n{MARK}\n{dump}"


# An 802.3ad bond of two NICs at MTU 9000, a VLAN on it, a bridge on the VLAN with STP on.
LACP = host(
    nics=nics("enp1s0", "enp2s0"),
    bonds={
        "bond0": {
            "slaves": ["enp1s0", "enp2s0"],
            "mode": "802.3ad",
            "miimon": 100,
            "lacp_rate": "fast",
            "xmit_hash_policy": "layer3+4",
            "mtu": 9000,
        }
    },
    vlans={"bond0.100": {"parent": "bond0", "id": 100, "mtu": 9000}},
    bridges={
        "br100": {
            "ports": ["bond0.100"],
            "bootproto": "static",
            "ipaddr": "198.18.129.1",
            "prefix": 17,
            "gateway": "198.18.128.1",
            "mtu": 9000,
            "stp": True,
            "delay": 4,
        }
    },
)
LACP_FILE = """\
# Written by hvbridge: edit the inventory, not this file.
network:
  version: 2
  renderer: networkd
  ethernets:
    enp1s0:
      dhcp4: false
      mtu: 9000
    enp2s0:
      dhcp4: false
      mtu: 9000
  bonds:
    bond0:
      interfaces: [enp1s0, enp2s0]
      macaddress: "02:48:56:00:00:01"
      mtu: 9000
      dhcp4: false
      parameters:
        mode: "802.3ad"
        mii-monitor-interval: 100
        lacp-rate: "fast"
        transmit-hash-policy: "layer3+4"
  vlans:
    bond0.100:
      id: 100
      link: bond0
      macaddress: "02:48:56:00:00:01"
      mtu: 9000
      dhcp4: false
  bridges:
    br100:
      interfaces: [bond0.100]
      macaddress: "02:48:56:00:00:01"
      mtu: 9000
      dhcp4: false
      addresses: ["198.18.129.1/17"]
      routes:
        - to: default
          via: "198.18.128.1"
      parameters:
        stp: true
        forward-delay: 4
"""


def test_a_bridge_on_a_vlan_on_an_802_3ad_bond_is_rendered_down_the_chain() -> None:
    assert rendered(LACP) == LACP_FILE


def test_an_active_backup_bond_says_its_primary_and_its_slaves_take_its_mtu() -> None:
    model = host(
        # enp2s0 says nothing of its MTU: as its bond's slave it gets the bond's.
        nics=nics("enp1s0", "enp2s0", enp1s0=9000),
        bonds={"bond0": {"slaves": ["enp2s0", "enp1s0"], "primary": "enp1s0", "mtu": 9000}},
        bridges={"br0": {"ports": ["bond0"], "bootproto": "dhcp"}},
    )
    assert rendered(model) == (
        "# Written by hvbridge: edit the inventory, not this file.\n"
        "network:\n  version: 2\n  renderer: networkd\n"
        "  ethernets:\n"
        "    enp1s0:\n      dhcp4: false\n      mtu: 9000\n"
        "    enp2s0:\n      dhcp4: false\n      mtu: 9000\n"
        "  bonds:\n"
        "    bond0:\n"
        "      interfaces: [enp2s0, enp1s0]\n"
        # The kernel's bond takes its first slave's MAC; networkd would make one up.
        f'      macaddress: "{MAC2}"\n'
        "      mtu: 9000\n      dhcp4: false\n"
        "      parameters:\n"
        '        mode: "active-backup"\n'
        "        mii-monitor-interval: 100\n"
        "        primary: enp1s0\n"
        "  bridges:\n"
        "    br0:\n"
        "      interfaces: [bond0]\n"
        f'      macaddress: "{MAC2}"\n'
        "      dhcp4: true\n"
        "      parameters:\n        stp: false\n        forward-delay: 0\n"
    )


# Two bridges on two NICs: br0 (management, IPv4 and IPv6 static, default routes of both,
# DNS set) and br1 (storage, MTU 9000, no gateway, RAs refused).
TWO = host(
    nics=nics("enp1s0", "enp2s0", enp2s0=9000),
    bridges={
        "br0": {
            "ports": ["enp1s0"],
            "bootproto": "static",
            "ipaddr": "198.18.129.1",
            "prefix": 17,
            "gateway": "198.18.128.1",
            "ipv6addr": "fd48:6862:0:2::11/64",
            "ipv6_gateway": "fd48:6862:0:2::1",
            "ipv6_autoconf": True,
            "dns": {"servers": ["198.18.0.53", "fd48:6862:0:2::53"], "search": ["lab.example"]},
        },
        "br1": {
            "ports": ["enp2s0"],
            "bootproto": "static",
            "ipaddr": "198.19.0.11",
            "prefix": 24,
            "mtu": 9000,
            "stp": True,
            "delay": 2,
            "ipv6_autoconf": False,
        },
    },
)
TWO_FILE = """\
# Written by hvbridge: edit the inventory, not this file.
network:
  version: 2
  renderer: networkd
  ethernets:
    enp1s0:
      dhcp4: false
    enp2s0:
      dhcp4: false
      mtu: 9000
  bridges:
    br0:
      interfaces: [enp1s0]
      macaddress: "02:48:56:00:00:01"
      dhcp4: false
      addresses: ["198.18.129.1/17", "fd48:6862:0:2::11/64"]
      routes:
        - to: default
          via: "198.18.128.1"
        - to: default
          via: "fd48:6862:0:2::1"
      accept-ra: true
      nameservers:
        addresses: ["198.18.0.53", "fd48:6862:0:2::53"]
        search: ["lab.example"]
      parameters:
        stp: false
        forward-delay: 0
    br1:
      interfaces: [enp2s0]
      macaddress: "02:48:56:00:00:02"
      mtu: 9000
      dhcp4: false
      addresses: ["198.19.0.11/24"]
      accept-ra: false
      parameters:
        stp: true
        forward-delay: 2
"""


def test_two_bridges_on_two_nics_with_ipv6_dns_and_mtu_are_two_independent_chains() -> None:
    assert rendered(TWO) == TWO_FILE


def test_a_dhcp_bridge_with_a_static_ipv6_address_and_an_empty_search_list() -> None:
    model = host(
        nics=nics("enp1s0"),
        bridges={
            "br0": {
                "ports": ["enp1s0"],
                "bootproto": "dhcp",
                "ipv6addr": "2001:db8::10/64",
                "dns": {"servers": ["2001:db8::53"]},
            }
        },
    )
    bridge = rendered(model).split("    br0:\n")[1]
    assert bridge == (
        "      interfaces: [enp1s0]\n"
        f'      macaddress: "{MAC1}"\n'
        "      dhcp4: true\n"
        '      addresses: ["2001:db8::10/64"]\n'
        "      nameservers:\n"
        '        addresses: ["2001:db8::53"]\n'
        "        search: []\n"
        "      parameters:\n        stp: false\n        forward-delay: 0\n"
    )


CLOUD_INIT = """\
network:
  version: 2
  ethernets:
    enp1s0:
      addresses: [198.18.129.1/17, "2001:db8::10/64"]
      routes:
        - to: default
          via: 198.18.128.1
      nameservers:
        addresses: [198.18.0.53]
        search: [lab.example]
"""


def test_what_the_inventory_says_of_dns_and_ipv6_is_not_mixed_with_the_old_port_s() -> None:
    found = UBUNTU.preflight("hv01", output({OLD: CLOUD_INIT}), {OWN_FILE: TWO_FILE}, {})
    assert (found.problems, found.displaced) == ((), (OLD,))
    assert dict(found.rewritten) == {}
    # A rerun reads our own file back: nothing of it is carried twice.
    again = UBUNTU.preflight("hv01", output({OWN_FILE: TWO_FILE}), {OWN_FILE: TWO_FILE}, {})
    assert (again.problems, again.displaced, dict(again.rewritten)) == ((), (), {})


def test_old_dns_and_ipv6_go_to_the_bridge_above_them_a_wildcard_s_to_both() -> None:
    model = host(
        nics=nics("enp1s0", "enp2s0"),
        bridges={
            "br0": {"ports": ["enp1s0"], "bootproto": "static", "ipaddr": "198.18.129.1",
                    "prefix": 17, "gateway": "198.18.128.1"},
            "br1": {"ports": ["enp2s0"], "bootproto": "static", "ipaddr": "198.19.0.11",
                    "prefix": 24},
        },
    )  # fmt: skip
    ours = rendered(model)
    found = UBUNTU.preflight("hv01", output({OLD: CLOUD_INIT}), {OWN_FILE: ours}, {})
    assert (found.problems, found.displaced) == ((), (OLD,))
    assert dict(found.rewritten) == {
        OWN_FILE: ours.replace(
            "    br0:\n",
            "    br0:\n"
            "      accept-ra: true\n"
            '      nameservers:\n        addresses: ["198.18.0.53"]\n'
            '        search: ["lab.example"]\n',
        ).replace('"198.18.129.1/17"]', '"198.18.129.1/17", "2001:db8::10/64"]')
    }
    wildcard = CLOUD_INIT.replace("    enp1s0:\n", "    all:\n      match:\n        name: enp*\n")
    found = UBUNTU.preflight("hv01", output({OLD: wildcard}), {OWN_FILE: ours}, {})
    bridges = yaml.safe_load(found.rewritten[OWN_FILE])["network"]["bridges"]
    for name, address in (("br0", "198.18.129.1/17"), ("br1", "198.19.0.11/24")):
        assert bridges[name]["nameservers"]["addresses"] == ["198.18.0.53"], name
        assert bridges[name]["addresses"] == [address, "2001:db8::10/64"], name


# A host bonded today: the slaves bare, the address, DNS and IPv6 on the bond.
BONDED = """\
network:
  version: 2
  ethernets:
    enp1s0: {}
    enp2s0:
      link-local: []
  bonds:
    bond0:
      interfaces: [enp1s0, enp2s0]
      parameters:
        mode: active-backup
      addresses: [198.18.129.1/17]
      accept-ra: false
      nameservers:
        addresses: [198.18.0.53]
"""
BOND_UNDER_BR0 = host(
    nics=nics("enp1s0", "enp2s0"),
    bonds={"bond0": {"slaves": ["enp1s0", "enp2s0"]}},
    bridges={"br0": {"ports": ["bond0"], "bootproto": "static", "ipaddr": "198.18.129.1",
                     "prefix": 17}},
)  # fmt: skip


def test_a_bond_defined_today_is_taken_over_and_its_dns_and_ipv6_go_to_the_bridge() -> None:
    ours = rendered(BOND_UNDER_BR0)
    found = UBUNTU.preflight("hv01", output({OLD: BONDED}), {OWN_FILE: ours}, {})
    assert (found.problems, found.displaced) == ((), (OLD,))
    # The bond's (topmost) IPv6 settings, not its slave's: accept-ra false, as on bond0.
    bridge = yaml.safe_load(found.rewritten[OWN_FILE])["network"]["bridges"]["br0"]
    assert bridge["accept-ra"] is False
    assert bridge["nameservers"] == {"addresses": ["198.18.0.53"]}


def test_a_slave_s_or_a_second_nic_s_own_file_is_taken_over_like_a_port_s() -> None:
    slave = "/etc/netplan/60-enp2s0.yaml"
    port = "network:\n  ethernets:\n    enp1s0:\n      dhcp4: true\n"
    second = "network:\n  ethernets:\n    enp2s0:\n      dhcp4: true\n"
    ours = rendered(BOND_UNDER_BR0)
    found = UBUNTU.preflight("hv01", output({OLD: port, slave: second}), {OWN_FILE: ours}, {})
    assert (found.problems, found.displaced) == ((), (OLD, slave))
    two = UBUNTU.preflight("hv01", output({OLD: port, slave: second}), {OWN_FILE: TWO_FILE}, {})
    assert (two.problems, two.displaced) == ((), (OLD, slave))
    # cloud-init names a NIC by its MAC: the second NIC's is its bridge's.
    by_mac = (
        "network:\n  ethernets:\n    storage:\n      match:\n"
        f"        macaddress: {MAC2}\n      set-name: enp2s0\n      dhcp4: true\n"
    )
    found = UBUNTU.preflight("hv01", output({OLD: by_mac}), {OWN_FILE: TWO_FILE}, {})
    assert (found.problems, found.displaced) == ((), (OLD,))


def test_a_second_slave_matched_by_a_mac_our_file_does_not_say_is_found_by_its_set_name() -> None:
    second = (
        "network:\n  ethernets:\n    nic1:\n      match:\n"
        f"        macaddress: {MAC2}\n      set-name: enp2s0\n      dhcp4: true\n"
    )
    found = UBUNTU.preflight(
        "hv01", output({OLD: second}), {OWN_FILE: rendered(BOND_UNDER_BR0)}, {}
    )
    assert (found.problems, found.displaced) == ((), (OLD,))


def test_a_file_with_another_bond_over_our_nic_is_refused() -> None:
    other = BONDED.replace("bond0", "bond7")
    found = UBUNTU.preflight("hv01", output({OLD: other}), {OWN_FILE: rendered(BOND_UNDER_BR0)}, {})
    assert found.problems == (
        f"hv01: {OLD} configures enp1s0, enp2s0 and also bond7: move enp1s0, enp2s0 to a file"
        " of its own first (hvbridge takes whole netplan files out of the way, never rewrites"
        " YAML it does not own)",
    )


def test_only_a_nic_outside_every_chain_is_refused_and_mtus_are_written() -> None:
    for model in (LACP, TWO, BOND_UNDER_BR0):
        assert UBUNTU.inventory_problems(model) == []
    spare = host(nics=nics("enp1s0", "enp3s0", enp3s0=9000), bridges=TWO.bridges | {})
    spare = spare.model_copy(update={"bridges": {"br0": TWO.bridges["br0"]}})
    assert UBUNTU.inventory_problems(spare) == [
        (("nics", "enp3s0"), "'enp3s0': a NIC outside a bridge is not written on netplan"
         " platforms yet"),
    ]  # fmt: skip


def networkd_files(tmp_path: Path, text: str) -> dict[str, str]:
    """What the machine's real netplan (the lab's, scripts/install) generates for networkd
    from our file: no network, a root directory of its own."""
    netplan = shutil.which("netplan") or "/usr/sbin/netplan"
    assert Path(netplan).exists(), "netplan is missing: scripts/install installs netplan.io"
    (tmp_path / "etc/netplan").mkdir(parents=True)
    (tmp_path / "etc/netplan/90-hvbridge.yaml").write_text(text)
    (tmp_path / "etc/netplan/90-hvbridge.yaml").chmod(0o600)
    done = subprocess.run(
        [netplan, "generate", "--root-dir", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    generated = tmp_path / "run/systemd/network"
    return {path.name: path.read_text() for path in sorted(generated.iterdir())}


def test_real_netplan_reads_the_bond_the_vlan_and_the_bridge_as_meant(tmp_path: Path) -> None:
    files = networkd_files(tmp_path, rendered(LACP))
    bond = files["10-netplan-bond0.netdev"]
    for line in ("Kind=bond", "Mode=802.3ad", "LACPTransmitRate=fast", "MIIMonitorSec=100ms",
                 "TransmitHashPolicy=layer3+4", f"MACAddress={MAC1}", "MTUBytes=9000"):  # fmt: skip
        assert line in bond.splitlines(), (line, bond)
    vlan = files["10-netplan-bond0.100.netdev"].splitlines()
    assert "Kind=vlan" in vlan and "Id=100" in vlan and "MTUBytes=9000" in vlan
    assert "VLAN=bond0.100" in files["10-netplan-bond0.network"].splitlines()
    for slave in ("enp1s0", "enp2s0"):
        network = files[f"10-netplan-{slave}.network"].splitlines()
        assert "Bond=bond0" in network and "MTUBytes=9000" in network, network
    bridge = files["10-netplan-br100.netdev"].splitlines()
    assert "STP=true" in bridge and "ForwardDelaySec=4" in bridge and "MTUBytes=9000" in bridge
    assert "Bridge=br100" in files["10-netplan-bond0.100.network"].splitlines()


def test_real_netplan_reads_ipv6_default_routes_ras_and_dns_as_meant(tmp_path: Path) -> None:
    files = networkd_files(tmp_path, rendered(TWO))
    br0 = files["10-netplan-br0.network"]
    assert "[Route]\nDestination=::/0\nGateway=fd48:6862:0:2::1\n" in br0, br0
    assert "[Route]\nDestination=0.0.0.0/0\nGateway=198.18.128.1\n" in br0, br0
    lines = br0.splitlines()
    assert "Address=fd48:6862:0:2::11/64" in lines and "IPv6AcceptRA=yes" in lines, br0
    assert {"DNS=198.18.0.53", "DNS=fd48:6862:0:2::53", "Domains=lab.example"} <= set(lines), br0
    br1 = files["10-netplan-br1.network"]
    assert "IPv6AcceptRA=no" in br1.splitlines() and "[Route]" not in br1, br1
    assert "MTUBytes=9000" in files["10-netplan-enp2s0.network"].splitlines()


@pytest.mark.parametrize("mode", get_args(BondMode))
def test_real_netplan_takes_every_bond_mode_as_rendered(tmp_path: Path, mode: str) -> None:
    options: dict[str, Any] = {"mode": mode}
    if mode in HASHED_MODES:
        options["xmit_hash_policy"] = "layer2+3"
    if mode in PRIMARY_MODES:
        options["primary"] = "enp2s0"
    model = host(
        nics=nics("enp1s0", "enp2s0"),
        bonds={"bond0": {"slaves": ["enp1s0", "enp2s0"], **options}},
        bridges={"br0": {"ports": ["bond0"], "bootproto": "dhcp"}},
    )
    files = networkd_files(tmp_path, rendered(model))
    netdev = files["10-netplan-bond0.netdev"].splitlines()
    assert f"Mode={mode}" in netdev and "MIIMonitorSec=100ms" in netdev, netdev
    assert ("TransmitHashPolicy=layer2+3" in netdev) == (mode in HASHED_MODES), netdev
    slave = files["10-netplan-enp2s0.network"].splitlines()
    assert ("PrimarySlave=true" in slave) == (mode in PRIMARY_MODES), slave
