"""el6 and el7 files for real hypervisor topologies: bonds, VLANs, several bridges, MTU,
IPv6 and DNS (issue 16), what a bridge keeps of its ports' old files, and what initscripts
cannot do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hvbridge import platforms
from hvbridge.inventory.models import HostData
from hvbridge.platforms.initscripts import SCRIPTS_DIR

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EL6, EL7 = platforms.get("el6"), platforms.get("el7")
HEAD = "# Written by hvbridge: edit the inventory, not this file.\n"
KEPT = "# Kept from the host's files (the inventory does not set it):\n"


def host(**data: Any) -> HostData:
    # Built directly: the relations between bridges, bonds and VLANs are checked elsewhere.
    return HostData.model_validate(data, strict=False)


def nics(*names: str) -> dict[str, dict[str, str]]:
    return {name: {"hwaddr": f"02:00:00:00:00:0{i}"} for i, name in enumerate(names, start=1)}


def files(platform: platforms.Platform, model: HostData) -> dict[str, str]:
    rendered = platform.render(TEMPLATES, model)
    return {path.removeprefix(f"{SCRIPTS_DIR}/"): text for path, text in rendered.items()}


BONDED = dict(
    nics=nics("eth0", "eth1"),
    bonds={"bond0": {"slaves": ["eth0", "eth1"], "mode": "802.3ad", "lacp_rate": "fast",
                     "xmit_hash_policy": "layer3+4", "mtu": 9000}},
    vlans={"bond0.100": {"parent": "bond0", "id": 100, "mtu": 9000}},
    bridges={
        "br0": {"ports": ["bond0"], "bootproto": "static", "ipaddr": "198.18.0.5", "prefix": 24,
                "gateway": "198.18.0.1", "mtu": 9000},
        "br100": {"ports": ["bond0.100"], "bootproto": "static", "ipaddr": "198.18.1.5",
                  "prefix": 24, "defroute": False, "stp": True, "delay": 2, "mtu": 9000},
    },
)  # fmt: skip


def test_el6_bond_under_a_bridge_and_a_vlan_on_it_with_its_own_bridge() -> None:
    assert files(EL6, host(**BONDED)) == {
        "ifcfg-bond0": HEAD + "DEVICE=bond0\nBONDING_MASTER=yes\n"
        'BONDING_OPTS="mode=802.3ad miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4"\n'
        "ONBOOT=yes\nBOOTPROTO=none\nBRIDGE=br0\nMTU=9000\n",
        "ifcfg-bond0.100": HEAD
        + "DEVICE=bond0.100\nVLAN=yes\nONBOOT=yes\nBOOTPROTO=none\nBRIDGE=br100\nMTU=9000\n",
        "ifcfg-br0": HEAD + "DEVICE=br0\nTYPE=Bridge\nONBOOT=yes\nBOOTPROTO=static\n"
        "IPADDR=198.18.0.5\nPREFIX=24\nGATEWAY=198.18.0.1\nDEFROUTE=yes\nSTP=off\nDELAY=0\n"
        "MTU=9000\n",
        "ifcfg-br100": HEAD + "DEVICE=br100\nTYPE=Bridge\nONBOOT=yes\nBOOTPROTO=static\n"
        "IPADDR=198.18.1.5\nPREFIX=24\nDEFROUTE=no\nSTP=on\nDELAY=2\nMTU=9000\n",
        "ifcfg-eth0": HEAD + "DEVICE=eth0\nTYPE=Ethernet\nHWADDR=02:00:00:00:00:01\nONBOOT=yes\n"
        "NM_CONTROLLED=no\nBOOTPROTO=none\nMASTER=bond0\nSLAVE=yes\nMTU=9000\n",
        "ifcfg-eth1": HEAD + "DEVICE=eth1\nTYPE=Ethernet\nHWADDR=02:00:00:00:00:02\nONBOOT=yes\n"
        "NM_CONTROLLED=no\nBOOTPROTO=none\nMASTER=bond0\nSLAVE=yes\nMTU=9000\n",
    }


def test_el7_says_type_bond_and_leaves_what_hvbridge_creates_to_initscripts() -> None:
    el7 = files(EL7, host(**BONDED))
    assert el7["ifcfg-bond0"] == (
        HEAD + "DEVICE=bond0\nTYPE=Bond\nBONDING_MASTER=yes\n"
        'BONDING_OPTS="mode=802.3ad miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4"\n'
        "ONBOOT=yes\nNM_CONTROLLED=no\nBOOTPROTO=none\nBRIDGE=br0\nMTU=9000\n"
    )
    assert el7["ifcfg-bond0.100"] == (
        HEAD + "DEVICE=bond0.100\nVLAN=yes\nONBOOT=yes\nNM_CONTROLLED=no\nBOOTPROTO=none\n"
        "BRIDGE=br100\nMTU=9000\n"
    )
    assert el7["ifcfg-eth1"] == files(EL6, host(**BONDED))["ifcfg-eth1"]


def test_active_backup_defaults_and_primary_and_slaves_keep_their_own_mtu_without_a_bonds() -> None:
    model = host(
        nics={**nics("eth0", "eth1"), "eth1": {"hwaddr": "02:00:00:00:00:02", "mtu": 1500}},
        bonds={"bond0": {"slaves": ["eth0", "eth1"], "primary": "eth1"}},
        bridges={"br0": {"ports": ["bond0"], "bootproto": "dhcp"}},
    )
    el6 = files(EL6, model)
    assert 'BONDING_OPTS="mode=active-backup miimon=100 primary=eth1"\n' in el6["ifcfg-bond0"]
    assert "MTU" not in el6["ifcfg-bond0"] + el6["ifcfg-eth0"]
    assert el6["ifcfg-eth1"].endswith("MASTER=bond0\nSLAVE=yes\nMTU=1500\n")


def test_a_vlan_not_named_parent_dot_id_names_its_parent_and_its_parent_nic_has_no_address() -> (
    None
):
    model = host(
        nics=nics("eth0", "eth1"),
        vlans={"vlan200": {"parent": "eth1", "id": 200}},
        bridges={
            "br0": {"ports": ["eth0"], "bootproto": "static", "ipaddr": "198.18.0.5",
                    "prefix": 24, "gateway": "198.18.0.1"},
            "br200": {"ports": ["vlan200"], "bootproto": "static", "ipaddr": "198.18.2.5",
                      "prefix": 24, "defroute": False},
        },
    )  # fmt: skip
    el6 = files(EL6, model)
    assert el6["ifcfg-vlan200"] == (
        HEAD + "DEVICE=vlan200\nVLAN=yes\nPHYSDEV=eth1\nONBOOT=yes\nBOOTPROTO=none\nBRIDGE=br200\n"
    )
    assert el6["ifcfg-eth1"] == (
        HEAD + "DEVICE=eth1\nTYPE=Ethernet\nHWADDR=02:00:00:00:00:02\nONBOOT=yes\n"
        "NM_CONTROLLED=no\nBOOTPROTO=none\n"
    )


def test_two_bridges_on_two_nics_are_two_independent_chains() -> None:
    model = host(
        nics=nics("eth0", "eth1"),
        bridges={
            "br0": {"ports": ["eth0"], "bootproto": "static", "ipaddr": "198.18.0.5",
                    "prefix": 24, "gateway": "198.18.0.1"},
            "br1": {"ports": ["eth1"], "bootproto": "static", "ipaddr": "198.19.0.5",
                    "prefix": 24, "defroute": False, "mtu": 9000},
        },
    )  # fmt: skip
    el6 = files(EL6, model)
    assert sorted(el6) == ["ifcfg-br0", "ifcfg-br1", "ifcfg-eth0", "ifcfg-eth1"]
    assert "BRIDGE=br0\n" in el6["ifcfg-eth0"] and "BRIDGE=br1\n" in el6["ifcfg-eth1"]
    assert "GATEWAY=198.18.0.1\nDEFROUTE=yes\n" in el6["ifcfg-br0"]
    assert el6["ifcfg-br1"].endswith("PREFIX=24\nDEFROUTE=no\nSTP=off\nDELAY=0\nMTU=9000\n")


def test_ipv6_and_dns_on_a_bridge() -> None:
    model = host(
        nics=nics("eth0"),
        bridges={"br0": {
            "ports": ["eth0"], "bootproto": "static", "ipaddr": "198.18.0.5", "prefix": 24,
            "ipv6addr": "fd48:6862:0:1::5/64", "ipv6_gateway": "fd48:6862:0:1::1",
            "ipv6_autoconf": False,
            "dns": {"servers": ["198.18.0.53", "fd48:6862:0:1::53"],
                    "search": ["lab.test", "test"]},
        }},
    )  # fmt: skip
    assert files(EL6, model)["ifcfg-br0"].endswith(
        "DEFROUTE=yes\nSTP=off\nDELAY=0\nIPV6INIT=yes\nIPV6_AUTOCONF=no\n"
        "IPV6ADDR=fd48:6862:0:1::5/64\nIPV6_DEFAULTGW=fd48:6862:0:1::1\n"
        'DNS1=198.18.0.53\nDNS2=fd48:6862:0:1::53\nDOMAIN="lab.test test"\n'
    )


@pytest.mark.parametrize(
    ("bridge", "tail"),
    [
        ({"ipv6_autoconf": True}, "DELAY=0\nIPV6INIT=yes\nIPV6_AUTOCONF=yes\n"),
        ({"ipv6addr": "fd00::5/64"}, "DELAY=0\nIPV6INIT=yes\nIPV6ADDR=fd00::5/64\n"),
        # The inventory says "no servers": initscripts leave resolv.conf alone.
        ({"dns": {"servers": []}}, "DELAY=0\nPEERDNS=no\n"),
        ({}, "DELAY=0\n"),
    ],
)
def test_only_what_the_inventory_sets_is_written(bridge: dict[str, Any], tail: str) -> None:
    model = host(nics=nics("eth0"), bridges={"br0": {"ports": ["eth0"], "bootproto": "dhcp",
                                                     **bridge}})  # fmt: skip
    assert files(EL6, model)["ifcfg-br0"].endswith(tail)


# --- what initscripts cannot do ----------------------------------------------------------------


def findings(platform: platforms.Platform, **data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    return platform.inventory_problems(host(**data))


@pytest.mark.parametrize("platform", [EL6, EL7])
@pytest.mark.parametrize("name", ["storage", "vlan200"])
def test_a_vlan_name_initscripts_take_no_id_from_is_refused_theirs_accepted(
    platform: platforms.Platform, name: str
) -> None:
    # initscripts' own forms beside it: PARENT.ID, vlanID, vlanID zero-padded.
    vlans = {
        name: {"parent": "bond0", "id": 100},
        "bond0.101": {"parent": "bond0", "id": 101},
        "vlan102": {"parent": "bond0", "id": 102},
        "vlan0103": {"parent": "bond0", "id": 103},
    }
    assert findings(platform, vlans=vlans) == [
        (("vlans", name), f"{name!r}: initscripts take a VLAN's id from its name: name it"
         " bond0.100 or vlan100"),
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["bond0.200", "eth0.100"])
def test_a_dotted_name_that_disagrees_is_left_to_the_inventory_s_own_check(name: str) -> None:
    # hvbridge.inventory.stacking refuses it on every platform: said once, not twice.
    vlans = {name: {"parent": "bond0", "id": 100}}
    assert findings(EL6, vlans=vlans) == findings(EL7, vlans=vlans) == []


def test_el6_writes_two_dns_servers_el7_three() -> None:
    dns = {"servers": ["198.18.0.53", "198.18.0.54", "198.18.0.55"]}
    data = dict(nics=nics("eth0"), bridges={"br0": {"ports": ["eth0"], "bootproto": "dhcp",
                                                    "dns": dns}})  # fmt: skip
    assert findings(EL6, **data) == [
        (("bridges", "br0", "dns", "servers"),
         "initscripts here write at most 2 servers (DNS1..DNS2), not 3"),
    ]  # fmt: skip
    assert findings(EL7, **data) == []


def test_el6_kernel_lacks_the_encap_hashes() -> None:
    bonds = {"bond0": {"slaves": ["eth0"], "mode": "802.3ad", "xmit_hash_policy": "encap3+4"}}
    assert findings(EL6, nics=nics("eth0"), bonds=bonds) == [
        (("bonds", "bond0", "xmit_hash_policy"),
         "'encap3+4': this platform's bonding driver knows layer2, layer2+3, layer3+4"),
    ]  # fmt: skip
    assert findings(EL7, nics=nics("eth0"), bonds=bonds) == []


def test_ignored_names_are_found_on_bonds_and_vlans_too() -> None:
    data = dict(
        nics=nics("eth0"),
        bonds={"bond0.bak": {"slaves": ["eth0"]}},
        vlans={"vlan5": {"parent": "bond0.bak", "id": 5}},
    )
    said = "'bond0.bak' cannot be used: initscripts ignore a file named ifcfg-bond0.bak"
    assert findings(EL6, **data) == [(("bonds", "bond0.bak"), said),
                                     (("vlans", "vlan5", "parent"), said)]  # fmt: skip


# --- what a bridge keeps of the host's files ---------------------------------------------------


def path(name: str) -> str:
    return f"{SCRIPTS_DIR}/ifcfg-{name}"


SEEDED = dict(
    nics=nics("eth0"),
    bridges={"br0": {"ports": ["eth0"], "bootproto": "static", "ipaddr": "198.18.0.5",
                     "prefix": 24, "gateway": "198.18.0.1"}},
)  # fmt: skip
OLD_ETH0 = (
    "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=198.18.0.5\nPREFIX=24\nGATEWAY=198.18.0.1\n"
    'DNS1=198.18.0.53\nDNS2=198.18.0.54\nDOMAIN="lab.test test"\nPEERDNS=yes\n'
    "IPV6INIT=yes\nIPV6ADDR=fd48:6862:0:1::5/64\nIPV6_DEFAULTGW=fd48:6862:0:1::1\n"
    "IPV6_AUTOCONF=no\nNM_CONTROLLED=no\n"
)
CARRIED = (
    KEPT + 'DNS1=198.18.0.53\nDNS2=198.18.0.54\nDOMAIN="lab.test test"\nPEERDNS=yes\n'
    "IPV6INIT=yes\nIPV6_AUTOCONF=no\nIPV6ADDR=fd48:6862:0:1::5/64\n"
    "IPV6_DEFAULTGW=fd48:6862:0:1::1\n"
)


@pytest.mark.parametrize("platform", [EL6, EL7])
def test_a_bridge_keeps_the_dns_and_ipv6_of_its_ports_old_file(
    platform: platforms.Platform,
) -> None:
    rendered = platform.render(TEMPLATES, host(**SEEDED))
    found = platform.preflight("hv01", "inactive\n", rendered, {path("eth0"): OLD_ETH0})
    assert found.problems == ()
    assert found.rewritten == {path("br0"): rendered[path("br0")] + CARRIED}
    assert found.notes == (
        "kept DNS1, DNS2, DOMAIN, PEERDNS of ifcfg-eth0 in ifcfg-br0",
        "kept IPV6INIT, IPV6_AUTOCONF, IPV6ADDR, IPV6_DEFAULTGW of ifcfg-eth0 in ifcfg-br0",
    )


def test_a_rerun_keeps_the_same_lines_from_the_bridges_own_file() -> None:
    rendered = EL6.render(TEMPLATES, host(**SEEDED))
    first = EL6.preflight("hv01", "", rendered, {path("eth0"): OLD_ETH0})
    on_host = {**rendered, **first.rewritten}
    again = EL6.preflight("hv01", "", rendered, on_host)
    assert again.rewritten == first.rewritten == {path("br0"): rendered[path("br0")] + CARRIED}
    assert again.notes == ()


def test_a_bonds_slave_that_held_the_address_gives_its_dns_to_the_bridge() -> None:
    model = host(
        nics=nics("eth0", "eth1"),
        bonds={"bond0": {"slaves": ["eth0", "eth1"]}},
        bridges={"br0": {"ports": ["bond0"], "bootproto": "static", "ipaddr": "198.18.0.5",
                         "prefix": 24}},
    )  # fmt: skip
    rendered = EL6.render(TEMPLATES, model)
    old = {path("eth0"): "DEVICE=eth0\nIPADDR=198.18.0.5\nDNS1=198.18.0.53\n",
           path("eth1"): "DEVICE=eth1\nONBOOT=no\n"}  # fmt: skip
    found = EL6.preflight("hv01", "", rendered, old)
    assert found.rewritten == {path("br0"): rendered[path("br0")] + KEPT + "DNS1=198.18.0.53\n"}


def test_what_the_inventory_sets_is_not_kept_from_the_host() -> None:
    bridge = {**SEEDED["bridges"]["br0"], "dns": {"servers": ["198.18.0.99"]}}  # type: ignore[dict-item]
    rendered = EL6.render(TEMPLATES, host(nics=nics("eth0"), bridges={"br0": bridge}))
    found = EL6.preflight("hv01", "", rendered, {path("eth0"): OLD_ETH0})
    ipv6_only = KEPT + CARRIED[CARRIED.index("IPV6INIT") :]
    assert found.rewritten == {path("br0"): rendered[path("br0")] + ipv6_only}


def test_each_bridge_keeps_from_its_own_chain() -> None:
    model = host(
        nics=nics("eth0", "eth1"),
        bridges={
            "br0": {"ports": ["eth0"], "bootproto": "dhcp"},
            "br1": {"ports": ["eth1"], "bootproto": "dhcp", "defroute": False},
        },
    )
    rendered = EL6.render(TEMPLATES, model)
    found = EL6.preflight("hv01", "", rendered, {path("eth1"): "DEVICE=eth1\nDNS1=198.19.0.53\n"})
    assert found.rewritten == {path("br1"): rendered[path("br1")] + KEPT + "DNS1=198.19.0.53\n"}


def test_an_old_file_that_does_not_parse_refuses_the_host() -> None:
    rendered = EL6.render(TEMPLATES, host(**SEEDED))
    found = EL6.preflight("hv01", "", rendered, {path("eth0"): "DNS1=$(reboot)\n"})
    assert found.problems == (
        f"hv01: {path('eth0')}, line 1: DNS1: shell syntax '$()' is not supported: hvbridge"
        " cannot tell what ifcfg-br0 must keep of it (DNS, IPv6); fix the file, or set dns and"
        " ipv6 in the inventory",
    )


def test_el7_keeps_without_networkmanager_and_still_refuses_it_running() -> None:
    model = host(nics={"eth0": {"hwaddr": "02:00:00:00:00:01", "nm_controlled": True}},
                 bridges=SEEDED["bridges"])  # fmt: skip
    rendered = EL7.render(TEMPLATES, model)
    old = {path("eth0"): OLD_ETH0}
    assert EL7.preflight("hv01", "inactive\n", rendered, old).rewritten == {
        path("br0"): rendered[path("br0")] + CARRIED
    }
    found = EL7.preflight("hv01", "active\n", rendered, old)
    assert len(found.problems) == 1 and "NetworkManager is running" in found.problems[0]


# --- the old files of a bond's slaves and of a second NIC --------------------------------------


def test_slaves_and_a_second_nic_are_files_of_ours_kept_for_the_revert() -> None:
    # The push writes (and keeps for the revert) every rendered file: each slave's and each
    # NIC's old file is replaced, never left for initscripts to apply beside ours.
    rendered = EL6.render(TEMPLATES, host(**BONDED))
    assert {path("eth0"), path("eth1")} <= set(rendered)
    names = ["ifcfg-eth0", "ifcfg-eth1", "ifcfg-eth1.old", "ifcfg-lo"]
    candidates = EL6.conflict_candidates(rendered, names)
    assert candidates == [path("eth0"), path("eth1"), path("eth1.old"), path("lo")]
    existing = {
        path("eth0"): "DEVICE=eth0\n", path("eth1"): "DEVICE=eth1\n",
        path("eth1.old"): "DEVICE=eth1\nONBOOT=yes\n", path("lo"): "DEVICE=lo\n",
    }  # fmt: skip
    assert EL6.conflicts(rendered, existing) == [
        f"{path('eth1.old')} also configures DEVICE=eth1: remove it, or rename it so that"
        " initscripts ignore it (e.g. with a .bak suffix)"
    ]
