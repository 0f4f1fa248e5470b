"""The cross-checks of bonds, VLANs, several bridges, MTU, IPv6 and DNS (issue 16): each
problem's exact message with its file, host and field, and what stays allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hvbridge.inventory import load_inventory
from tests.unit.inventory_support import (
    BONDED_HOST,
    Edit,
    bonded_host,
    both,
    problems,
    seed_host,
    write,
)

Key = str | int


def put(keys: tuple[Key, ...], value: Any) -> Edit:
    """Set the value at `keys` (names may hold dots: `bond0.100`), making mappings on the way."""

    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for key in keys[:-1]:
            node = node[key] if isinstance(key, int) else node.setdefault(key, {})
        node[keys[-1]] = value

    return edit


def remove(keys: tuple[Key, ...]) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return edit


ETH2 = put(("nics", "eth2"), {"hwaddr": "02:48:56:00:01:03"})
BR100 = ("bridges", "br100")
BR200 = ("bridges", "br200")
BOND0 = ("bonds", "bond0")
# A third bridge, with no address, for devices a case adds.
BR300 = ("bridges", "br300")


def br300(*ports: str) -> Edit:
    return put(BR300, {"ports": list(ports), "bootproto": "none"})


def vlan300(parent: str) -> Edit:
    return both(
        put(("vlans", "vlan300"), {"parent": parent, "id": 300}),
        br300("vlan300"),
    )


CROSS_CHECKS: list[tuple[str, Edit, list[str]]] = [
    # --- which device sits on which ---
    (
        "a port is a NIC, a bond or a VLAN",
        put((*BR100, "ports"), ["bond0.100", "bond9"]),
        ["bridges.br100.ports[1]: bond9 is not in nics, bonds or vlans"],
    ),
    (
        "a slave is a NIC, not a VLAN",
        put((*BOND0, "slaves"), ["eth0", "bond0.100"]),
        ["bonds.bond0.slaves[1]: bond0.100 is a VLAN; a slave must be a NIC in nics"],
    ),
    (
        "a slave is in nics",
        put((*BOND0, "slaves"), ["eth0", "eth2"]),
        ["bonds.bond0.slaves[1]: eth2 is not a NIC in nics"],
    ),
    (
        "a slave is listed once",
        put((*BOND0, "slaves"), ["eth0", "eth1", "eth0"]),
        ["bonds.bond0.slaves[2]: eth0 is listed twice"],
    ),
    (
        "a NIC is a slave of one bond",
        both(put(("bonds", "bond1"), {"slaves": ["eth1"]}), br300("bond1")),
        ["bonds.bond1.slaves[0]: eth1 is already a slave of bond0"],
    ),
    (
        "a slave is not also a bridge port",
        br300("eth1"),
        ["bridges.br300.ports[0]: eth1 is already a slave of bond0"],
    ),
    (
        "a bond is a port of one bridge",
        both(remove(("vlans", "bond0.200")), put((*BR200, "ports"), ["bond0"]), br300("bond0")),
        ["bridges.br300.ports[0]: bond0 is already a port of br200"],
    ),
    (
        "a slave has no address",
        put(("nics", "eth0", "ipaddr"), "198.18.100.12"),
        ["nics.eth0.ipaddr: eth0 is a slave of bond0 and has no address or route of its own"],
    ),
    (
        "a slave has no route",
        put(("nics", "eth1", "defroute"), False),
        ["nics.eth1.defroute: eth1 is a slave of bond0 and has no address or route of its own"],
    ),
    (
        "a slave's bootproto is none",
        put(("nics", "eth0", "bootproto"), "dhcp"),
        ["nics.eth0.bootproto: eth0 is a slave of bond0: must be none or unset"],
    ),
    (
        "a VLAN's parent is not a bridge",
        vlan300("br100"),
        ["vlans.vlan300.parent: br100 is a bridge; a VLAN's parent must be a NIC or a bond"],
    ),
    (
        "a VLAN's parent is not a VLAN",
        vlan300("bond0.100"),
        [
            "vlans.vlan300.parent: bond0.100 is a VLAN; a VLAN's parent must be a NIC or a bond"
            " (no VLAN in a VLAN)"
        ],
    ),
    (
        "a VLAN's parent exists",
        vlan300("eth9"),
        ["vlans.vlan300.parent: eth9 is not in nics or bonds"],
    ),
    (
        "a VLAN's parent is not a bond's slave",
        vlan300("eth1"),
        [
            "vlans.vlan300.parent: eth1 is a slave of bond0; put the VLAN on bond0: a slave's"
            " frames arrive through its bond"
        ],
    ),
    (
        "a PARENT.ID name agrees with parent",
        both(ETH2, put(("vlans", "bond0.200", "parent"), "eth2"), remove((*BR200, "mtu"))),
        [
            "vlans.bond0.200.parent: bond0.200 names its parent bond0, not eth2: a PARENT.ID"
            " name must agree with parent and id"
        ],
    ),
    (
        "a PARENT.ID name agrees with id",
        put(("vlans", "bond0.200", "id"), 300),
        [
            "vlans.bond0.200.id: bond0.200 names VLAN 200, not 300: a PARENT.ID name must"
            " agree with parent and id"
        ],
    ),
    (
        "one VLAN per parent and id",
        both(put(("vlans", "vlan100"), {"parent": "bond0", "id": 100}), br300("vlan100")),
        ["vlans.vlan100.id: bond0 carries VLAN 100 already, as bond0.100"],
    ),
    (
        "a name is one device",
        both(ETH2, put(("bonds", "br300"), {"slaves": ["eth2"]}), br300("br300")),
        [
            "bridges.br300: br300 is also in bonds: a name is one device (a NIC, a bond, a VLAN"
            " or a bridge)",
        ],
    ),
    (
        "a bond is under a bridge",
        both(ETH2, put(("bonds", "bond1"), {"slaves": ["eth2"]})),
        [
            "bonds.bond1: bond1 is not under any bridge: make it (or a VLAN on it) a bridge's"
            " port, or leave it out"
        ],
    ),
    (
        "a VLAN is under a bridge",
        put(("vlans", "bond0.300"), {"parent": "bond0", "id": 300}),
        [
            "vlans.bond0.300: bond0.300 is not under any bridge: make it a bridge's port, or"
            " leave it out"
        ],
    ),
    (
        "a guest's interface goes on a bridge, not a VLAN",
        put(("guests", "web1", "interfaces", 0, "bridge"), "bond0.100"),
        [
            "guests.web1.interfaces[0].bridge: bond0.100 is a VLAN, not a bridge: a guest's"
            " interface goes on a bridge in bridges"
        ],
    ),
    (
        "a guest's bridge exists",
        put(("guests", "web1", "interfaces", 0, "bridge"), "br300"),
        ["guests.web1.interfaces[0].bridge: br300 is not in bridges"],
    ),
    # --- bond options by mode ---
    (
        "lacp_rate is for 802.3ad",
        put((*BOND0, "lacp_rate"), "fast"),
        [
            "bonds.bond0.lacp_rate: only for mode 802.3ad (bond0 is active-backup): the driver"
            " would ignore it"
        ],
    ),
    (
        "xmit_hash_policy is for hashing modes",
        put((*BOND0, "xmit_hash_policy"), "layer3+4"),
        [
            "bonds.bond0.xmit_hash_policy: only for modes 802.3ad, balance-alb, balance-tlb and"
            " balance-xor (bond0 is active-backup): the driver would ignore it"
        ],
    ),
    (
        "primary is for modes with one active slave",
        put((*BOND0, "mode"), "802.3ad"),
        [
            "bonds.bond0.primary: only for modes active-backup, balance-alb and balance-tlb"
            " (bond0 is 802.3ad): the driver would ignore it"
        ],
    ),
    (
        "primary is a slave",
        put((*BOND0, "primary"), "eth2"),
        ["bonds.bond0.primary: eth2 is not one of bond0's slaves (eth0, eth1)"],
    ),
    (
        "active-backup monitors links",
        put((*BOND0, "miimon"), 0),
        [
            "bonds.bond0.miimon: 0 turns link monitoring off: bond0 (active-backup) would never"
            " notice a dead link and keep sending through it; use 100"
        ],
    ),
    (
        "802.3ad monitors links",
        both(
            put((*BOND0, "mode"), "802.3ad"),
            remove((*BOND0, "primary")),
            put((*BOND0, "miimon"), 0),
        ),
        [
            "bonds.bond0.miimon: 0 turns link monitoring off: bond0 (802.3ad) would never"
            " notice a dead link and keep sending through it; use 100"
        ],
    ),
    # --- MTU along the chain ---
    (
        "a VLAN is not above its parent",
        put(("vlans", "bond0.100", "mtu"), 9100),
        [
            "vlans.bond0.100.mtu: 9100 is above the MTU of its parent bond0 (9000); a VLAN"
            " carries no larger frame than its parent"
        ],
    ),
    (
        "a bridge is not above its port, an unset bond being 1500",
        remove((*BOND0, "mtu")),
        [
            "bridges.br100.mtu: 9000 is above the MTU of its port bond0.100 (unset, so its"
            " parent bond0's 1500); the kernel caps a bridge at its smallest port",
            "bridges.br200.mtu: 9000 is above the MTU of its port bond0.200 (unset, so its"
            " parent bond0's 1500); the kernel caps a bridge at its smallest port",
        ],
    ),
    (
        "a bridge is not above its smallest port",
        both(
            put(("vlans", "bond0.200", "mtu"), 1500),
            put(("vlans", "vlan300"), {"parent": "bond0", "id": 300}),
            put((*BR200, "ports"), ["vlan300", "bond0.200"]),
        ),
        [
            "bridges.br200.mtu: 9000 is above the MTU of its port bond0.200 (1500); the kernel"
            " caps a bridge at its smallest port",
        ],
    ),
    (
        "a bond's slave says the bond's MTU",
        put(("nics", "eth0", "mtu"), 1500),
        [
            "nics.eth0.mtu: 1500 differs from the MTU of its bond bond0 (9000); the bonding"
            " driver gives its slaves the bond's MTU: leave it out or make it the same"
        ],
    ),
    # --- several bridges: one default route each way ---
    (
        "one IPv4 default route across bridges",
        put((*BR200, "bootproto"), "dhcp"),
        ["bridges.br200.defroute: br100 has the default route already; set defroute: false"],
    ),
    (
        "a bridge without an address has none",
        put((*BR200, "ipaddr"), "198.18.200.11"),
        ["bridges.br200.ipaddr: needs bootproto: static"],
    ),
    (
        "one IPv6 default route across bridges",
        both(
            put((*BR200, "ipv6addr"), "2001:db8:200::11/64"),
            put((*BR200, "ipv6_gateway"), "2001:db8:200::1"),
        ),
        [
            "bridges.br200.ipv6_gateway: br100 has the IPv6 default route already; give"
            " ipv6_gateway to one bridge only"
        ],
    ),
    (
        "an IPv6 gateway needs an IPv6 address",
        both(remove((*BR100, "ipv6addr")), put((*BR100, "ipv6_autoconf"), False)),
        [
            "bridges.br100.ipv6_gateway: br100 would have no IPv6 address to route from: give"
            " ipv6addr, or leave ipv6_autoconf unset or true"
        ],
    ),
    (
        "a global IPv6 gateway is on the prefix",
        put((*BR100, "ipv6_gateway"), "2001:db8:999::1"),
        [
            "bridges.br100.ipv6_gateway: 2001:db8:999::1 is outside 2001:db8:100::/64; a global"
            " gateway is on the bridge's prefix (a link-local fe80:: one always is)"
        ],
    ),
    (
        "an IPv6 gateway is not the address itself",
        put((*BR100, "ipv6_gateway"), "2001:db8:100::11"),
        ["bridges.br100.ipv6_gateway: 2001:db8:100::11 is the address itself (ipv6addr)"],
    ),
    # --- DNS ---
    (
        "at most 3 DNS servers",
        put(
            (*BR100, "dns", "servers"),
            ["198.18.100.53", "198.18.100.54", "2001:db8::53", "198.18.100.55"],
        ),
        [
            "bridges.br100.dns.servers: 4 servers: resolv.conf takes at most 3 (glibc's MAXNS)"
            " and silently ignores the rest"
        ],
    ),
    (
        "at most 6 search domains",
        put((*BR100, "dns", "search"), [f"d{n}.example.net" for n in range(7)]),
        [
            "bridges.br100.dns.search: 7 domains: at most 6 (glibc before 2.26, as on EL6 and"
            " EL7, silently ignores the rest)"
        ],
    ),
    (
        "a search line glibc keeps whole",
        put((*BR100, "dns", "search"), [f"{n}{'a' * 55}.net" for n in range(5)]),
        [
            "bridges.br100.dns.search: 304 characters: at most 255 with the spaces between"
            " domains (glibc before 2.26 cuts the search line there)"
        ],
    ),
    (
        "dns says something",
        put((*BR100, "dns"), {}),
        [
            "bridges.br100.dns: empty: give servers or search, or leave dns out to keep what the"
            " host resolves with now"
        ],
    ),
    (
        "a DNS server is listed once",
        put((*BR100, "dns", "servers"), ["198.18.100.53", "198.18.100.53"]),
        ["bridges.br100.dns.servers[1]: 198.18.100.53 is listed twice"],
    ),
    (
        "a search domain is listed once, in any case",
        put((*BR100, "dns", "search"), ["Example.NET", "example.net"]),
        ["bridges.br100.dns.search[1]: example.net is listed twice"],
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [pytest.param(edit, expected, id=name) for name, edit, expected in CROSS_CHECKS],
)
def test_cross_check(tmp_path: Path, edit: Edit, expected: list[str]) -> None:
    directory = write(tmp_path / "inventory", {"hv01": bonded_host(edit)})
    assert problems(directory) == tuple(
        f"{directory}/hosts.yaml: host hv01: {line}" for line in expected
    )


ALLOWED: list[tuple[str, Edit]] = [
    ("the bonded host as it is", both()),
    (
        "a bond under a bridge directly, and VLANs on it too (untagged and tagged)",
        br300("bond0"),
    ),
    (
        "a NIC with its own address carrying a bridged VLAN",
        both(
            put(
                ("nics", "eth2"),
                {
                    "hwaddr": "02:48:56:00:01:03",
                    "bootproto": "static",
                    "ipaddr": "198.18.50.11",
                    "prefix": 24,
                    "defroute": False,
                },
            ),
            put(("vlans", "eth2.50"), {"parent": "eth2", "id": 50}),
            br300("eth2.50"),
        ),
    ),
    (
        "a VLAN not named PARENT.ID",
        both(put(("vlans", "vlan300"), {"parent": "bond0", "id": 300}), br300("vlan300")),
    ),
    (
        "802.3ad with its options",
        both(
            put((*BOND0, "mode"), "802.3ad"),
            remove((*BOND0, "primary")),
            put((*BOND0, "lacp_rate"), "fast"),
            put((*BOND0, "xmit_hash_policy"), "layer3+4"),
        ),
    ),
    (
        "miimon 0 in a mode that does not fail over",
        both(
            remove((*BOND0, "primary")),
            put((*BOND0, "mode"), "balance-rr"),
            put((*BOND0, "miimon"), 0),
        ),
    ),
    ("a slave saying its bond's MTU", put(("nics", "eth0", "mtu"), 9000)),
    (
        "a VLAN below its parent, its bridge below it",
        both(put(("vlans", "bond0.200", "mtu"), 1500), put((*BR200, "mtu"), 1400)),
    ),
    ("a bridge without mtu over a jumbo chain", remove((*BR100, "mtu"))),
    ("a link-local IPv6 gateway", put((*BR100, "ipv6_gateway"), "fe80::1")),
    (
        "an IPv6 gateway with autoconf and no address",
        both(remove((*BR100, "ipv6addr")), put((*BR100, "ipv6_autoconf"), True)),
    ),
    ("an IPv6 gateway, autoconf left to the platform", remove((*BR100, "ipv6addr"))),
    ("ipv6_autoconf false with no IPv6 address", put((*BR200, "ipv6_autoconf"), False)),
    ("the same DNS on two bridges", put((*BR200, "dns"), {"servers": ["198.18.100.53"]})),
    ("DNS search only", put((*BR100, "dns"), {"search": ["example.net"]})),
    (
        "a second bridge on DHCP without the default route",
        both(put((*BR200, "bootproto"), "dhcp"), put((*BR200, "defroute"), False)),
    ),
    (
        "a guest on the bridge with no address",
        put(("guests", "web1", "interfaces", 0, "bridge"), "br200"),
    ),
]


@pytest.mark.parametrize("edit", [pytest.param(edit, id=name) for name, edit in ALLOWED])
def test_allowed(tmp_path: Path, edit: Edit) -> None:
    loaded = load_inventory(write(tmp_path / "inventory", {"hv01": bonded_host(edit)}))
    assert list(loaded.models) == ["hv01"]


def test_a_bridge_above_an_unset_nic_port_says_the_port_is_1500(tmp_path: Path) -> None:
    directory = write(tmp_path, {"kvm01": seed_host(put(("bridges", "br0", "mtu"), 9000))})
    assert problems(directory) == (
        f"{directory}/hosts.yaml: host kvm01: bridges.br0.mtu: 9000 is above the MTU of its"
        " port eth0 (unset, so 1500); the kernel caps a bridge at its smallest port",
    )


def test_an_ipv6_address_is_unique_across_hosts(tmp_path: Path) -> None:
    def other(data: dict[str, Any]) -> None:
        data["nics"]["eth0"]["hwaddr"] = "02:48:56:00:02:01"
        data["nics"]["eth1"]["hwaddr"] = "02:48:56:00:02:02"
        data["bridges"]["br100"]["ipaddr"] = "198.18.100.12"
        data["guests"]["web1"]["interfaces"][0]["mac"] = "52:54:00:10:00:02"

    directory = write(tmp_path, {"hv01": bonded_host(), "hv02": bonded_host(other)})
    assert problems(directory) == (
        f"{directory}/hosts.yaml: host hv02: bridges.br100.ipv6addr: 2001:db8:100::11 is also"
        " bridges.br100.ipv6addr on host hv01; addresses must be unique",
    )


def test_a_bad_bond_is_left_out_without_inventing_problems(tmp_path: Path) -> None:
    """bond0.100's parent and every device's use are not judged while bond0 did not parse."""
    directory = write(tmp_path, {"hv01": bonded_host(put((*BOND0, "mode"), "fast"))})
    (line,) = problems(directory)
    assert line.startswith(f"{directory}/hosts.yaml: host hv01: bonds.bond0.mode: Input should")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            put((*BOND0, "slave"), ["eth0"]),
            "bonds.bond0.slave: unknown key (did you mean 'slaves'?)",
        ),
        (put((*BOND0, "miimom"), 100), "bonds.bond0.miimom: unknown key (did you mean 'miimon'?)"),
        (
            put((*BOND0, "lacp-rate"), "fast"),
            "bonds.bond0.lacp-rate: unknown key (did you mean 'lacp_rate'?)",
        ),
        (
            put((*BOND0, "xmit_hash"), "layer2"),
            "bonds.bond0.xmit_hash: unknown key (did you mean 'xmit_hash_policy'?)",
        ),
        (
            put(("vlans", "bond0.100", "parnet"), "bond0"),
            "vlans.bond0.100.parnet: unknown key (did you mean 'parent'?)",
        ),
        (
            put((*BR100, "ipv6_gw"), "2001:db8:100::1"),
            "bridges.br100.ipv6_gw: unknown key (did you mean 'ipv6_gateway'?)",
        ),
        (
            put((*BR100, "ipv6_address"), "2001:db8:100::11/64"),
            "bridges.br100.ipv6_address: unknown key (did you mean 'ipv6addr'?)",
        ),
        (
            put((*BR100, "dns", "nameservers"), ["198.18.100.53"]),
            "bridges.br100.dns.nameservers: unknown key (did you mean 'servers'?)",
        ),
        (put(("vlan",), {}), "vlan: unknown key (did you mean 'vlans'?)"),
        (put(("bond",), {}), "bond: unknown key (did you mean 'bonds'?)"),
    ],
)
def test_did_you_mean_covers_the_new_keys(tmp_path: Path, edit: Edit, expected: str) -> None:
    lines = problems(write(tmp_path, {"hv01": bonded_host(edit)}))
    assert f"{tmp_path}/hosts.yaml: host hv01: {expected}" in lines, lines


def test_the_bonded_host_mapping_is_the_example_inventorys() -> None:
    """The cases above edit what inventory/bonded holds (its platform set on the host)."""
    example = load_inventory(Path(__file__).parents[2] / "inventory" / "bonded").models["hv01"]
    assert example.nics.keys() == BONDED_HOST["data"]["nics"].keys()
    assert example.chain("br100") == ["bond0.100", "bond0", "eth0", "eth1"]


def test_a_bond_a_group_defines_is_reported_in_groups_yaml(tmp_path: Path) -> None:
    host = bonded_host()
    bonds = host["data"].pop("bonds")
    bonds["bond0"]["lacp_rate"] = "slow"
    host["groups"] = ["bonded"]
    directory = write(tmp_path, {"hv01": host}, groups={"bonded": {"data": {"bonds": bonds}}})
    assert problems(directory) == (
        f"{directory}/groups.yaml: host hv01 (inherited from group bonded): bonds.bond0.lacp_rate:"
        " only for mode 802.3ad (bond0 is active-backup): the driver would ignore it",
    )
