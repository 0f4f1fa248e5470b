"""Reports of a bonded, VLAN-bridged host (schema 4): the chain per host in its JSON,
Markdown and the HTML page, and the fleet's table of bridges; facts made the way
facts.collect makes them, from a parsed state (data/netstate/chain)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

from hvbridge.bonding import parse_proc_bonding
from hvbridge.chainstate import (
    BridgeSettings,
    ChainState,
    parse_resolv_conf,
    parse_vlan_config,
)
from hvbridge.ipv6state import parse_ip6_addr_text, parse_ip6_route_text
from hvbridge.netstate import Address, Bridge, Link, NetState, Route, facts
from hvbridge.report import validate, write_reports
from hvbridge.runner import HostOutcome, RunOutcome, StepOutcome

PROJECT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "netstate" / "chain"


def read(name: str) -> str:
    return (DATA / name).read_text()


def link(name: str, mtu: int, master: str | None = None, kind: str | None = None) -> Link:
    return Link(name, "02:48:56:00:01:01", "UP", True, mtu, kind, master)


def bonded_facts() -> dict[str, Any]:
    """br0 over eth0 (and v1's tap); br100 over bond0.100 over bond0 (eth1, eth2) at MTU
    9000 with STP on, IPv6 and v2's tap."""
    state = NetState(
        bridges=(
            Bridge("br0", "8000.024856000001", False, ("eth0", "vnet0")),
            Bridge("br100", "8000.024856000101", True, ("bond0.100", "vnet1")),
        ),
        links=(
            link("lo", 65536),
            link("eth0", 1500, "br0", "veth"),
            link("eth1", 9000, "bond0", "veth"),
            link("eth2", 9000, "bond0", "veth"),
            link("bond0", 9000, None, "bond"),
            link("bond0.100", 9000, "br100", "vlan"),
            link("br0", 1500, None, "bridge"),
            link("br100", 9000, None, "bridge"),
            link("vnet0", 1500, "br0", "tun"),
            link("vnet1", 9000, "br100", "tun"),
        ),
        addresses=(Address("br0", IPv4Interface("198.18.129.1/17")),),
        routes=(Route("default", IPv4Address("198.18.128.1"), "br0"),),
        chain=ChainState(
            bonds={"bond0": parse_proc_bonding("bond0", read("bond0-active-backup.txt"))},
            vlans={"bond0.100": parse_vlan_config(read("vlan-config.txt"))["bond0.100"]},
            bridge_settings={
                "br0": BridgeSettings("br0", 0, 0),
                "br100": BridgeSettings("br100", 1, 200),
            },
            addresses6=tuple(parse_ip6_addr_text(read("ip6-addr.txt").replace("br0", "br100"))),
            routes6=tuple(parse_ip6_route_text(read("ip6-route.txt").replace("br0", "br100"))),
            resolver=parse_resolv_conf("/etc/resolv.conf", read("resolv.conf")),
        ),
    )
    found = facts(state)
    found["libvirt"] = {
        "networks": {},
        "domains": {
            name: {
                "state": "running",
                "interfaces": [{"type": "bridge", "source": bridge, "mac": mac, "model": "virtio"}],
            }
            for name, bridge, mac in (
                ("v1", "br0", "52:54:00:48:00:01"),
                ("v2", "br100", "52:54:00:48:00:02"),
            )
        },
    }
    return found


def write(tmp_path: Path) -> Any:
    host = HostOutcome(
        "hv01",
        [StepOutcome("facts.collect", False, False, "collected", "", 0.5)],
        facts=bonded_facts(),
    )
    outcome = RunOutcome("20250101T120000-abc123", "bridge", False, {"hv01": host}, 3.0)
    return write_reports(
        outcome,
        tmp_path / "reports",
        inventory="inventory/bonded",
        templates=PROJECT / "templates",
        started=datetime(2025, 1, 1, 12, tzinfo=UTC),
        planned_steps=["facts.collect"],
    )


def test_the_host_json_has_the_chain(tmp_path: Path) -> None:
    paths = write(tmp_path)
    document = json.loads(paths.hosts["hv01"].json.read_text())
    validate(document)
    found = document["facts"]
    assert found["bridges"]["br100"] == {
        "id": "8000.024856000101",
        "stp": True,
        "ports": ["bond0.100", "vnet1"],
        "mtu": 9000,
        "forward_delay": 2.0,
        "chain": "eth1, eth2 -> bond0 (active-backup) -> bond0.100 (VLAN 100) -> br100"
        " -> guests v2",
        "guests": ["v2"],
    }
    assert found["bonds"] == {
        "bond0": {
            "mode": "active-backup",
            "miimon": 100,
            "slaves": {"eth1": "up", "eth2": "up"},
            "active": ["eth1"],
        }
    }
    assert found["vlans"] == {"bond0.100": {"id": 100, "parent": "bond0"}}
    assert found["devices"]["bond0.100"] == {
        "kind": "vlan",
        "mtu": 9000,
        "master": "br100",
        "state": "UP",
    }
    assert "lo" not in found["devices"]
    assert found["addresses6"] == {
        "br100": ["2001:db8:1::5/64"],
        "sw-eth0": ["fd48:6862:0:3::9/64"],
    }
    assert found["default_route6"] == {
        "gateway": "2001:db8:1::1",
        "device": "br100",
        "metric": 1024,
    }
    assert found["dns"] == {
        "file": "/etc/resolv.conf",
        "servers": ["198.18.0.53", "fd48:6862:0:1::53"],
        "search": ["lab.example", "hv.lab.example"],
    }


def test_the_summary_lists_every_bridge_of_the_fleet(tmp_path: Path) -> None:
    paths = write(tmp_path)
    summary = json.loads(paths.summary_json.read_text())
    validate(summary)
    assert summary["schema"] == "hvbridge.report.summary/4"
    assert [(row["host"], row["bridge"]) for row in summary["bridges"]] == [
        ("hv01", "br0"),
        ("hv01", "br100"),
    ]
    assert summary["bridges"][1] == {
        "host": "hv01",
        "bridge": "br100",
        "ports": [
            {"name": "bond0.100", "kind": "vlan", "mtu": 9000},
            {"name": "vnet1", "kind": "tun", "mtu": 9000},
        ],
        "mtu": 9000,
        "stp": True,
        "forward_delay": 2.0,
        "addresses": ["2001:db8:1::5/64"],
        "chain": "eth1, eth2 -> bond0 (active-backup) -> bond0.100 (VLAN 100) -> br100"
        " -> guests v2",
    }
    markdown = paths.summary_markdown.read_text()
    assert (
        "| hv01 | br0 | eth0 (veth, MTU 1500), vnet0 (tun, MTU 1500) | 1500 | off | 0 s"
        " | 198.18.129.1/17 | eth0 -> br0 -> guests v1 |"
    ) in markdown
    assert (
        "| hv01 | br100 | bond0.100 (vlan, MTU 9000), vnet1 (tun, MTU 9000) | 9000 | on | 2 s"
        " | 2001:db8:1::5/64 | eth1, eth2 -> bond0 (active-backup) -> bond0.100 (VLAN 100)"
        " -> br100 -> guests v2 |"
    ) in markdown


def test_the_host_page_and_html_show_the_chain(tmp_path: Path) -> None:
    paths = write(tmp_path)
    page = paths.hosts["hv01"].markdown.read_text()
    assert (
        "- br100: eth1, eth2 -> bond0 (active-backup) -> bond0.100 (VLAN 100) -> br100"
        " -> guests v2 (MTU 9000, STP on, forward delay 2 s)"
    ) in page
    assert "| br100 | 8000.024856000101 | on | bond0.100 vnet1 | 2001:db8:1::5/64 |" in page
    assert "| bond0 | active-backup | 100 | eth1 up, eth2 up | eth1 |" in page
    assert "| bond0.100 | 100 | bond0 |" in page
    assert "| bond0 | bond | 9000 | - | UP |" in page
    assert "IPv6 default route: via 2001:db8:1::1 dev br100, metric 1024" in page
    assert (
        "DNS (/etc/resolv.conf): servers 198.18.0.53, fd48:6862:0:1::53;"
        " search lab.example hv.lab.example"
    ) in page
    html = paths.html.read_text()
    assert '<tr data-bridge-of="hv01" data-bridge="br100">' in html
    assert "<td>bond0.100 (vlan, MTU 9000), vnet1 (tun, MTU 9000)</td>" in html
    assert (
        "eth1, eth2 -&gt; bond0 (active-backup) -&gt; bond0.100 (VLAN 100) -&gt; br100"
        " -&gt; guests v2"
    ) in html
