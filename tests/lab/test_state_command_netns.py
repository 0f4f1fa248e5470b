"""The shared state command run for real in a throwaway network namespace, on this
kernel: what it prints parses, and says what the kernel has (IPv6 and its default route,
each bridge's STP and forward delay from sysfs), and verify passes or names each
difference.

Needs root, iproute2 and util-linux's unshare; without them this fails, not skips.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from ipaddress import IPv4Interface, IPv6Address, IPv6Interface

import pytest

from hvbridge.hoststate import parse_state
from hvbridge.netstate import ExpectedBridge, verify
from hvbridge.platforms.iproute import STATE_COMMAND

pytestmark = pytest.mark.lab

# br1 with STP on and a 4 s forward delay over a veth, IPv4 and IPv6 (ULA on this
# namespace's own link only), and the IPv6 default route through it.
SETUP = """\
set -e
mount -t sysfs sysfs /sys
ip link set lo up
ip link add br1 type bridge stp_state 1 forward_delay 400
ip link add eth1 mtu 9000 type veth peer name sw-eth1 mtu 9000
ip link set br1 mtu 9000
ip link set eth1 master br1
ip link set br1 up; ip link set eth1 up; ip link set sw-eth1 up
ip addr add 198.19.0.17/24 dev br1
ip -6 addr add fd48:6862:0:3::17/64 dev br1 nodad
ip -6 route add default via fd48:6862:0:3::1 dev br1
"""


def state_command_output() -> str:
    done = subprocess.run(
        ["unshare", "--net", "--mount", "--propagation", "private", "--",
         "sh", "-c", f"{SETUP}\n{STATE_COMMAND}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_state_command_reads_what_the_kernel_has() -> None:
    state = parse_state("netns", state_command_output())
    chain = state.chain
    assert chain is not None
    assert chain.bridge_settings["br1"].stp and chain.bridge_settings["br1"].forward_delay == 400
    assert [(a.device, a.ip) for a in chain.addresses6 if a.scope == "global"] == [
        ("br1", IPv6Interface("fd48:6862:0:3::17/64"))
    ]
    (default,) = [route for route in chain.routes6 if route.dst == "default"]
    assert (default.gateway, default.device) == (IPv6Address("fd48:6862:0:3::1"), "br1")
    assert (chain.bonds, chain.vlans) == ({}, {})

    want = ExpectedBridge(
        "br1",
        ("eth1",),
        IPv4Interface("198.19.0.17/24"),
        None,
        False,
        mtus=(("br1", 9000), ("eth1", 9000)),
        stp=True,
        forward_delay=4,
        ipv6_address=IPv6Interface("fd48:6862:0:3::17/64"),
        ipv6_gateway=IPv6Address("fd48:6862:0:3::1"),
    )
    # The bridge has no carrier while its port listens and learns: only the chain's
    # checks are asked here, apart from that.
    problems = [p for p in verify([want], state) if "link is down" not in p]
    assert problems == []
    wrong = replace(
        want,
        mtus=(("br1", 1500),),
        forward_delay=15,
        ipv6_address=IPv6Interface("fd48:6862:0:3::18/64"),
    )
    problems = [p for p in verify([wrong], state) if "link is down" not in p]
    assert problems == [
        "br1: br1 has MTU 9000, expected 1500",
        "br1: forward delay is 4 s, expected 15 s",
        "br1: IPv6 address fd48:6862:0:3::18/64 is not on br1 (br1 has fd48:6862:0:3::17/64)",
    ]
