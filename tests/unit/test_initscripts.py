"""hvbridge.lab.initscripts: what `service network start|stop` runs, device by device."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface

import pytest

from hvbridge.lab.initscripts import (
    DeviceConfig,
    Failure,
    LinkState,
    Plan,
    Step,
    plan_start,
    plan_stop,
    status_lines,
)
from tests.seed import SEED_BR0, SEED_ETH0

DIR = "/etc/sysconfig/network-scripts"


SEED_MAC = "44:37:e6:4a:62:ad"
LO_UP = Step("lo", (("ip", "link", "set", "dev", "lo", "up"),))


def config(name: str, text: str) -> DeviceConfig:
    return DeviceConfig.from_text(f"{DIR}/ifcfg-{name}", text)


def seed() -> list[DeviceConfig]:
    return [config("eth0", SEED_ETH0), config("br0", SEED_BR0)]


def links(*states: LinkState) -> dict[str, LinkState]:
    return {state.name: state for state in (LinkState("lo", up=True, index=1), *states)}


def nic(name: str = "eth0", mac: str = SEED_MAC, master: str | None = None) -> LinkState:
    return LinkState(name, mac=mac, master=master, up=True, index=2)


def by_device(plan: Plan) -> dict[str, Step | Failure]:
    return {item.device: item for item in plan}


SEED_BR0_UP = Step(
    "br0",
    (
        ("brctl", "addbr", "br0"),
        ("brctl", "setfd", "br0", "0"),
        ("ip", "addr", "flush", "dev", "br0"),
        ("ip", "addr", "add", "10.0.112.39/24", "brd", "+", "dev", "br0"),
        ("ip", "link", "set", "dev", "br0", "up"),
        ("ip", "route", "replace", "default", "via", "10.0.112.1", "dev", "br0"),
    ),
)
SEED_ETH0_UP = Step(
    "eth0",
    (
        ("ip", "addr", "flush", "dev", "eth0"),
        ("ip", "link", "set", "dev", "eth0", "up"),
        ("brctl", "addif", "br0", "eth0"),
    ),
)


class TestDeviceConfig:
    def test_seed_bridge(self) -> None:
        br0 = config("br0", SEED_BR0)
        assert br0 == DeviceConfig(
            source=f"{DIR}/ifcfg-br0",
            name="br0",
            device="br0",
            is_bridge=True,
            bootproto="static",
            address=IPv4Interface("10.0.112.39/24"),
            gateway=IPv4Address("10.0.112.1"),
        )
        assert br0.filename == "ifcfg-br0"

    def test_seed_port(self) -> None:
        assert config("eth0", SEED_ETH0) == DeviceConfig(
            source=f"{DIR}/ifcfg-eth0",
            name="eth0",
            device="eth0",
            bridge="br0",
            hwaddr="44:37:E6:4A:62:AD",
        )

    def test_device_defaults_to_the_file_suffix(self) -> None:
        assert config("eth3", "BOOTPROTO=none\n").device == "eth3"

    def test_defaults(self) -> None:
        eth = config("eth1", "")
        assert (eth.is_bridge, eth.onboot, eth.bootproto, eth.defroute) == (
            False,
            True,
            "none",
            True,
        )
        assert (eth.address, eth.hwaddr, eth.stp, eth.delay, eth.mtu) == (
            None,
            None,
            None,
            "0",
            None,
        )

    @pytest.mark.parametrize(
        ("lines", "address"),
        [
            ("IPADDR=198.18.1.5\nPREFIX=16\nNETMASK=255.255.255.0", "198.18.1.5/16"),
            ("IPADDR=198.18.1.5\nPREFIX=16\nNETMASK=bogus", "198.18.1.5/16"),
            ("IPADDR=198.18.1.5\nNETMASK=255.255.255.128", "198.18.1.5/25"),
            ("IPADDR=10.1.2.3", "10.1.2.3/8"),
            ("IPADDR=172.16.2.3", "172.16.2.3/16"),
            ("IPADDR=198.18.2.3", "198.18.2.3/24"),
        ],
    )
    def test_prefix_beats_netmask_beats_class(self, lines: str, address: str) -> None:
        assert config("eth1", lines).address == IPv4Interface(address)

    @pytest.mark.parametrize(
        ("lines", "error"),
        [
            ("IPADDR=198.18.1.300", "ifcfg-eth1: invalid IPADDR '198.18.1.300'"),
            ("IPADDR=198.18.1.3\nPREFIX=33", "ifcfg-eth1: invalid PREFIX '33'"),
            ("IPADDR=198.18.1.3\nNETMASK=255.0.255.0", "ifcfg-eth1: invalid NETMASK '255.0.255.0'"),
            ("IPADDR=198.18.1.3\nNETMASK=0.0.0.255", "ifcfg-eth1: invalid NETMASK '0.0.0.255'"),
            ("GATEWAY=gw", "ifcfg-eth1: invalid GATEWAY 'gw'"),
            ("HWADDR=44:37:E6:4A:62", "ifcfg-eth1: invalid HWADDR '44:37:E6:4A:62'"),
            ("BOOTPROTO=ibft", "ifcfg-eth1: unknown BOOTPROTO 'ibft'"),
            ("TYPE=Team", "ifcfg-eth1: unsupported TYPE 'Team' (Ethernet, Bridge, Bond or Vlan)"),
            (
                "TYPE=bridge",
                "ifcfg-eth1: unsupported TYPE 'bridge' (Ethernet, Bridge, Bond or Vlan)",
            ),
            ("BONDING_OPTS=mode", "ifcfg-eth1: invalid BONDING_OPTS word 'mode' (option=value)"),
            ("MASTER=eth1\nSLAVE=yes", "ifcfg-eth1: MASTER=eth1: a bond cannot be its own slave"),
            (
                "VLAN=yes",
                "ifcfg-eth1: VLAN=yes: no VLAN id in the name 'eth1' (PARENT.ID or vlanID)",
            ),
            ("IPV6ADDR=fd00::1::2", "ifcfg-eth1: invalid IPV6ADDR 'fd00::1::2'"),
            ("DNS2=resolver", "ifcfg-eth1: invalid DNS2 'resolver'"),
            ("STP=maybe", "ifcfg-eth1: invalid STP 'maybe'"),
            ("DELAY=soon", "ifcfg-eth1: invalid DELAY 'soon' (seconds)"),
            ("MTU=9", "ifcfg-eth1: invalid MTU '9'"),
            ("DEVICE=eth1/x", "ifcfg-eth1: invalid DEVICE 'eth1/x'"),
            ("BRIDGE=eth1", "ifcfg-eth1: BRIDGE=eth1: a bridge cannot be a port of a bridge"),
        ],
    )
    def test_invalid_values_are_collected(self, lines: str, error: str) -> None:
        assert config("eth1", lines).errors == (error,)

    def test_all_errors_are_reported(self) -> None:
        eth = config("eth1", "IPADDR=1.2.3.999\nHWADDR=nope\nBOOTPROTO=ibft\n")
        assert eth.errors == (
            "ifcfg-eth1: unknown BOOTPROTO 'ibft'",
            "ifcfg-eth1: invalid IPADDR '1.2.3.999'",
            "ifcfg-eth1: invalid HWADDR 'nope'",
        )

    def test_parse_error_becomes_the_device_error(self) -> None:
        eth = config("eth0", 'DEVICE=eth0\nNAME="unbalanced\n')
        assert eth.device == "eth0"
        assert eth.errors == (
            f"{DIR}/ifcfg-eth0, line 2: NAME: unbalanced quotes or backslash "
            "(no closing quotation)",
        )

    @pytest.mark.parametrize(
        ("value", "onboot"), [("no", False), ("NO", False), ("false", False), ("yes", True)]
    )
    def test_only_an_explicit_no_skips_boot(self, value: str, onboot: bool) -> None:
        assert config("eth1", f"ONBOOT={value}").onboot is onboot

    def test_bridge_options(self) -> None:
        br = config("br1", "TYPE=Bridge\nSTP=yes\nDELAY=2.5\nMTU=9000\n")
        assert (br.stp, br.delay, br.mtu) == (True, "2.5", 9000)


class TestStart:
    def test_seed_moves_the_address_to_the_bridge(self) -> None:
        assert plan_start(seed(), links(nic())) == (LO_UP, SEED_BR0_UP, SEED_ETH0_UP)

    def test_seed_on_a_converged_host_creates_and_enslaves_nothing(self) -> None:
        live = links(nic(master="br0"), LinkState("br0", is_bridge=True, index=3))
        br0, eth0 = plan_start(seed(), live)[1:]
        assert isinstance(br0, Step)
        assert br0.commands == SEED_BR0_UP.commands[1:]
        assert eth0 == Step(
            "eth0",
            (("ip", "addr", "flush", "dev", "eth0"), ("ip", "link", "set", "dev", "eth0", "up")),
        )

    def test_hwaddr_mismatch_is_refused_and_others_proceed(self) -> None:
        plan = plan_start(seed(), links(nic(mac="02:00:00:00:00:01")))
        assert plan == (
            LO_UP,
            SEED_BR0_UP,
            Failure("eth0", "Device eth0 has different MAC address than expected, ignoring."),
        )

    def test_hwaddr_compares_case_insensitively(self) -> None:
        eth0 = config("eth0", SEED_ETH0.replace("44:37:E6:4A:62:AD", "44:37:e6:4a:62:ad"))
        assert plan_start([eth0], links(nic(mac="44:37:E6:4A:62:AD")))[1] == Step(
            "eth0",
            (
                ("brctl", "addbr", "br0"),
                *SEED_ETH0_UP.commands,
            ),
        )

    def test_missing_device_is_delayed(self) -> None:
        assert plan_start(seed(), links()) == (
            LO_UP,
            SEED_BR0_UP,
            Failure("eth0", "Device eth0 does not seem to be present, delaying initialization."),
        )

    def test_link_marked_absent_counts_as_missing(self) -> None:
        plan = plan_start([config("eth1", "")], links(LinkState("eth1", exists=False)))
        assert plan[1] == Failure(
            "eth1", "Device eth1 does not seem to be present, delaying initialization."
        )

    @pytest.mark.parametrize(
        "broken",
        [
            'DEVICE="eth0\nBRIDGE=br0\n',
            "DEVICE=eth0\nIPADDR=$(reboot)\n",
            "DEVICE=eth0\nBRIDGE br0\n",
        ],
    )
    def test_malformed_file_fails_only_its_device(self, broken: str) -> None:
        plan = plan_start([config("eth0", broken), config("br0", SEED_BR0)], links(nic()))
        assert plan[:2] == (LO_UP, SEED_BR0_UP)
        failure = plan[2]
        assert isinstance(failure, Failure)
        assert failure.device == "eth0"
        assert failure.message.startswith(f"{DIR}/ifcfg-eth0, line ")

    def test_malformed_file_message_names_file_and_line(self) -> None:
        plan = plan_start([config("eth0", "DEVICE=eth0\nIPADDR=$(reboot)\n")], links(nic()))
        assert plan[1] == Failure(
            "eth0", f"{DIR}/ifcfg-eth0, line 2: IPADDR: shell syntax '$()' is not supported"
        )

    def test_invalid_values_fail_the_device(self) -> None:
        plan = plan_start([config("eth1", "IPADDR=198.18.0.300\n")], links(nic("eth1")))
        assert plan[1] == Failure("eth1", "ifcfg-eth1: invalid IPADDR '198.18.0.300'")

    def test_order_is_el6_order_after_lo(self) -> None:
        configs = [config(name, "BOOTPROTO=none\n") for name in ("eth10", "eth2", "eth0", "em1")]
        configs.append(config("lo", "DEVICE=lo\nIPADDR=127.0.0.1\n"))
        live = links(*(nic(name) for name in ("eth10", "eth2", "eth0", "em1")))
        assert [item.device for item in plan_start(configs, live)] == [
            "lo",
            "em1",
            "eth0",
            "eth2",
            "eth10",
        ]

    def test_onboot_no_is_skipped(self) -> None:
        eth1 = config("eth1", "ONBOOT=no\nIPADDR=198.18.1.2\n")
        assert plan_start([eth1], links(nic("eth1"))) == (LO_UP,)

    def test_static_ethernet(self) -> None:
        eth1 = config("eth1", "IPADDR=198.18.1.2\nPREFIX=24\nGATEWAY=198.18.1.1\nMTU=1400\n")
        assert plan_start([eth1], links(nic("eth1")))[1] == Step(
            "eth1",
            (
                ("ip", "link", "set", "dev", "eth1", "mtu", "1400"),
                ("ip", "addr", "flush", "dev", "eth1"),
                ("ip", "addr", "add", "198.18.1.2/24", "brd", "+", "dev", "eth1"),
                ("ip", "link", "set", "dev", "eth1", "up"),
                ("ip", "route", "replace", "default", "via", "198.18.1.1", "dev", "eth1"),
            ),
        )

    def test_device_without_address_is_only_brought_up(self) -> None:
        assert plan_start([config("eth1", "BOOTPROTO=none\n")], links(nic("eth1")))[1] == Step(
            "eth1", (("ip", "link", "set", "dev", "eth1", "up"),)
        )

    def test_gateway_outside_the_subnet_sets_no_route(self) -> None:
        br0 = config("br0", SEED_BR0.replace("GATEWAY=10.0.112.1", "GATEWAY=10.0.113.1"))
        step = plan_start([br0], links())[1]
        assert step == Step(
            "br0",
            SEED_BR0_UP.commands[:-1],
            "Gateway 10.0.113.1 is outside 10.0.112.0/24 of br0, no default route set.",
        )

    def test_prefix_decides_whether_the_gateway_is_inside(self) -> None:
        br0 = config(
            "br0", SEED_BR0.replace("GATEWAY=10.0.112.1", "GATEWAY=10.0.113.1") + "PREFIX=23\n"
        )
        step = plan_start([br0], links())[1]
        assert isinstance(step, Step)
        assert step.message == ""
        assert step.commands[-1] == (
            "ip",
            "route",
            "replace",
            "default",
            "via",
            "10.0.113.1",
            "dev",
            "br0",
        )
        assert ("ip", "addr", "add", "10.0.112.39/23", "brd", "+", "dev", "br0") in step.commands

    def test_defroute_no_sets_no_route(self) -> None:
        br0 = config("br0", SEED_BR0.replace("DEFROUTE=yes", "DEFROUTE=no"))
        assert plan_start([br0], links())[1] == Step("br0", SEED_BR0_UP.commands[:-1])

    @pytest.mark.parametrize("bootproto", ["dhcp", "bootp"])
    def test_dynamic_addresses_are_unsupported(self, bootproto: str) -> None:
        br0 = config("br0", f'DEVICE="br0"\nTYPE="Bridge"\nBOOTPROTO={bootproto}\n')
        assert plan_start([br0], links())[1] == Failure(
            "br0",
            f"{bootproto} is not supported in the hvbridge lab "
            f"(BOOTPROTO={bootproto} in ifcfg-br0)",
        )

    def test_bridge_options_become_brctl_and_mtu(self) -> None:
        br1 = config("br1", "TYPE=Bridge\nSTP=on\nDELAY=4\nMTU=9000\n")
        assert plan_start([br1], links())[1] == Step(
            "br1",
            (
                ("brctl", "addbr", "br1"),
                ("brctl", "setfd", "br1", "4"),
                ("brctl", "stp", "br1", "on"),
                ("ip", "link", "set", "dev", "br1", "mtu", "9000"),
                ("ip", "link", "set", "dev", "br1", "up"),
            ),
        )

    def test_existing_non_bridge_is_not_turned_into_a_bridge(self) -> None:
        assert plan_start([config("br0", SEED_BR0)], links(nic("br0")))[1] == Failure(
            "br0", "Device br0 exists and is not a bridge."
        )

    def test_port_gets_no_address_and_creates_its_bridge(self) -> None:
        eth0 = config("eth0", "BRIDGE=br9\nIPADDR=198.18.3.4\nPREFIX=24\nMTU=1400\n")
        assert plan_start([eth0], links(nic()))[1] == Step(
            "eth0",
            (
                ("brctl", "addbr", "br9"),
                ("ip", "addr", "flush", "dev", "eth0"),
                ("ip", "link", "set", "dev", "eth0", "mtu", "1400"),
                ("ip", "link", "set", "dev", "eth0", "up"),
                ("brctl", "addif", "br9", "eth0"),
            ),
        )

    def test_port_before_its_bridge_in_order(self) -> None:
        configs = [config("eth0", SEED_ETH0), config("vbr0", SEED_BR0.replace("br0", "vbr0"))]
        configs[0] = config("eth0", SEED_ETH0.replace('BRIDGE="br0"', 'BRIDGE="vbr0"'))
        eth0, vbr0 = plan_start(configs, links(nic()))[1:]
        assert isinstance(eth0, Step)
        assert isinstance(vbr0, Step)
        assert eth0.commands[0] == ("brctl", "addbr", "vbr0")
        assert ("brctl", "addbr", "vbr0") not in vbr0.commands

    def test_port_of_another_bridge_is_refused(self) -> None:
        live = links(nic(master="virbr0"), LinkState("virbr0", is_bridge=True))
        assert plan_start(seed(), live)[2] == Failure(
            "eth0", "Device eth0 is a port of virbr0, not of br0."
        )

    def test_bridge_that_is_not_a_bridge_is_refused(self) -> None:
        live = links(nic(), nic("br0", mac="02:00:00:00:00:09"))
        assert plan_start([config("eth0", SEED_ETH0)], live)[1] == Failure(
            "eth0", "Cannot add eth0 to br0: not a bridge."
        )

    def test_second_file_for_a_device_is_refused(self) -> None:
        configs = [config("eth1", "IPADDR=198.18.1.2\n"), config("eth1.old", "DEVICE=eth1\n")]
        plan = plan_start(configs, links(nic("eth1")))
        assert plan[2] == Failure(
            "eth1", "Device eth1 is already configured by ifcfg-eth1, ignoring ifcfg-eth1.old."
        )


class TestStop:
    def test_seed_releases_the_port_then_deletes_the_bridge(self) -> None:
        live = links(nic(master="br0"), LinkState("br0", is_bridge=True, up=True, index=3))
        assert plan_stop(seed(), live) == (
            Step(
                "eth0",
                (
                    ("brctl", "delif", "br0", "eth0"),
                    ("ip", "addr", "flush", "dev", "eth0"),
                    ("ip", "link", "set", "dev", "eth0", "down"),
                ),
            ),
            Step("br0", (("ip", "link", "set", "dev", "br0", "down"), ("brctl", "delbr", "br0"))),
        )

    def test_devices_that_do_not_exist_are_skipped(self) -> None:
        assert plan_stop(seed(), links()) == ()

    def test_hwaddr_mismatch_is_refused(self) -> None:
        live = links(nic(mac="02:00:00:00:00:01", master="br0"), LinkState("br0", is_bridge=True))
        assert plan_stop(seed(), live) == (
            Failure(
                "eth0",
                "Device eth0 has MAC address 02:00:00:00:00:01, instead of configured address "
                "44:37:E6:4A:62:AD. Ignoring.",
            ),
            Step("br0", (("ip", "link", "set", "dev", "br0", "down"), ("brctl", "delbr", "br0"))),
        )

    def test_ordinary_device_and_onboot_no_are_stopped_lo_is_not(self) -> None:
        configs = [
            config("eth1", "ONBOOT=no\nIPADDR=198.18.1.2\n"),
            config("lo", "DEVICE=lo\n"),
        ]
        assert plan_stop(configs, links(nic("eth1"))) == (
            Step(
                "eth1",
                (
                    ("ip", "addr", "flush", "dev", "eth1"),
                    ("ip", "link", "set", "dev", "eth1", "down"),
                ),
            ),
        )

    def test_reverse_order(self) -> None:
        names = ("eth10", "eth2", "eth0", "br0")
        configs = [config(name, "BOOTPROTO=none\n") for name in names]
        live = links(*(nic(name) for name in names))
        assert [item.device for item in plan_stop(configs, live)] == [
            "eth10",
            "eth2",
            "eth0",
            "br0",
        ]

    def test_bridge_deleted_before_its_port_releases_it(self) -> None:
        configs = [
            config("eth0", SEED_ETH0.replace('BRIDGE="br0"', 'BRIDGE="vbr0"')),
            config("vbr0", "TYPE=Bridge\n"),
        ]
        live = links(nic(master="vbr0"), LinkState("vbr0", is_bridge=True))
        assert plan_stop(configs, live) == (
            Step(
                "vbr0", (("ip", "link", "set", "dev", "vbr0", "down"), ("brctl", "delbr", "vbr0"))
            ),
            Step(
                "eth0",
                (
                    ("ip", "addr", "flush", "dev", "eth0"),
                    ("ip", "link", "set", "dev", "eth0", "down"),
                ),
            ),
        )

    def test_malformed_file_fails_only_its_device(self) -> None:
        configs = [config("eth0", "DEVICE=eth0\nHWADDR=`cat /x`\n"), config("br0", SEED_BR0)]
        live = links(nic(master="br0"), LinkState("br0", is_bridge=True))
        eth0, br0 = plan_stop(configs, live)
        assert eth0 == Failure(
            "eth0", f"{DIR}/ifcfg-eth0, line 2: HWADDR: shell syntax '`' is not supported"
        )
        assert isinstance(br0, Step)


def test_status_lists_configured_files_and_up_devices() -> None:
    live = links(
        LinkState("br0", is_bridge=True, up=True, index=4),
        nic(master="br0"),
        LinkState("eth1", index=3),
    )
    configs = [*seed(), config("eth1", "ONBOOT=no\n"), config("lo", "")]
    assert status_lines(configs, live) == [
        "Configured devices:",
        "lo br0 eth0 eth1",
        "Currently active devices:",
        "lo eth0 br0",
    ]
