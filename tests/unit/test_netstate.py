"""hvbridge.netstate: parsing brctl and ip output captured on real hosts, and verify()."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest

from hvbridge.netstate import (
    Address,
    Bridge,
    ExpectedBridge,
    Link,
    NetState,
    ParseError,
    Route,
    bridges_from_links,
    facts,
    parse_brctl_show,
    parse_ip_addr_json,
    parse_ip_link_json,
    parse_ip_route_json,
    state_from_outputs,
    verify,
)

DATA = Path(__file__).parent / "data" / "netstate"
CAPTURES = ("bridged", "unbridged", "half-done")

BR0 = ExpectedBridge(
    name="br0",
    ports=("eth0",),
    address=IPv4Interface("198.18.129.1/17"),
    gateway=IPv4Address("198.18.128.1"),
    defroute=True,
)


def read(capture: str, name: str) -> str:
    return (DATA / capture / name).read_text()


def state(capture: str, *, brctl: bool = True) -> NetState:
    return state_from_outputs(
        read(capture, "brctl-show.txt") if brctl else None,
        read(capture, "ip-link.json"),
        read(capture, "ip-addr.json"),
        read(capture, "ip-route.json"),
    )


# brctl show


def test_brctl_show_bridged_capture() -> None:
    assert parse_brctl_show(read("bridged", "brctl-show.txt")) == [
        Bridge("br-empty", "8000.024856000200", stp=False, ports=()),
        Bridge("br0", "8000.024856000001", stp=False, ports=("eth0", "vnet0")),
        Bridge("br1", "7000.02485600010a", stp=True, ports=("vport-a", "vport-b", "vport-c")),
    ]


def test_brctl_show_half_done_capture() -> None:
    assert parse_brctl_show(read("half-done", "brctl-show.txt")) == [
        Bridge("br0", "8000.024856000001", stp=False, ports=("eth0",)),
    ]


def test_brctl_show_without_bridges_prints_nothing() -> None:
    assert read("unbridged", "brctl-show.txt") == ""
    assert parse_brctl_show("") == []


def test_brctl_show_header_alone() -> None:
    # bridge-utils 1.2 (EL6) prints the header even when there is no bridge.
    assert parse_brctl_show("bridge name\tbridge id\t\tSTP enabled\tinterfaces\n") == []


def test_seed_step4() -> None:
    assert parse_brctl_show((DATA / "el6" / "seed-step4.brctl-show.txt").read_text()) == [
        Bridge("br0", "8000.4437e64a62ad", stp=False, ports=("eth0",)),
    ]


def test_seed_step6_lists_the_guest_tap() -> None:
    assert parse_brctl_show((DATA / "el6" / "seed-step6.brctl-show.txt").read_text()) == [
        Bridge("br0", "8000.4437e64a62ad", stp=False, ports=("eth0", "vnet0")),
    ]


def test_el6_hand_made_sample_with_virbr0() -> None:
    assert parse_brctl_show((DATA / "el6" / "hand-made.brctl-show.txt").read_text()) == [
        Bridge("br0", "8000.4437e64a62ad", stp=False, ports=("eth0", "vnet0")),
        Bridge("virbr0", "8000.525400c4d8a1", stp=True, ports=("virbr0-nic",)),
    ]


HEADER = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n"
BR0_LINE = "br0\t\t8000.4437e64a62ad\tno\t\teth0\n"


@pytest.mark.parametrize(
    ("text", "line_no", "reason"),
    [
        ("bridge name\tbridge id\n" + BR0_LINE, 1, "expected the brctl show header"),
        (HEADER + "br0\t\t8000.4437e64a62a\tno\t\teth0\n", 2, "invalid bridge id"),
        (HEADER + "br0\t\t8000.4437E64A62AD\tno\t\teth0\n", 2, "invalid bridge id"),
        (HEADER + "br0\t\t8000.4437e64a62ad\tmaybe\t\teth0\n", 2, "must be yes or no"),
        (HEADER + "br0\t\t8000.4437e64a62ad\n", 2, "expected NAME ID STP [PORT]"),
        (HEADER + BR0_LINE + "\t\t\t\t\t\t\tvnet0 vnet1\n", 3, "expected one port name"),
        (HEADER + BR0_LINE + " can't get port info: No such device\n", 3, "one port name"),
        (HEADER + "\t\t\t\t\t\t\tvnet0\n", 2, "port line before any bridge"),
        (HEADER + BR0_LINE + "\n" + BR0_LINE, 3, "expected NAME ID STP [PORT]"),
        (HEADER + BR0_LINE + BR0_LINE, 3, "bridge br0 is listed twice"),
        (HEADER + BR0_LINE + "\t\t\t\t\t\t\tvnet0123456789ab\n", 3, "invalid interface name"),
        # What bridge-utils prints when a bridge vanishes mid-listing: its name, then
        # the next bridge's line on the same line.
        (HEADER + BR0_LINE + "br1\t\tvirbr0\t\t8000.525400c4d8a1\tyes\t\t\n", 3, "bridge id"),
    ],
)
def test_brctl_show_refuses_what_it_cannot_read(text: str, line_no: int, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_brctl_show(text)
    assert caught.value.line_no == line_no
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"brctl show, line {line_no}: ")


def test_brctl_show_error_names_the_line_of_a_real_capture() -> None:
    lines = read("bridged", "brctl-show.txt").splitlines(keepends=True)
    lines[4] = lines[4].replace("yes", "on")
    with pytest.raises(ParseError, match=r"^brctl show, line 5: br1: STP enabled"):
        parse_brctl_show("".join(lines))


# ip -j -d link show


def links_by_name(capture: str) -> dict[str, Link]:
    return {link.name: link for link in parse_ip_link_json(read(capture, "ip-link.json"))}


def test_ip_link_bridged_capture() -> None:
    links = links_by_name("bridged")
    assert list(links) == [
        "lo",
        "sw-eth0",
        "eth0",
        "vnet0",
        "br0",
        "br1",
        "vpeer-a",
        "vport-a",
        "vpeer-b",
        "vport-b",
        "vpeer-c",
        "vport-c",
        "br-empty",
        "tun0",
    ]
    assert links["eth0"] == Link(
        name="eth0",
        mac="02:48:56:00:00:01",
        state="UP",
        up=True,
        mtu=1500,
        kind="veth",
        master="br0",
    )
    assert links["br0"] == Link(
        name="br0",
        mac="02:48:56:00:00:01",
        state="UP",
        up=True,
        mtu=1500,
        kind="bridge",
        master=None,
        stp=False,
        priority=0x8000,
    )
    assert links["lo"].kind is None
    assert links["lo"].mtu == 65536


def test_ip_link_tap_without_carrier_and_tun_down() -> None:
    links = links_by_name("bridged")
    vnet0, tun0, br1 = links["vnet0"], links["tun0"], links["br1"]
    assert (vnet0.kind, vnet0.master, vnet0.up, vnet0.state) == ("tun", "br0", True, "DOWN")
    assert vnet0.mac == "fe:54:00:da:c3:dc"
    # A tun device in tun mode has no link-layer address.
    assert (tun0.kind, tun0.mac, tun0.up, tun0.state) == ("tun", None, False, "DOWN")
    assert (br1.stp, br1.priority, br1.state) == (True, 0x7000, "DOWN")


@pytest.mark.parametrize("capture", CAPTURES)
def test_brctl_and_ip_link_agree(capture: str) -> None:
    from_brctl = parse_brctl_show(read(capture, "brctl-show.txt"))
    from_links = bridges_from_links(parse_ip_link_json(read(capture, "ip-link.json")))
    assert from_links == from_brctl


def test_ip_link_fallback_ignores_non_bridge_masters() -> None:
    links = [
        Link("bond0", "02:48:56:00:00:09", "UP", True, 1500, "bond", None),
        Link("eth1", "02:48:56:00:00:08", "UP", True, 1500, None, "bond0"),
        Link("br9", "02:48:56:00:00:07", "UP", True, 1500, "bridge", None, True, 0),
    ]
    assert bridges_from_links(links) == [Bridge("br9", "0000.024856000007", True, ())]


def test_state_from_outputs_falls_back_to_ip_link_without_brctl() -> None:
    fallback = state("bridged", brctl=False)
    assert fallback.bridges_from == "ip -j -d link show"
    assert fallback.bridges == state("bridged").bridges


# ip -j -4 addr show, ip -j -4 route show


def test_ip_addr_captures() -> None:
    assert parse_ip_addr_json(read("bridged", "ip-addr.json")) == [
        Address("lo", IPv4Interface("127.0.0.1/8")),
        Address("br0", IPv4Interface("198.18.129.1/17")),
    ]
    assert parse_ip_addr_json(read("half-done", "ip-addr.json")) == [
        Address("lo", IPv4Interface("127.0.0.1/8")),
        Address("eth0", IPv4Interface("198.18.129.1/17")),
    ]


def test_ip_route_captures() -> None:
    assert parse_ip_route_json(read("bridged", "ip-route.json")) == [
        Route("default", IPv4Address("198.18.128.1"), "br0"),
        Route("198.18.128.0/17", None, "br0"),
    ]
    assert parse_ip_route_json(read("unbridged", "ip-route.json"))[0] == Route(
        "default", IPv4Address("198.18.128.1"), "eth0"
    )


def test_ip_json_with_nothing_to_show() -> None:
    # What ip prints in a fresh namespace: no address, no route.
    assert parse_ip_addr_json("[]\n") == []
    assert parse_ip_route_json("[]\n") == []


def test_ip_route_metric_and_routes_without_device() -> None:
    text = json.dumps(
        [
            {"dst": "default", "gateway": "198.18.128.1", "dev": "br0", "metric": 100},
            {"type": "unreachable", "dst": "198.19.0.0/16", "flags": []},
        ]
    )
    assert parse_ip_route_json(text) == [
        Route("default", IPv4Address("198.18.128.1"), "br0", metric=100),
        Route("198.19.0.0/16", None, None),
    ]


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_ip_link_json, '[{"ifname": "eth0",\n', r"ip -j -d link show, line 2: invalid JSON"),
        (parse_ip_link_json, '{"ifname": "eth0"}', r"expected a JSON list, got dict"),
        (parse_ip_link_json, '["eth0"]', r"item 1: expected an object"),
        (
            parse_ip_link_json,
            '[{"ifname": "eth0", "flags": [], "mtu": 1500, "operstate": "UP"}]',
            r"item 1 \(eth0\): no details .* run ip with -d",
        ),
        (
            parse_ip_link_json,
            '[{"ifname": "br0", "flags": ["UP"], "mtu": "1500", "operstate": "UP",'
            ' "promiscuity": 0}]',
            r"item 1 \(br0\): 'mtu' must be int, got '1500'",
        ),
        (
            parse_ip_link_json,
            '[{"ifname": "br0", "flags": ["UP"], "mtu": 1500, "operstate": "UP",'
            ' "promiscuity": 0, "address": "02:48:56:00:00:01",'
            ' "linkinfo": {"info_kind": "bridge"}}]',
            r"item 1 \(br0\)\.linkinfo: 'info_data' must be dict, got None",
        ),
        (
            parse_ip_addr_json,
            '[{"ifname": "br0", "addr_info": [{"family": "inet", "local": "198.18.129.1"}]}]',
            r"ip -j -4 addr show: item 1 \(br0\)\.addr_info\[0\]: 'prefixlen' must be int",
        ),
        (
            parse_ip_addr_json,
            '[{"ifname": "br0", "addr_info": [{"family": "inet6", "local": "fe80::1"}]}]',
            r"expected an inet address, got family 'inet6'",
        ),
        (
            parse_ip_route_json,
            '[{"dst": "default", "gateway": "198.18.128.300", "dev": "br0"}]',
            r"ip -j -4 route show: item 1: .*198\.18\.128\.300",
        ),
    ],
)
def test_ip_json_refuses_what_it_cannot_read(
    parse: Callable[[str], object], text: str, message: str
) -> None:
    with pytest.raises(ParseError, match=message):
        parse(text)


# verify


def test_verify_bridged_capture_is_all_good() -> None:
    seed_br0 = replace(BR0, ports=("eth0", "vnet0"))
    assert verify([BR0], state("bridged")) == []
    assert verify([seed_br0], state("bridged", brctl=False)) == []


def test_verify_unbridged_capture() -> None:
    assert verify([BR0], state("unbridged")) == [
        "br0: bridge is missing (brctl show: no bridges)",
        "br0: address 198.18.129.1/17 is still on port eth0; it belongs on br0",
        "br0: default route is via 198.18.128.1 dev eth0, expected via 198.18.128.1 dev br0",
    ]


def test_verify_half_done_capture() -> None:
    assert verify([BR0], state("half-done")) == [
        "br0: address 198.18.129.1/17 is not on br0 (br0 has no IPv4 address)",
        "br0: address 198.18.129.1/17 is still on port eth0; it belongs on br0",
        "br0: default route is via 198.18.128.1 dev eth0, expected via 198.18.128.1 dev br0",
    ]


def test_verify_bridge_without_carrier() -> None:
    # br1 was captured while STP still held its ports in listening.
    br1 = ExpectedBridge("br1", ("vport-a", "vport-b", "vport-c"), None, None, defroute=False)
    assert verify([br1], state("bridged")) == ["br1: link is down (state DOWN, no port forwarding)"]


def test_verify_bridge_administratively_down() -> None:
    bridged = state("bridged")
    links = tuple(replace(link, up=False) if link.name == "br0" else link for link in bridged.links)
    assert verify([BR0], replace(bridged, links=links)) == ["br0: link is administratively down"]


def test_verify_ports_missing_from_the_bridge() -> None:
    empty = ExpectedBridge("br-empty", ("tun0", "eth0", "eth1"), None, None, defroute=False)
    bridged = state("bridged")
    bridged = replace(bridged, links=tuple(replace(link, state="UP") for link in bridged.links))
    assert verify([empty], bridged) == [
        "br-empty: port tun0 is not in the bridge (brctl show: br-empty has no ports)",
        "br-empty: port eth0 is not in the bridge (brctl show: eth0 is a port of br0)",
        "br-empty: port eth1 is not in the bridge (there is no device eth1)",
    ]


def test_verify_port_enslaved_to_something_else() -> None:
    bridged = state("bridged")
    bond = Link("bond0", "02:48:56:00:00:09", "UP", True, 1500, "bond", None)
    eth1 = Link("eth1", "02:48:56:00:00:08", "UP", True, 1500, None, "bond0")
    bridged = replace(bridged, links=(*bridged.links, bond, eth1))
    assert verify([replace(BR0, ports=("eth0", "eth1"))], bridged) == [
        "br0: port eth1 is not in the bridge (ip link: eth1 is enslaved to bond0)"
    ]


def test_verify_names_the_view_the_bridges_came_from() -> None:
    br9 = replace(BR0, name="br9", defroute=False, address=None)
    assert verify([br9], state("bridged", brctl=False)) == [
        "br9: bridge is missing (ip -j -d link show: bridges br-empty, br0, br1)"
    ]


def test_verify_wrong_prefix_on_the_bridge() -> None:
    want = replace(BR0, address=IPv4Interface("198.18.129.1/24"))
    assert verify([want], state("bridged")) == [
        "br0: has 198.18.129.1/17, expected 198.18.129.1/24"
    ]


def test_verify_other_address_on_a_port() -> None:
    bridged = state("bridged")
    extra = Address("vnet0", IPv4Interface("198.18.200.5/24"))
    bridged = replace(bridged, addresses=(*bridged.addresses, extra))
    assert verify([replace(BR0, ports=("eth0", "vnet0"))], bridged) == [
        "br0: port vnet0 carries 198.18.200.5/24; a bridge port must carry no IPv4 address"
    ]


def test_verify_default_route() -> None:
    bridged = state("bridged")
    no_default = replace(bridged, routes=bridged.routes[1:])
    assert verify([BR0], no_default) == [
        "br0: no default route (expected default via 198.18.128.1 dev br0)"
    ]
    other_gateway = replace(BR0, gateway=IPv4Address("198.18.128.2"))
    assert verify([other_gateway], bridged) == [
        "br0: default route is via 198.18.128.1 dev br0, expected via 198.18.128.2 dev br0"
    ]
    assert verify([replace(BR0, defroute=False)], no_default) == []


def test_verify_dhcp_bridge_checks_only_the_device_of_the_default_route() -> None:
    dhcp = replace(BR0, address=None, gateway=None)
    assert verify([dhcp], state("bridged")) == []
    assert verify([dhcp], state("half-done")) == [
        "br0: port eth0 carries 198.18.129.1/17; a bridge port must carry no IPv4 address",
        "br0: default route is via 198.18.128.1 dev eth0, expected dev br0",
    ]


def test_verify_uses_the_default_route_with_the_lowest_metric() -> None:
    bridged = state("bridged")
    via_eth0 = Route("default", IPv4Address("198.18.128.1"), "eth0", metric=0)
    via_br0 = replace(bridged.routes[0], metric=100)
    routes = (via_br0, via_eth0, *bridged.routes[1:])
    assert verify([BR0], replace(bridged, routes=routes)) == [
        "br0: default route is via 198.18.128.1 dev eth0, expected via 198.18.128.1 dev br0"
    ]


# facts


def test_facts_of_the_bridged_capture() -> None:
    summary = facts(state("bridged"))
    assert summary == {
        "bridges": {
            # The MTU from ip link; no forward delay without the chain's sysfs part.
            "br-empty": {
                "id": "8000.024856000200",
                "stp": False,
                "ports": [],
                "mtu": 1500,
                "forward_delay": None,
            },
            "br0": {
                "id": "8000.024856000001",
                "stp": False,
                "ports": ["eth0", "vnet0"],
                "mtu": 1500,
                "forward_delay": None,
            },
            "br1": {
                "id": "7000.02485600010a",
                "stp": True,
                "ports": ["vport-a", "vport-b", "vport-c"],
                "mtu": 1500,
                "forward_delay": None,
            },
        },
        "bridges_from": "brctl show",
        "addresses": {"lo": ["127.0.0.1/8"], "br0": ["198.18.129.1/17"]},
        "default_route": {"gateway": "198.18.128.1", "device": "br0", "metric": 0},
    }
    assert json.loads(json.dumps(summary)) == summary


def test_facts_without_default_route() -> None:
    bridged = state("bridged")
    assert facts(replace(bridged, routes=()))["default_route"] is None
