"""verify over a bridge's whole chain: bonds, VLANs, MTU per device, STP and its forward
delay, IPv6, DNS; and what hoststate expects of a model with them. Exact messages."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from pathlib import Path
from types import SimpleNamespace

from hvbridge.bonding import parse_proc_bonding
from hvbridge.chainstate import (
    BridgeSettings,
    ChainState,
    parse_resolv_conf,
    parse_vlan_config,
)
from hvbridge.hoststate import expected_bridges
from hvbridge.ipv6state import parse_ip6_addr_text, parse_ip6_route_text
from hvbridge.netstate import (
    Address,
    Bridge,
    ExpectedBond,
    ExpectedBridge,
    ExpectedDns,
    ExpectedVlan,
    Link,
    NetState,
    Route,
    verify,
)

DATA = Path(__file__).parent / "data" / "netstate" / "chain"


def read(name: str) -> str:
    return (DATA / name).read_text()


def link(name: str, mtu: int = 9000, master: str | None = None, kind: str | None = None) -> Link:
    return Link(name, "02:48:56:00:01:01", "UP", True, mtu, kind, master)


# br100 over VLAN bond0.100 over bond0 (eth1, eth2), all at MTU 9000, as bonded hosts run.
LINKS = (
    link("eth1", master="bond0"),
    link("eth2", master="bond0"),
    link("bond0", kind="bond"),
    link("bond0.100", master="br100", kind="vlan"),
    link("br100", kind="bridge"),
)
CHAIN = ChainState(
    bonds={"bond0": parse_proc_bonding("bond0", read("bond0-active-backup.txt"))},
    vlans=parse_vlan_config(read("vlan-config.txt")),
    bridge_settings={"br100": BridgeSettings("br100", 1, 200)},
    addresses6=tuple(
        parse_ip6_addr_text(read("ip6-addr.txt").replace("br0", "br100").replace("tentative", ""))
    ),
    routes6=tuple(parse_ip6_route_text(read("ip6-route.txt").replace("br0", "br100"))),
    resolver=parse_resolv_conf("/etc/resolv.conf", read("resolv.conf")),
)
STATE = NetState(
    bridges=(Bridge("br100", "8000.024856000101", True, ("bond0.100",)),),
    links=LINKS,
    addresses=(Address("br100", IPv4Interface("198.18.129.1/17")),),
    routes=(Route("default", IPv4Address("198.18.128.1"), "br100"),),
    chain=CHAIN,
)
WANT = ExpectedBridge(
    "br100",
    ("bond0.100",),
    IPv4Interface("198.18.129.1/17"),
    IPv4Address("198.18.128.1"),
    True,
    bonds=(ExpectedBond("bond0", "active-backup", ("eth1", "eth2")),),
    vlans=(ExpectedVlan("bond0.100", 100, "bond0"),),
    mtus=(("br100", 9000), ("bond0.100", 9000), ("bond0", 9000), ("eth1", 9000), ("eth2", 9000)),
    stp=True,
    forward_delay=2,
    ipv6_address=IPv6Interface("2001:db8:1::5/64"),
    ipv6_gateway=IPv6Address("2001:db8:1::1"),
    dns=ExpectedDns(("198.18.0.53", "fd48:6862:0:1::53"), ("lab.example",)),
)


def test_a_chain_as_planned_has_no_problem() -> None:
    assert verify([WANT], STATE) == []


def test_a_bond_in_another_mode_with_a_slave_missing_and_none_active() -> None:
    failed = parse_proc_bonding("bond0", read("bond0-active-backup-failed.txt"))
    bond = replace(failed, mode="balance-rr", slaves=failed.slaves[1:])
    links = tuple(replace(x, master=None) if x.name == "eth1" else x for x in LINKS)
    state = replace(STATE, links=links, chain=replace(CHAIN, bonds={"bond0": bond}))
    assert verify([WANT], state) == [
        "br100: bond bond0 is in mode balance-rr, expected active-backup",
        "br100: eth1 is not a slave of bond bond0 (/proc/net/bonding/bond0: slaves eth2)",
        "br100: bond bond0 has no active slave (eth2 MII down)",
    ]


def test_an_active_backup_bond_with_no_active_slave() -> None:
    failed = parse_proc_bonding("bond0", read("bond0-active-backup-failed.txt"))
    state = replace(STATE, chain=replace(CHAIN, bonds={"bond0": failed}))
    assert verify([WANT], state) == [
        "br100: bond bond0 has no active slave (eth1 MII down, eth2 MII down;"
        " currently active: none)"
    ]


def test_an_802_3ad_bond_is_working_through_its_active_aggregator() -> None:
    lacp = replace(parse_proc_bonding("bond0", read("bond1-802.3ad.txt")), name="bond0")
    want = replace(WANT, bonds=(ExpectedBond("bond0", "802.3ad", ("eth3", "eth4")),), mtus=())
    state = replace(STATE, chain=replace(CHAIN, bonds={"bond0": lacp}))
    assert verify([want], state) == []
    down = replace(lacp, slaves=tuple(replace(s, mii_up=s.name == "eth3") for s in lacp.slaves))
    state = replace(STATE, chain=replace(CHAIN, bonds={"bond0": down}))
    assert verify([want], state) == [
        "br100: bond bond0 has no active slave (eth3 MII up, eth4 MII down;"
        " no slave up in the active aggregator)"
    ]


def test_a_missing_bond_and_vlan() -> None:
    state = replace(STATE, chain=replace(CHAIN, bonds={}, vlans={}))
    assert verify([WANT], state) == [
        "br100: bond bond0 is missing (/proc/net/bonding: bonds none)",
        "br100: VLAN bond0.100 is missing (/proc/net/vlan/config: VLANs none)",
    ]


def test_a_vlan_with_another_id_on_another_parent() -> None:
    want = replace(WANT, vlans=(ExpectedVlan("eth1.200", 201, "bond0"),))
    assert verify([want], STATE) == [
        "br100: VLAN eth1.200 has id 200, expected 201",
        "br100: VLAN eth1.200 is on eth1, expected on bond0",
    ]


def test_mtu_per_device() -> None:
    links = tuple(replace(x, mtu=1500) if x.name in ("eth2", "bond0.100") else x for x in LINKS)
    assert verify([WANT], replace(STATE, links=links)) == [
        "br100: bond0.100 has MTU 1500, expected 9000",
        "br100: eth2 has MTU 1500, expected 9000",
    ]


def test_stp_and_forward_delay() -> None:
    bridges = (replace(STATE.bridges[0], stp=False),)
    settings = {"br100": BridgeSettings("br100", 0, 1500)}
    state = replace(STATE, bridges=bridges, chain=replace(CHAIN, bridge_settings=settings))
    assert verify([WANT], state) == [
        "br100: STP is off, expected on (brctl show)",
        "br100: forward delay is 15 s, expected 2 s",
    ]


def test_ipv6_address_and_default_route() -> None:
    chain = replace(
        CHAIN,
        addresses6=tuple(a for a in CHAIN.addresses6 if a.device != "br100"),
        routes6=tuple(r for r in CHAIN.routes6 if r.dst != "default"),
    )
    assert verify([WANT], replace(STATE, chain=chain)) == [
        "br100: IPv6 address 2001:db8:1::5/64 is not on br100 (br100 has no global IPv6 address)",
        "br100: no IPv6 default route via 2001:db8:1::1 dev br100 (IPv6 default routes: none)",
    ]
    failed = tuple(
        replace(a, flags=("dadfailed", "tentative")) if a.device == "br100" else a
        for a in CHAIN.addresses6
    )
    elsewhere = parse_ip6_route_text("default via fd48:6862:0:1::1 dev eth0 metric 1024\n")
    chain = replace(CHAIN, addresses6=failed, routes6=tuple(elsewhere))
    assert verify([WANT], replace(STATE, chain=chain)) == [
        "br100: IPv6 address 2001:db8:1::5/64 failed duplicate address detection"
        " (another host has it)",
        "br100: no IPv6 default route via 2001:db8:1::1 dev br100"
        " (IPv6 default routes: via fd48:6862:0:1::1 dev eth0)",
    ]


def test_dns_servers_and_search() -> None:
    resolver = parse_resolv_conf("/etc/resolv.conf", "nameserver 198.18.0.54\n")
    state = replace(STATE, chain=replace(CHAIN, resolver=resolver))
    assert verify([WANT], state) == [
        "br100: DNS server 198.18.0.53 is not in /etc/resolv.conf (nameservers 198.18.0.54)",
        "br100: DNS server fd48:6862:0:1::53 is not in /etc/resolv.conf (nameservers 198.18.0.54)",
        "br100: search domain lab.example is not in /etc/resolv.conf (search none)",
    ]


def test_a_state_read_without_the_chain_says_so() -> None:
    assert verify([WANT], replace(STATE, chain=None)) == [
        "br100: the network state was read without bonds, VLANs, bridge settings, IPv6"
        " and the resolver"
    ]


def test_a_single_nic_bridge_asks_nothing_of_the_chain() -> None:
    """Today's expectation (no bond, VLAN, IPv6 or DNS) needs no chain state."""
    want = ExpectedBridge("br100", ("bond0.100",), None, None, False)
    assert verify([want], replace(STATE, chain=None)) == []


def test_expected_bridges_follow_the_chain_of_the_model() -> None:
    nic = SimpleNamespace(mtu=None)
    model = SimpleNamespace(
        nics={"eth0": SimpleNamespace(mtu=1500), "eth1": nic, "eth2": nic},
        bonds={"bond0": SimpleNamespace(slaves=["eth1", "eth2"], mode="802.3ad", mtu=9000)},
        vlans={"bond0.100": SimpleNamespace(parent="bond0", id=100, mtu=None)},
        bridges={
            "br0": SimpleNamespace(
                ports=["eth0"], bootproto="dhcp", gateway=None, defroute=True, stp=False,
                delay=0, mtu=None, ipv6addr=None, ipv6_gateway=None, dns=None,
            ),
            "br100": SimpleNamespace(
                ports=["bond0.100"], bootproto="dhcp", gateway=None, defroute=False, stp=True,
                delay=4, mtu=9000, ipv6addr=IPv6Interface("2001:db8:1::5/64"),
                ipv6_gateway=IPv6Address("2001:db8:1::1"),
                dns=SimpleNamespace(servers=[IPv4Address("198.18.0.53")], search=["lab.example"]),
            ),
        },
    )  # fmt: skip
    br0, br100 = expected_bridges(model)
    assert br0 == ExpectedBridge(
        "br0", ("eth0",), None, None, True, mtus=(("eth0", 1500),), stp=False
    )
    assert br100 == ExpectedBridge(
        "br100",
        ("bond0.100",),
        None,
        None,
        False,
        bonds=(ExpectedBond("bond0", "802.3ad", ("eth1", "eth2")),),
        vlans=(ExpectedVlan("bond0.100", 100, "bond0"),),
        mtus=(("br100", 9000), ("bond0", 9000), ("eth1", 9000), ("eth2", 9000)),
        stp=True,
        forward_delay=4,
        ipv6_address=IPv6Interface("2001:db8:1::5/64"),
        ipv6_gateway=IPv6Address("2001:db8:1::1"),
        dns=ExpectedDns(("198.18.0.53",), ("lab.example",)),
    )


def test_the_dns_is_checked_in_resolv_conf_except_where_networkmanager_decides() -> None:
    from pathlib import Path

    import yaml

    from hvbridge import platforms
    from hvbridge.inventory.models import HostData

    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "inventory/bonded/hosts.yaml").read_text())["hv01"]["data"]
    model = HostData.model_validate(data)
    for name, checked in (("el6", True), ("el7", True), ("debian", True), ("ubuntu", True),
                          ("el8", False), ("el9", False)):  # fmt: skip
        br100 = expected_bridges(model, platforms.get(name))[0]
        assert (br100.dns is not None) is checked, name
    assert expected_bridges(model)[0].dns is not None


def test_with_stp_on_the_forward_delay_expected_is_at_least_the_kernel_s_2_s() -> None:
    def bridge(stp: bool, delay: int) -> SimpleNamespace:
        return SimpleNamespace(
            ports=["eth0"], bootproto="dhcp", ipaddr=None, prefix=None, netmask=None,
            gateway=None, defroute=True, stp=stp, delay=delay,
        )  # fmt: skip

    nics = {"eth0": SimpleNamespace(hwaddr="02:48:56:00:00:01")}
    for stp, delay, expected in ((True, 0, 2), (True, 1, 2), (True, 4, 4), (False, 0, None)):
        model = SimpleNamespace(nics=nics, bridges={"br0": bridge(stp, delay)})
        assert expected_bridges(model)[0].forward_delay == expected, (stp, delay)
