"""hvbridge.netstate: ip's text forms (ip -o), which EL6 and EL7 hosts print instead of JSON.

Every real capture holds both forms from one run, so the text parsers are held to give
exactly what the JSON parsers give; the EL6 samples are hand-written in iproute 2.6.32's
formats.
"""

from __future__ import annotations

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
    facts,
    parse_ip_addr_json,
    parse_ip_addr_text,
    parse_ip_link_json,
    parse_ip_link_text,
    parse_ip_route_json,
    parse_ip_route_text,
    state_from_outputs,
    state_from_text_outputs,
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
EXPECTATIONS = [
    BR0,
    replace(BR0, ports=("eth0", "vnet0")),
    replace(BR0, address=None, gateway=None),
    ExpectedBridge("br1", ("vport-a", "vport-b", "vport-c"), None, None, defroute=False),
    ExpectedBridge("br-empty", ("tun0", "eth0", "eth1"), None, None, defroute=False),
]
SEED_BR0 = ExpectedBridge(
    name="br0",
    ports=("eth0",),
    address=IPv4Interface("10.0.112.39/24"),
    gateway=IPv4Address("10.0.112.1"),
    defroute=True,
)
LO_626 = (
    "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 16436 qdisc noqueue state UNKNOWN \\"
    "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
)
DETAILS = " promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 "
ETHER = "\\    link/ether 44:37:e6:4a:62:ad"
LIFETIMES = "\\       valid_lft forever preferred_lft forever"


def read(capture: str, name: str) -> str:
    return (DATA / capture / name).read_text()


def el6(name: str) -> str:
    return read("el6", f"hand-made.{name}")


def text_state(capture: str, *, brctl: bool = True) -> NetState:
    return state_from_text_outputs(
        read(capture, "brctl-show.txt") if brctl else None,
        read(capture, "ip-link.txt"),
        read(capture, "ip-addr.txt"),
        read(capture, "ip-route.txt"),
    )


def json_state(capture: str, *, brctl: bool = True) -> NetState:
    return state_from_outputs(
        read(capture, "brctl-show.txt") if brctl else None,
        read(capture, "ip-link.json"),
        read(capture, "ip-addr.json"),
        read(capture, "ip-route.json"),
    )


def el6_state(*, brctl: bool = True) -> NetState:
    return state_from_text_outputs(
        el6("brctl-show.txt") if brctl else None,
        el6("ip-link.txt"),
        el6("ip-addr.txt"),
        el6("ip-route.txt"),
    )


# the real captures: text and JSON from one run


@pytest.mark.parametrize("capture", CAPTURES)
def test_text_links_are_the_json_links(capture: str) -> None:
    from_text = parse_ip_link_text(read(capture, "ip-link.txt"))
    from_json = parse_ip_link_json(read(capture, "ip-link.json"))
    # Every field, kind, operstate, stp and priority included: -d shows them all here.
    assert from_text == from_json
    assert {link.kind for link in from_text} >= {"veth", None}


@pytest.mark.parametrize("capture", CAPTURES)
def test_text_addresses_and_routes_are_the_json_ones(capture: str) -> None:
    assert parse_ip_addr_text(read(capture, "ip-addr.txt")) == parse_ip_addr_json(
        read(capture, "ip-addr.json")
    )
    assert parse_ip_route_text(read(capture, "ip-route.txt")) == parse_ip_route_json(
        read(capture, "ip-route.json")
    )


@pytest.mark.parametrize("brctl", [True, False])
@pytest.mark.parametrize("capture", CAPTURES)
def test_text_state_is_the_json_state(capture: str, brctl: bool) -> None:
    from_text, from_json = text_state(capture, brctl=brctl), json_state(capture, brctl=brctl)
    expected_source = "brctl show" if brctl else "ip -o -d link show"
    assert from_text.bridges_from == expected_source
    assert from_text == replace(from_json, bridges_from=expected_source)


@pytest.mark.parametrize("want", EXPECTATIONS, ids=lambda want: want.name)
@pytest.mark.parametrize("capture", CAPTURES)
def test_verify_finds_the_same_problems_in_text_and_json(
    capture: str, want: ExpectedBridge
) -> None:
    assert verify([want], text_state(capture)) == verify([want], json_state(capture))


def test_verify_on_text_is_not_trivially_equal() -> None:
    assert verify([BR0], text_state("bridged")) == []
    assert verify([BR0], text_state("half-done")) == [
        "br0: address 198.18.129.1/17 is not on br0 (br0 has no IPv4 address)",
        "br0: address 198.18.129.1/17 is still on port eth0; it belongs on br0",
        "br0: default route is via 198.18.128.1 dev eth0, expected via 198.18.128.1 dev br0",
    ]


def test_verify_names_the_text_view_without_brctl() -> None:
    br9 = replace(BR0, name="br9", defroute=False, address=None)
    assert verify([br9], text_state("bridged", brctl=False)) == [
        "br9: bridge is missing (ip -o -d link show: bridges br-empty, br0, br1)"
    ]


def test_text_link_names_drop_the_peer() -> None:
    line = next(line for line in read("bridged", "ip-link.txt").splitlines() if " eth0@" in line)
    assert line.startswith("3: eth0@sw-eth0: ")
    links = {link.name: link for link in parse_ip_link_text(read("bridged", "ip-link.txt"))}
    assert "eth0@sw-eth0" not in links
    assert (links["eth0"].kind, links["eth0"].master) == ("veth", "br0")
    # vnet0's `bridge_slave` part is its master's kind, not its own.
    assert (links["vnet0"].kind, links["vnet0"].master) == ("tun", "br0")
    assert (links["tun0"].mac, links["tun0"].up) == (None, False)
    assert (links["br1"].stp, links["br1"].priority) == (True, 0x7000)


# EL6: iproute 2.6.32, bridge-utils 1.2


def test_el6_links() -> None:
    assert parse_ip_link_text(el6("ip-link.txt")) == [
        Link("lo", "00:00:00:00:00:00", "UNKNOWN", True, 16436, None, None),
        Link("eth0", "44:37:e6:4a:62:ad", "UP", True, 1500, None, "br0"),
        Link("br0", "44:37:e6:4a:62:ad", "UNKNOWN", True, 1500, None, None),
        Link("virbr0", "52:54:00:c4:d8:a1", "UNKNOWN", True, 1500, None, None),
        Link("virbr0-nic", "52:54:00:c4:d8:a1", "DOWN", False, 1500, None, "virbr0"),
        Link("vnet0", "fe:54:00:da:c3:dc", "UNKNOWN", True, 1500, None, "br0"),
    ]


def test_el6_addresses_and_routes() -> None:
    assert parse_ip_addr_text(el6("ip-addr.txt")) == [
        Address("lo", IPv4Interface("127.0.0.1/8")),
        Address("br0", IPv4Interface("10.0.112.39/24")),
        Address("virbr0", IPv4Interface("192.168.122.1/24")),
    ]
    assert parse_ip_route_text(el6("ip-route.txt")) == [
        Route("10.0.112.0/24", None, "br0"),
        Route("192.168.122.0/24", None, "virbr0"),
        Route("169.254.0.0/16", None, "br0", metric=1003),
        Route("default", IPv4Address("10.0.112.1"), "br0"),
    ]


def test_el6_state_is_the_seed_after_bridging() -> None:
    state = el6_state()
    assert state.bridges == (
        Bridge("br0", "8000.4437e64a62ad", stp=False, ports=("eth0", "vnet0")),
        Bridge("virbr0", "8000.525400c4d8a1", stp=True, ports=("virbr0-nic",)),
    )
    # brctl and ip agree on every port, though ip cannot tell the bridges itself.
    for bridge in state.bridges:
        ports = sorted(link.name for link in state.links if link.master == bridge.name)
        assert tuple(ports) == bridge.ports
    assert verify([SEED_BR0], state) == []
    assert verify([replace(SEED_BR0, ports=("eth0", "vnet0"))], state) == []
    assert facts(state)["default_route"] == {"gateway": "10.0.112.1", "device": "br0", "metric": 0}


def test_el6_before_bridging() -> None:
    before = el6_state()
    addresses = (Address("eth0", IPv4Interface("10.0.112.39/24")), *before.addresses[2:])
    before = replace(
        before,
        bridges=before.bridges[1:],
        addresses=addresses,
        routes=(Route("default", IPv4Address("10.0.112.1"), "eth0"),),
    )
    assert verify([SEED_BR0], before) == [
        "br0: bridge is missing (brctl show: bridges virbr0)",
        "br0: address 10.0.112.39/24 is still on port eth0; it belongs on br0",
        "br0: default route is via 10.0.112.1 dev eth0, expected via 10.0.112.1 dev br0",
    ]


def test_el6_without_brctl_asks_for_bridge_utils() -> None:
    with pytest.raises(ParseError, match=r"needs brctl \(bridge-utils\)") as caught:
        el6_state(brctl=False)
    assert caught.value.source == "ip -o -d link show"
    assert "no link details" in caught.value.reason


def test_iproute_2_6_32_details_name_a_kind_but_no_bridge() -> None:
    # 2.6.32's -d adds a bare kind for the drivers that report one, and no promiscuity.
    text = LO_626 + (
        "2: eth1@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP \\"
        "    link/ether 44:37:e6:4a:62:ae brd ff:ff:ff:ff:ff:ff\\    vlan id 5 <REORDER_HDR> \n"
    )
    # The VLAN's id from its details, its parent from NAME@PARENT.
    assert parse_ip_link_text(text)[1] == Link(
        "eth1", "44:37:e6:4a:62:ae", "UP", True, 1500, "vlan", None, vlan_id=5, vlan_parent="eth0"
    )
    with pytest.raises(ParseError, match="no link details"):
        state_from_text_outputs(None, text, "", "")


def test_alias_and_vf_lines_of_old_iproute_belong_to_the_link_above() -> None:
    text = el6("ip-link.txt").replace(
        "ff:ff:ff:ff:ff:ff\n",
        "ff:ff:ff:ff:ff:ff\n    alias uplink\n    vf 0 MAC 00:00:00:00:00:00\n",
        1,
    )
    assert parse_ip_link_text(text) == parse_ip_link_text(el6("ip-link.txt"))


def test_link_layer_without_an_address() -> None:
    # Old iproute names an unknown hardware type by number; a tun device has no address.
    text = "7: tun0: <POINTOPOINT,NOARP> mtu 1500 qdisc noop state DOWN\\    link/[65534] \n"
    assert parse_ip_link_text(text)[0].mac is None


# what the links must show to stand in for brctl


def test_without_brctl_a_master_without_kind_is_refused() -> None:
    text = (
        f"2: eth0: <BROADCAST,UP> mtu 1500 master br0 state UP{ETHER}{DETAILS}\n"
        f"3: br0: <BROADCAST,UP> mtu 1500 state UP{ETHER}{DETAILS}\n"
    )
    with pytest.raises(ParseError, match=r"no kind for br0, the master of eth0.*bridge-utils"):
        state_from_text_outputs(None, text, "", "")


def test_without_brctl_a_bridge_without_settings_is_refused() -> None:
    # What an ip that knows the bridge kind but prints none of its settings gives.
    text = f"3: br0: <BROADCAST,UP> mtu 1500 state UP{ETHER}{DETAILS}\\    bridge \n"
    assert parse_ip_link_text(text)[0].kind == "bridge"
    with pytest.raises(ParseError, match="bridge br0 without its stp_state and priority"):
        state_from_text_outputs(None, text, "", "")
    assert state_from_text_outputs("", text, "", "").bridges == ()


# addresses and routes ip prints in other shapes


def test_labelled_and_point_to_point_addresses() -> None:
    text = (
        f"5: br0    inet 198.18.129.1/17 scope global br0{LIFETIMES}\n"
        f"5: br0    inet 198.18.129.2/17 scope global secondary br0:1{LIFETIMES}\n"
        "2: eth0    inet 198.18.130.1/24 brd 198.18.130.255 scope global eth0:1\n"
        "9: tun0    inet 198.18.131.1 peer 198.18.131.2/32 scope global tun0\n"
    )
    assert parse_ip_addr_text(text) == [
        Address("br0", IPv4Interface("198.18.129.1/17")),
        Address("br0", IPv4Interface("198.18.129.2/17")),
        Address("eth0", IPv4Interface("198.18.130.1/24")),
        Address("tun0", IPv4Interface("198.18.131.1/32")),
    ]


def test_routes_with_metric_flags_types_and_nexthops() -> None:
    text = (
        "default via 198.18.128.1 dev br0 proto static metric 100 onlink \n"
        "198.18.0.0/17 dev eth0 proto kernel scope link src 198.18.1.1 linkdown \n"
        "unreachable 198.19.5.0/24 \n"
        "198.19.6.7 via 198.18.128.9 dev br0 \n"
        "198.19.7.0/24 proto static metric 20 \n"
        "\tnexthop via 198.18.128.2 dev br0 weight 1 \n"
        "\tnexthop via 198.18.128.3 dev br0 weight 1 \n"
    )
    assert parse_ip_route_text(text) == [
        Route("default", IPv4Address("198.18.128.1"), "br0", metric=100),
        Route("198.18.0.0/17", None, "eth0"),
        Route("198.19.5.0/24", None, None),
        Route("198.19.6.7", IPv4Address("198.18.128.9"), "br0"),
        Route("198.19.7.0/24", None, None, metric=20),
    ]


def test_nothing_to_show() -> None:
    assert parse_ip_addr_text("") == []
    assert parse_ip_route_text("\n") == []
    assert parse_ip_link_text("") == []


# refusing what cannot be read

LINK = "2: eth0: <BROADCAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast master br0 state UP qlen 1000"
LINK_LAYER = f"{ETHER} brd ff:ff:ff:ff:ff:ff\n"
BRIDGE = f"3: br0: <UP> mtu 1500 state UP{ETHER}{DETAILS}"


@pytest.mark.parametrize(
    ("parse", "text", "line_no", "reason"),
    [
        # ip link without -o: the link/ part is on a line of its own.
        (parse_ip_link_text, LINK + "\n    link/ether 44:37:e6:4a:62:ad\n", 1, "no link/ part"),
        (parse_ip_link_text, LO_626 + "    link/ether 44:37:e6:4a:62:ad\n", 2, "run ip with -o"),
        (parse_ip_link_text, "    alias uplink\n", 1, "expected one line per link"),
        (parse_ip_link_text, LO_626 + LINK.replace("eth0:", "eth0") + LINK_LAYER, 2, "N: NAME"),
        (parse_ip_link_text, LO_626 + "\n" + LINK + LINK_LAYER, 2, "N: NAME"),
        (parse_ip_link_text, LINK.replace("mtu 1500", "mtu 1.5k") + LINK_LAYER, 1, "mtu must be"),
        (parse_ip_link_text, LINK.replace("state UP ", "") + LINK_LAYER, 1, "eth0: no state"),
        (parse_ip_link_text, LINK.replace("br0", "br/0") + LINK_LAYER, 1, "interface name"),
        (parse_ip_link_text, LINK.replace("eth0", "eth0123456789abc") + LINK_LAYER, 1, "N: NAME"),
        (parse_ip_link_text, LINK + " master br1" + LINK_LAYER, 1, "master appears twice"),
        (parse_ip_link_text, "2: eth0: <UP> mtu 1500 state\\    link/none \n", 1, "state without"),
        (
            parse_ip_link_text,
            BRIDGE.replace("link/ether 44:37:e6:4a:62:ad", "link/none")
            + "\\    bridge stp_state 0 priority 32768\n",
            1,
            "a bridge without a MAC",
        ),
        (
            parse_ip_link_text,
            BRIDGE + "\\    bridge stp_state on priority 32768\n",
            1,
            "stp_state must be",
        ),
        (
            parse_ip_addr_text,
            "2: eth0    inet6 fe80::1/64 scope link\n",
            1,
            "expected an inet address",
        ),
        (parse_ip_addr_text, "2: eth0    inet 198.18.1.1 scope global eth0\n", 1, "ADDRESS/PREFIX"),
        (parse_ip_addr_text, "2: eth0    inet 198.18.1.300/24 scope global eth0\n", 1, "eth0: "),
        (parse_ip_addr_text, "2: eth0    inet 198.18.1.1/33 scope global eth0\n", 1, "eth0: "),
        (parse_ip_addr_text, "2: eth0    inet\n", 1, "ADDRESS/PREFIX"),
        # ip addr without -o.
        (parse_ip_addr_text, LINK + "\n    inet 198.18.1.1/24 scope global eth0\n", 1, "(ip -o)"),
        (
            parse_ip_addr_text,
            "1: lo    inet 127.0.0.1/8 scope host lo\n\n3: br0    inet 198.18.1.1/24\n",
            2,
            "N: DEVICE",
        ),
        (parse_ip_route_text, "default via 198.18.128.300 dev br0\n", 1, "198.18.128.300"),
        (parse_ip_route_text, "default via\n", 1, "via without a value"),
        (parse_ip_route_text, "default dev br0 dev eth0\n", 1, "dev appears twice"),
        (
            parse_ip_route_text,
            "default via 198.18.128.1 dev br0 metric high\n",
            1,
            "metric must be",
        ),
        (parse_ip_route_text, "default via 198.18.128.1 dev br:0\n", 1, "interface name"),
        (parse_ip_route_text, "198.18.128.0/33 dev br0\n", 1, "expected default or an IPv4"),
        (parse_ip_route_text, "fe80::/64 dev br0\n", 1, "expected default or an IPv4"),
        (parse_ip_route_text, "unreachable\n", 1, "expected a route"),
        (parse_ip_route_text, "\tnexthop via 198.18.128.2 dev br0\n", 1, "expected a route"),
        (parse_ip_route_text, "default dev br0\n  dev eth0\n", 2, "expected a route"),
        (parse_ip_route_text, "default dev br0\n\ndefault dev eth0\n", 2, "expected a route"),
    ],
)
def test_text_parsers_refuse_what_they_cannot_read(
    parse: Callable[[str], object], text: str, line_no: int, reason: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.line_no == line_no
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{caught.value.source}, line {line_no}: ")


@pytest.mark.parametrize(
    ("name", "parse", "source"),
    [
        ("ip-link.txt", parse_ip_link_text, "ip -o -d link show"),
        ("ip-addr.txt", parse_ip_addr_text, "ip -o -4 addr show"),
        ("ip-route.txt", parse_ip_route_text, "ip -4 route show"),
    ],
)
def test_errors_name_the_line_of_a_real_capture(
    name: str, parse: Callable[[str], object], source: str
) -> None:
    lines = read("bridged", name).splitlines(keepends=True)
    lines[1] = lines[1].replace("1", "x", 1)
    with pytest.raises(ParseError, match=rf"^{source}, line 2: "):
        parse("".join(lines))
