"""The parsers of what the state command reads beyond brctl and IPv4: bonds, VLANs,
bridge settings, IPv6, the resolver; on captured outputs (data/netstate/chain)."""

from __future__ import annotations

from ipaddress import IPv6Address, IPv6Interface
from pathlib import Path

import pytest

from hvbridge.bonding import Bond, BondSlave, parse_proc_bonding
from hvbridge.chainstate import (
    BridgeSettings,
    ChainState,
    Resolver,
    Vlan,
    chain_from_outputs,
    parse_bonds,
    parse_bridge_settings,
    parse_resolv_conf,
    parse_vlan_config,
    vlans_seen,
)
from hvbridge.hoststate import parse_state
from hvbridge.ipv6state import (
    Address6,
    Route6,
    parse_ip6_addr_json,
    parse_ip6_addr_text,
    parse_ip6_route_json,
    parse_ip6_route_text,
)
from hvbridge.netstate import (
    ParseError,
    parse_ip_link_json,
    parse_ip_link_text,
    state_from_text_outputs,
)
from hvbridge.platforms.iproute import BOND_MARK, MARK, PARTS, STATE_COMMAND, split_families

DATA = Path(__file__).parent / "data" / "netstate" / "chain"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_an_active_backup_bond() -> None:
    bond = parse_proc_bonding("bond0", read("bond0-active-backup.txt"))
    assert bond == Bond(
        name="bond0",
        mode="active-backup",
        miimon=100,
        mii_up=True,
        slaves=(
            BondSlave("eth1", True, permanent="02:48:56:00:01:01"),
            BondSlave("eth2", True, permanent="02:48:56:00:01:02"),
        ),
        active="eth1",
    )
    assert bond.working_slaves() == ["eth1"]


def test_an_active_backup_bond_on_el6_with_no_active_slave() -> None:
    bond = parse_proc_bonding("bond0", read("bond0-active-backup-failed.txt"))
    assert (bond.active, bond.mii_up) == (None, False)
    # "going back": the updelay runs, the slave carries nothing yet.
    assert bond.slaves == (
        BondSlave("eth1", False, permanent="02:48:56:00:01:01"),
        BondSlave("eth2", False, permanent="02:48:56:00:01:02"),
    )
    assert bond.working_slaves() == []


def test_an_802_3ad_bond_works_through_its_active_aggregator_only() -> None:
    bond = parse_proc_bonding("bond1", read("bond1-802.3ad.txt"))
    assert (bond.mode, bond.miimon, bond.active, bond.active_aggregator) == (
        "802.3ad",
        100,
        None,
        2,
    )
    assert bond.slaves == (
        BondSlave("eth3", True, 1, "02:48:56:00:02:01"),
        BondSlave("eth4", True, 2, "02:48:56:00:02:02"),
    )
    assert bond.working_slaves() == ["eth4"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Bonding Mode: fault-tolerance (active-backup)\nMII Status: up\n", "no 'MII Polling"),
        (
            "Bonding Mode: load balancing (lottery)\nMII Status: up\n"
            "MII Polling Interval (ms): 100\n",
            "unknown Bonding Mode 'load balancing (lottery)'",
        ),
        (
            "Bonding Mode: load balancing (xor)\nMII Status: sideways\n"
            "MII Polling Interval (ms): 100\n",
            "bond0: MII Status must be up or down, got 'sideways'",
        ),
        (
            "Bonding Mode: load balancing (xor)\nMII Status: up\nMII Polling Interval (ms): 1\n"
            "\nSlave Interface: eth1\nMII Status: up\n\nSlave Interface: eth1\n",
            "slave 'eth1' listed twice",
        ),
    ],
)
def test_a_bonding_file_that_does_not_read_as_one_raises(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=r"^/proc/net/bonding/bond0.*") as raised:
        parse_proc_bonding("bond0", text)
    assert message in str(raised.value)


def test_the_state_command_s_bond_sections() -> None:
    text = (
        f"{BOND_MARK} bond0\n{read('bond0-active-backup.txt')}"
        f"{BOND_MARK} bond1\n{read('bond1-802.3ad.txt')}"
    )
    bonds = parse_bonds(text)
    assert {name: bond.mode for name, bond in bonds.items()} == {
        "bond0": "active-backup",
        "bond1": "802.3ad",
    }
    assert parse_bonds("") == {}
    with pytest.raises(ParseError, match="expected '@@hvbridge-bond@@ BOND'"):
        parse_bonds("Bonding Mode: fault-tolerance (active-backup)\n")


def test_vlan_config() -> None:
    assert parse_vlan_config(read("vlan-config.txt")) == {
        "bond0.100": Vlan("bond0.100", 100, "bond0"),
        "eth1.200": Vlan("eth1.200", 200, "eth1"),
    }
    assert parse_vlan_config("") == {}
    with pytest.raises(ParseError, match=r"line 3: expected 'NAME \| ID \| PARENT'"):
        parse_vlan_config(read("vlan-config.txt").replace("| 100 ", "| x "))


def test_bridge_settings_from_sysfs() -> None:
    assert parse_bridge_settings(read("bridge-settings.txt")) == {
        "br0": BridgeSettings("br0", 1, 200)
    }
    with pytest.raises(ParseError, match="expected 'BRIDGE STP_STATE FORWARD_DELAY'"):
        # A bridge whose files vanished while read: cat printed nothing.
        parse_bridge_settings("br0\n")


def test_the_resolver() -> None:
    assert parse_resolv_conf("/etc/resolv.conf", read("resolv.conf")) == Resolver(
        "/etc/resolv.conf",
        ("198.18.0.53", "fd48:6862:0:1::53"),
        ("lab.example", "hv.lab.example"),
    )
    # glibc: the last search or domain line wins.
    later = parse_resolv_conf("/r", "search a.example\ndomain b.example\nnameserver fe80::1%br0\n")
    assert (later.search, later.servers) == (("b.example",), ("fe80::1",))
    # glibc skips a nameserver that is no address, and a bare keyword.
    skipped = parse_resolv_conf("/r", "nameserver dns.example\nnameserver\nnameserver 198.18.0.9\n")
    assert skipped.servers == ("198.18.0.9",)


def test_ipv6_addresses_text_and_json_agree() -> None:
    text = parse_ip6_addr_text(read("ip6-addr.txt"))
    assert text == parse_ip6_addr_json(read("ip6-addr.json"))
    assert text[1] == Address6("br0", IPv6Interface("2001:db8:1::5/64"), "global", ("tentative",))
    assert [(a.device, str(a.ip), a.scope) for a in text[2:]] == [
        ("sw-eth0", "fd48:6862:0:3::9/64", "global"),
        ("sw-eth0", "fe80::b8ee:cfff:fead:3e22/64", "link"),
        ("eth0", "fe80::6d:4ff:fe9f:95ff/64", "link"),
    ]


def test_ipv6_addresses_on_el6() -> None:
    assert parse_ip6_addr_text(read("el6.ip6-addr.txt"))[1] == Address6(
        "br0", IPv6Interface("2001:db8:1::5/64"), "global"
    )


def test_ipv6_routes_text_and_json_agree() -> None:
    text = parse_ip6_route_text(read("ip6-route.txt"))
    assert text == parse_ip6_route_json(read("ip6-route.json"))
    assert text[-1] == Route6("default", IPv6Address("2001:db8:1::1"), "br0", 1024)


def test_ipv6_routes_on_el6() -> None:
    routes = parse_ip6_route_text(read("el6.ip6-route.txt"))
    assert [(r.dst, r.device, r.metric) for r in routes] == [
        ("2001:db8:1::/64", "br0", 256),
        ("fe80::/64", "eth0", 256),
        ("fe80::/64", "br0", 256),
        ("::/96", "lo", 1024),
        ("default", "br0", 1),
    ]
    assert routes[-1].gateway == IPv6Address("2001:db8:1::1")


def test_an_ipv6_route_that_is_not_one_raises() -> None:
    with pytest.raises(ParseError, match=r"ip -6 route show, line 1: expected default or an IPv6"):
        parse_ip6_route_text("198.18.0.0/24 dev br0\n")
    with pytest.raises(ParseError, match=r"line 1: br0: expected an inet6 address, got 'inet'"):
        parse_ip6_addr_text("2: br0    inet 198.18.0.5/24 scope global br0\n")


def test_the_state_command_reads_everything_in_one_round_trip() -> None:
    assert STATE_COMMAND.count(f"echo {MARK}") == PARTS - 1
    parts = [
        "brctl\nbridge name\tbridge id\t\tSTP enabled\tinterfaces\n"
        "br0\t\t8000.024856000001\tyes\t\teth0\n",
        "2: br0: <BROADCAST,UP> mtu 1500 qdisc noqueue state UP \\    link/ether"
        " 02:48:56:00:00:01 brd ff:ff:ff:ff:ff:ff\n",
        # `ip -o addr show`: both families, parted by split_families.
        "2: br0    inet 198.18.0.5/24 brd 198.18.0.255 scope global br0\\"
        "       valid_lft forever preferred_lft forever\n" + read("ip6-addr.txt"),
        "",
        read("ip6-route.txt"),
        f"/etc/resolv.conf\n{read('resolv.conf')}\n",
        read("bridge-settings.txt"),
        f"{BOND_MARK} bond0\n{read('bond0-active-backup.txt')}",
        read("vlan-config.txt"),
    ]
    state = parse_state("hv01", f"{MARK}\n".join(parts))
    chain = state.chain
    assert chain is not None
    assert [(a.device, str(a.ip)) for a in state.addresses] == [("br0", "198.18.0.5/24")]
    assert chain.addresses6 == tuple(parse_ip6_addr_text(read("ip6-addr.txt")))
    assert (list(chain.bonds), list(chain.vlans), list(chain.bridge_settings)) == (
        ["bond0"],
        ["bond0.100", "eth1.200"],
        ["br0"],
    )
    assert chain.resolver is not None and chain.resolver.path == "/etc/resolv.conf"
    assert len(chain.addresses6) == 5 and len(chain.routes6) == 5


def test_a_host_without_ipv6_bonds_or_vlans() -> None:
    chain = chain_from_outputs("", "", "/etc/resolv.conf\n\n", "", "", "")
    assert (chain.bonds, chain.vlans, chain.addresses6, chain.routes6) == ({}, {}, (), ())
    assert chain.resolver == Resolver("/etc/resolv.conf", (), ())


def test_ip_link_text_and_json_with_a_bond_and_a_vlan() -> None:
    text = parse_ip_link_text(read("ip-link-bond-vlan.txt"))
    assert text == parse_ip_link_json(read("ip-link-bond-vlan.json"))
    links = {link.name: link for link in text}
    # A bond's slaves keep their own kind: bond_slave is their master's, as bridge_slave.
    assert [(n, links[n].kind, links[n].master, links[n].mtu) for n in links] == [
        ("eth1", "veth", "bond0", 9000),
        ("eth2", "veth", "bond0", 9000),
        ("bond0", "bond", None, 9000),
        ("bond0.100", "vlan", "br100", 9000),
        ("br100", "bridge", None, 9000),
    ]
    assert (links["bond0.100"].vlan_id, links["bond0.100"].vlan_parent) == (100, "bond0")
    assert (links["br100"].stp, links["bond0"].vlan_id) == (True, None)


def test_an_el6_vlan_line_and_one_without_its_parent() -> None:
    el6 = (
        "6: eth1.200@eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP"
        " \\    link/ether 02:48:56:00:01:01 brd ff:ff:ff:ff:ff:ff\\    vlan id 200 <REORDER_HDR>\n"
    )
    (link,) = parse_ip_link_text(el6)
    assert (link.kind, link.vlan_id, link.vlan_parent) == ("vlan", 200, "eth1")
    with pytest.raises(ParseError, match=r"eth1\.200: a VLAN without its id or its NAME@PARENT"):
        parse_ip_link_text(el6.replace("@eth1", ""))


def test_vlans_seen_by_ip_count_where_proc_lists_none() -> None:
    links = parse_ip_link_text(read("ip-link-bond-vlan.txt"))
    assert vlans_seen(ChainState(), links) == {"bond0.100": Vlan("bond0.100", 100, "bond0")}


def test_split_families_parts_ip_o_addr_by_family_and_skips_an_old_iproutes_link_lines() -> None:
    text = (
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n"
        "1: lo    inet6 ::1/128 scope host \\       valid_lft forever\n"
        "2: eth0: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast \\    link/ether"
        " 02:48:56:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
        "3: br0    inet 198.18.1.1/17 brd 198.18.127.255 scope global br0\n"
        "3: br0    inet6 fd48:6862::5/64 scope global \\       valid_lft forever\n"
    )
    inet, inet6 = split_families(text)
    assert inet.splitlines() == [text.splitlines()[0], text.splitlines()[3]]
    assert inet6.splitlines() == [text.splitlines()[1], text.splitlines()[4]]


def test_a_line_of_no_family_goes_to_ipv4s_reader_which_says_what_is_wrong() -> None:
    inet, inet6 = split_families("3: br0    ipx 12:34 scope global\n")
    assert (inet, inet6) == ("3: br0    ipx 12:34 scope global\n", "")
    with pytest.raises(ParseError, match=r"br0: expected an inet address, got 'ipx'"):
        state_from_text_outputs(None, "", inet, "")
