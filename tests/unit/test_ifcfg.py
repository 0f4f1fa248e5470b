"""hvbridge.platforms.ifcfg: reading ifcfg files the way bash sources them, and EL6's file rules."""

from __future__ import annotations

import pytest

from hvbridge.platforms.ifcfg import IfcfgError, device_order_key, ignored_config_name, parse_ifcfg
from tests.seed import SEED_BR0, SEED_ETH0


def test_seed_bridge_file() -> None:
    assert parse_ifcfg(SEED_BR0, "ifcfg-br0") == {
        "DEVICE": "br0",
        "ONBOOT": "yes",
        "TYPE": "Bridge",
        "BOOTPROTO": "static",
        "IPADDR": "10.0.112.39",
        "NETMASK": "255.255.255.0",
        "GATEWAY": "10.0.112.1",
        "DEFROUTE": "yes",
    }


def test_seed_port_file() -> None:
    assert parse_ifcfg(SEED_ETH0, "ifcfg-eth0") == {
        "DEVICE": "eth0",
        "NM_CONTROLLED": "no",
        "ONBOOT": "yes",
        "TYPE": "Ethernet",
        "BOOTPROTO": "none",
        "BRIDGE": "br0",
        "NAME": "System eth0",
        "HWADDR": "44:37:E6:4A:62:AD",
    }


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("K=plain", "plain"),
        ('K="two words"', "two words"),
        ("K='single quoted'", "single quoted"),
        ('K="say \\"hi\\""', 'say "hi"'),
        ("K=a\\ b", "a b"),
        ("K=con\"cat\"'ed'", "concated"),
        ("K=", ""),
        ('K=""', ""),
        ("K=value # a comment", "value"),
        ("K= # only a comment", ""),
        ("K=a#b", "a#b"),
        ("K=#hash", "#hash"),
        ("K='# not a comment'", "# not a comment"),
        ("K=x # comment may say $(anything)", "x"),
        ("   K=indented   ", "indented"),
    ],
)
def test_values_unquoted_as_bash_does(line: str, value: str) -> None:
    assert parse_ifcfg(line + "\n", "ifcfg-x") == {"K": value}


def test_comments_blank_lines_and_last_assignment_wins() -> None:
    text = "# header\n\n   \nA=1\n  # indented comment\nA=2\r\nB=3"
    assert parse_ifcfg(text, "ifcfg-x") == {"A": "2", "B": "3"}


@pytest.mark.parametrize(
    ("text", "line_no", "reason"),
    [
        ('DEVICE="eth0\n', 1, "DEVICE: unbalanced quotes or backslash (no closing quotation)"),
        ("DEVICE=eth0\nNAME='System eth0\n", 2, "NAME: unbalanced quotes"),
        ("A=1\n\nIPADDR=$(reboot)\n", 3, "IPADDR: shell syntax '$()' is not supported"),
        ('NAME="$HOME"\n', 1, "NAME: shell syntax '$' is not supported"),
        ("NAME=`reboot`\n", 1, "NAME: shell syntax '`' is not supported"),
        ("NAME=a;reboot\n", 1, "NAME: shell syntax ';' is not supported"),
        ("NAME=a|b\n", 1, "NAME: shell syntax '|' is not supported"),
        ("NAME=~/x\n", 1, "NAME: shell syntax '~' is not supported"),
        ("# c\nDEVICE eth0\n", 2, "expected KEY=value, got 'DEVICE eth0'"),
        ("export DEVICE=eth0\n", 1, "invalid variable name 'export DEVICE'"),
        ("DEVICE =eth0\n", 1, "invalid variable name 'DEVICE '"),
        ("1DEVICE=eth0\n", 1, "invalid variable name '1DEVICE'"),
        ("NAME=System eth0\n", 1, "NAME: unexpected text after the value: 'eth0'"),
        ("NAME= reboot\n", 1, "NAME: unexpected text after the value: 'reboot'"),
        ("NAME=x\\\n", 1, "NAME: unbalanced quotes or backslash (no escaped character)"),
    ],
)
def test_refused_lines_name_file_and_line(text: str, line_no: int, reason: str) -> None:
    with pytest.raises(IfcfgError) as caught:
        parse_ifcfg(text, "/etc/sysconfig/network-scripts/ifcfg-eth0")
    error = caught.value
    assert error.source == "/etc/sysconfig/network-scripts/ifcfg-eth0"
    assert error.line_no == line_no
    assert error.reason.startswith(reason)
    assert str(error).startswith(f"/etc/sysconfig/network-scripts/ifcfg-eth0, line {line_no}: ")
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    "filename",
    [
        "ifcfg-eth0~",
        "ifcfg-eth0.bak",
        "ifcfg-eth0.orig",
        "ifcfg-eth0.rpmnew",
        "ifcfg-eth0.rpmorig",
        "ifcfg-eth0.rpmsave",
        "ifcfg-eth0:1",
        "ifcfg-eth0:web",
        "ifcfg-eth0-range0",
        "ifcfg-",
        "route-eth0",
        "network-functions",
    ],
)
def test_ignored_names(filename: str) -> None:
    assert ignored_config_name(filename)


@pytest.mark.parametrize(
    "filename", ["ifcfg-eth0", "ifcfg-br0", "ifcfg-lo", "ifcfg-eth0.100", "ifcfg-eth0.old"]
)
def test_config_names(filename: str) -> None:
    assert not ignored_config_name(filename)


def test_order_is_el6_sort() -> None:
    names = ["eth10", "eth2", "eth0", "br0", "bond0", "eth1", "em1", "p1p1", "eth"]
    assert sorted(names, key=device_order_key) == [
        "bond0",
        "br0",
        "em1",
        "eth",
        "eth0",
        "eth1",
        "eth2",
        "eth10",
        "p1p1",
    ]


def test_order_reads_the_number_as_sort_n_does() -> None:
    # `sort -n` reads "0.100" as 0.1, so EL6 brings up eth0.100 before eth0.20.
    names = ["eth0.20", "eth0.100", "eth0", "eth1"]
    assert sorted(names, key=device_order_key) == ["eth0", "eth0.100", "eth0.20", "eth1"]
