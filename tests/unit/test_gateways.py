"""hvbridge.gateways: what a gateway's silence means; hoststate.mac_mismatches."""

from __future__ import annotations

from ipaddress import IPv4Address

from hvbridge.gateways import Planned, judge, old_default, planned, to_probe
from hvbridge.hoststate import mac_mismatches
from hvbridge.inventory import HostData
from hvbridge.netstate import Link, NetState, Route

NEW = Planned("198.18.128.9", "br0", True)
UNCHECKED = Planned("198.18.128.9", "br0", False)
OLD = "198.18.128.1"


def _state(*routes: Route, links: tuple[Link, ...] = ()) -> NetState:
    return NetState(bridges=(), links=links, addresses=(), routes=routes)


def test_the_old_default_gateway_is_the_one_the_kernel_uses() -> None:
    state = _state(
        Route("default", IPv4Address("198.18.128.7"), "eth1", metric=200),
        Route("default", IPv4Address(OLD), "eth0", metric=100),
        Route("198.18.128.0/17", None, "eth0"),
    )
    assert old_default(state) == OLD
    assert old_default(_state()) is None
    assert to_probe([NEW], OLD) == [NEW.gateway, OLD]
    assert to_probe([Planned(OLD, "br0", True)], OLD) == [OLD]


def test_a_silent_planned_gateway_fails_when_the_old_one_answered() -> None:
    verdict = judge([NEW], OLD, answered_before={OLD}, silent_after={NEW.gateway})
    assert verdict.problems == [
        "the planned default gateway 198.18.128.9 (br0) does not answer ping, and the old"
        " default gateway 198.18.128.1 answered before the change"
    ]
    assert verdict.warnings == []


def test_a_gateway_that_answered_before_must_answer_after() -> None:
    same = Planned(OLD, "br0", True)
    verdict = judge([same], OLD, answered_before={OLD}, silent_after={OLD})
    assert verdict.problems == [f"gateway {OLD} answered ping before the change, not after"]


def test_silence_before_and_after_is_a_warning() -> None:
    verdict = judge([NEW], OLD, answered_before=set(), silent_after={NEW.gateway})
    assert verdict.problems == []
    assert verdict.warnings == [
        "gateway 198.18.128.9 answered no ping, neither before nor after the restart"
    ]


def test_verify_gateway_false_turns_the_failure_into_a_warning() -> None:
    verdict = judge([UNCHECKED], OLD, answered_before={OLD}, silent_after={NEW.gateway})
    assert verdict.problems == []
    assert verdict.warnings == [
        "gateway 198.18.128.9 does not answer ping after the restart (not checked:"
        " verify_gateway is false for br0)"
    ]


def test_an_answering_gateway_says_nothing() -> None:
    assert judge([NEW], OLD, answered_before={OLD}, silent_after=set()).problems == []


def test_planned_gateways_come_from_static_default_bridges_with_their_opt_out() -> None:
    model = HostData.model_validate(
        {
            "nics": {"eth0": {"hwaddr": "02:48:56:00:00:01"}},
            "bridges": {
                "br0": {
                    "ports": ["eth0"], "bootproto": "static", "ipaddr": "198.18.129.1",
                    "prefix": 17, "gateway": "198.18.128.9", "verify_gateway": False,
                },
            },
        },
        strict=False,
    )  # fmt: skip
    assert planned(model) == [UNCHECKED]


def test_a_nic_whose_mac_differs_from_its_hwaddr_is_named_with_both() -> None:
    model = HostData.model_validate(
        {"nics": {"eth0": {"hwaddr": "02:48:56:00:00:99"}, "eth1": {"hwaddr": "02:48:56:00:00:02"}}}
    )
    links = (
        Link("eth0", "02:48:56:00:00:01", "UP", True, 1500, None, None),
        Link("eth1", "02:48:56:00:00:02", "UP", True, 1500, None, None),
    )
    assert mac_mismatches("hv01", model, _state(links=links)) == [
        "hv01: NIC eth0 has MAC 02:48:56:00:00:01, the inventory's hwaddr is 02:48:56:00:00:99:"
        " refusing to change the host"
    ]
    assert mac_mismatches("hv01", model, _state(links=links[:1]))[1] == (
        "hv01: there is no NIC eth1 (the inventory's hwaddr 02:48:56:00:00:02)"
    )


def test_an_enslaved_nic_is_known_by_its_permanent_mac_not_the_bond_s() -> None:
    from pathlib import Path

    from hvbridge.bonding import parse_proc_bonding
    from hvbridge.chainstate import ChainState

    text = (Path(__file__).parent / "data/netstate/chain/bond0-active-backup.txt").read_text()
    bond = parse_proc_bonding("bond0", text)
    assert [s.permanent for s in bond.slaves] == ["02:48:56:00:01:01", "02:48:56:00:01:02"]
    # active-backup: eth2 wears the bond's (eth1's) MAC while enslaved.
    links = (
        Link("eth1", "02:48:56:00:01:01", "UP", True, 9000, None, "bond0"),
        Link("eth2", "02:48:56:00:01:01", "UP", True, 9000, None, "bond0"),
    )
    state = NetState(bridges=(), links=links, addresses=(), routes=(),
                     chain=ChainState(bonds={"bond0": bond}))  # fmt: skip
    model = HostData.model_validate(
        {"nics": {"eth1": {"hwaddr": "02:48:56:00:01:01"}, "eth2": {"hwaddr": "02:48:56:00:01:02"}}}
    )
    assert mac_mismatches("hv01", model, state) == []
    # The bond's file is what says which NIC is which: one of another MAC is still refused.
    wrong = HostData.model_validate(
        {"nics": {"eth1": {"hwaddr": "02:48:56:00:01:01"}, "eth2": {"hwaddr": "02:48:56:00:01:09"}}}
    )
    assert mac_mismatches("hv01", wrong, state) == [
        "hv01: NIC eth2 has MAC 02:48:56:00:01:02 (its own, the bonding driver's permanent"
        " address), the inventory's hwaddr is 02:48:56:00:01:09: refusing to change the host"
    ]
