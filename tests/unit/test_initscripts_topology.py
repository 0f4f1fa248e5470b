"""The lab's `service network` for bonds, VLANs, IPv6 and DNS: the plan (exact commands),
resolv.conf as ifup-post writes it, and the I/O side (bonding_masters in sysfs, initscripts'
words when the kernel refuses a device)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hvbridge.lab import network_service
from hvbridge.lab.initscripts import (
    DeviceConfig,
    Failure,
    LinkState,
    ResolvConf,
    Step,
    plan_start,
    plan_stop,
    resolv_conf,
)

DIR = "/etc/sysconfig/network-scripts"
MAC0, MAC1 = "02:00:00:00:00:01", "02:00:00:00:00:02"
ABSENT = "does not seem to be present, delaying initialization."


def config(name: str, text: str) -> DeviceConfig:
    return DeviceConfig.from_text(f"{DIR}/ifcfg-{name}", text)


def links(*states: LinkState) -> dict[str, LinkState]:
    return {state.name: state for state in (LinkState("lo", up=True, index=1), *states)}


BOND0 = 'DEVICE=bond0\nBONDING_OPTS="mode=active-backup miimon=100 primary=eth1"\nBRIDGE=br0\n'
ETH0 = f"DEVICE=eth0\nHWADDR={MAC0}\nMASTER=bond0\nSLAVE=yes\nMTU=9000\n"
ETH1 = f"DEVICE=eth1\nHWADDR={MAC1}\nMASTER=bond0\nSLAVE=yes\nMTU=9000\n"
BR0 = "DEVICE=br0\nTYPE=Bridge\nIPADDR=198.18.0.5\nPREFIX=24\nSTP=off\n"
VLAN = "DEVICE=bond0.100\nVLAN=yes\nBRIDGE=br100\n"
BR100 = "DEVICE=br100\nTYPE=Bridge\n"


def bonded() -> list[DeviceConfig]:
    return [config("eth0", ETH0), config("eth1", ETH1), config("bond0", BOND0),
            config("br0", BR0), config("bond0.100", VLAN), config("br100", BR100)]  # fmt: skip


class TestConfig:
    def test_a_bond_its_slave_and_a_vlan(self) -> None:
        bond, slave, vlan = config("bond0", BOND0), config("eth0", ETH0), config("bond0.100", VLAN)
        assert bond.bonding_opts == (("mode", "active-backup"), ("miimon", "100"),
                                     ("primary", "eth1"))  # fmt: skip
        assert (bond.is_bond, slave.master, slave.is_bond) == (True, "bond0", False)
        assert (vlan.vlan_id, vlan.physdev, vlan.bridge) == (100, "bond0", "br100")

    def test_vlan_plus_vid_takes_its_parent_from_physdev(self) -> None:
        vlan = config("vlan0200", "VLAN=yes\nPHYSDEV=eth1\n")
        assert (vlan.vlan_id, vlan.physdev, vlan.errors) == (200, "eth1", ())
        assert config("vlan200", "VLAN=yes\n").errors == (
            "ifcfg-vlan200: PHYSDEV should be set for device vlan200",
        )

    def test_master_without_slave_yes_is_no_slave(self) -> None:
        # ifup-eth enslaves only when SLAVE=yes.
        assert config("eth0", "MASTER=bond0\n").master is None

    def test_ipv6_and_dns(self) -> None:
        br = config("br0", "TYPE=Bridge\nIPV6INIT=yes\nIPV6ADDR=fd00::5\nIPV6_AUTOCONF=no\n"
                    "IPV6_DEFAULTGW=fd00::1%br0\nDNS1=198.18.0.53\nDNS2=fd00::53\n"
                    'DOMAIN="lab.test test"\nPEERDNS=no\n')  # fmt: skip
        assert (br.ipv6init, str(br.ipv6addr), str(br.ipv6_gateway), br.ipv6_autoconf) == (
            True, "fd00::5/64", "fd00::1", False,
        )  # fmt: skip
        assert (br.dns, br.domain, br.peerdns) == (("198.18.0.53", "fd00::53"), "lab.test test",
                                                   False)  # fmt: skip


class TestStart:
    def test_bond_with_its_slaves_under_a_bridge_and_a_vlan_with_its_own(self) -> None:
        live = links(LinkState("eth0", mac=MAC0, up=True, index=2),
                     LinkState("eth1", mac=MAC1, index=3))  # fmt: skip
        add_bond = ("ip", "link", "add", "bond0", "type", "bond", "mode", "active-backup",
                    "miimon", "100")  # fmt: skip
        add_vlan = ("ip", "link", "add", "link", "bond0", "name", "bond0.100", "type", "vlan",
                    "id", "100")  # fmt: skip
        enslave = [
            cmd
            for nic in ("eth0", "eth1")
            for cmd in (
                ("ip", "link", "set", "dev", nic, "down"),
                ("ip", "link", "set", "dev", nic, "mtu", "9000"),
                ("ip", "link", "set", "dev", nic, "master", "bond0"),
                ("ip", "link", "set", "dev", nic, "up"),
            )
        ]
        assert plan_start(bonded(), live)[1:] == (
            Step("bond0", (
                add_bond,
                ("ip", "link", "set", "dev", "bond0", "up"),
                *enslave,
                ("ip", "link", "set", "dev", "bond0", "type", "bond", "primary", "eth1"),
                ("brctl", "addbr", "br0"),
                ("ip", "addr", "flush", "dev", "bond0"),
                ("ip", "link", "set", "dev", "bond0", "up"),
                ("brctl", "addif", "br0", "bond0"),
            ), said=((add_bond, "Device bond0 does not seem to be present, delaying"
                                " initialization."),)),
            Step("br0", (
                ("brctl", "setfd", "br0", "0"),
                ("brctl", "stp", "br0", "off"),
                ("ip", "addr", "flush", "dev", "br0"),
                ("ip", "addr", "add", "198.18.0.5/24", "brd", "+", "dev", "br0"),
                ("ip", "link", "set", "dev", "br0", "up"),
            )),
            Step("br100", (
                ("brctl", "addbr", "br100"),
                ("brctl", "setfd", "br100", "0"),
                ("ip", "link", "set", "dev", "br100", "up"),
            )),
            # VLANs come last, on what they sit on.
            Step("bond0.100", (
                add_vlan,
                ("ip", "addr", "flush", "dev", "bond0.100"),
                ("ip", "link", "set", "dev", "bond0.100", "up"),
                ("brctl", "addif", "br100", "bond0.100"),
            ), said=((add_vlan, "ERROR: could not add vlan 100 as bond0.100 on dev bond0"),)),
        )  # fmt: skip

    def test_a_missing_slave_is_a_warning_of_its_bond(self) -> None:
        (bond,) = (i for i in plan_start(bonded(), links(LinkState("eth0", mac=MAC0)))
                   if i.device == "bond0")  # fmt: skip
        assert isinstance(bond, Step)
        assert bond.message == "Unable to start slave device ifcfg-eth1 for master bond0."
        assert ("ip", "link", "set", "dev", "eth1", "master", "bond0") not in bond.commands

    def test_an_existing_bond_without_slaves_gets_its_options_again(self) -> None:
        live = links(LinkState("bond0", up=True), LinkState("eth0", mac=MAC0),
                     LinkState("eth1", mac=MAC1))  # fmt: skip
        (bond,) = (i for i in plan_start(bonded(), live) if i.device == "bond0")
        assert isinstance(bond, Step)
        assert bond.commands[:2] == (
            ("ip", "link", "set", "dev", "bond0", "down"),
            ("ip", "link", "set", "dev", "bond0", "type", "bond", "mode", "active-backup",
             "miimon", "100"),
        )  # fmt: skip

    def test_a_vlan_whose_parent_is_missing_is_not_created(self) -> None:
        plan = plan_start([config("eth1.5", "VLAN=yes\n")], links())
        assert plan[1:] == (
            Failure(
                "eth1.5", "Device eth1.5 does not seem to be present, delaying initialization."
            ),
        )

    def test_a_vlan_brings_its_parent_up(self) -> None:
        vlan = config("vlan5", "VLAN=yes\nPHYSDEV=eth1\nMTU=9000\nIPADDR=198.19.5.2\nPREFIX=24\n")
        (step,) = plan_start([vlan], links(LinkState("eth1", up=False)))[1:]
        assert isinstance(step, Step)
        assert step.commands[:3] == (
            ("ip", "link", "set", "dev", "eth1", "up"),
            ("ip", "link", "add", "link", "eth1", "name", "vlan5", "type", "vlan", "id", "5"),
            ("ip", "link", "set", "dev", "vlan5", "mtu", "9000"),
        )

    def test_ipv6_address_route_autoconf_and_dns(self) -> None:
        br = config("br0", "TYPE=Bridge\nIPADDR=198.18.0.5\nPREFIX=24\nGATEWAY=198.18.0.1\n"
                    "IPV6INIT=yes\nIPV6ADDR=fd00::5/64\nIPV6_DEFAULTGW=fd00::1\n"
                    "IPV6_AUTOCONF=no\nDNS1=198.18.0.53\nDOMAIN=lab.test\n")  # fmt: skip
        (step,) = plan_start([br], links())[1:]
        assert isinstance(step, Step)
        assert step.commands[-5:] == (
            ("ip", "link", "set", "dev", "br0", "up"),
            ("sysctl", "-q", "-w", "net/ipv6/conf/br0/accept_ra=0",
             "net/ipv6/conf/br0/autoconf=0"),
            ("ip", "-6", "addr", "replace", "fd00::5/64", "dev", "br0"),
            ("ip", "route", "replace", "default", "via", "198.18.0.1", "dev", "br0"),
            ("ip", "-6", "route", "replace", "default", "via", "fd00::1", "dev", "br0"),
        )  # fmt: skip
        assert step.resolv == ResolvConf(("198.18.0.53",), "lab.test")

    @pytest.mark.parametrize("extra", ["PEERDNS=no\n", "BRIDGE=br0\n", "DEFROUTE=no\n"])
    def test_no_resolv_conf_with_peerdns_no_or_for_a_port_and_no_v6_route_off_defroute(
        self, extra: str
    ) -> None:
        eth = config("eth1", f"DNS1=198.18.0.53\nIPV6INIT=yes\nIPV6_DEFAULTGW=fd00::1\n{extra}")
        (step,) = plan_start([eth], links(LinkState("eth1")))[1:]
        assert isinstance(step, Step)
        if extra != "DEFROUTE=no\n":
            assert step.resolv is None
        else:
            assert step.commands[-1][:3] != ("ip", "-6", "route")


class TestStop:
    def test_slaves_are_released_vlans_deleted_and_bond_and_bridges_down(self) -> None:
        live = links(
            LinkState("eth0", mac=MAC0, master="bond0", up=True, index=2),
            # The bond gave its slave its own MAC: no refusal on stop, as ifdown-eth.
            LinkState("eth1", mac=MAC0, master="bond0", up=True, index=3),
            LinkState("bond0", mac=MAC0, master="br0", up=True),
            LinkState("br0", is_bridge=True, up=True),
            LinkState("bond0.100", master="br100", up=True),
            LinkState("br100", is_bridge=True, up=True),
        )
        assert plan_stop(bonded(), live) == (
            Step("eth1", (("ip", "link", "set", "dev", "eth1", "nomaster"),
                          ("ip", "addr", "flush", "dev", "eth1"),
                          ("ip", "link", "set", "dev", "eth1", "down"))),
            Step("eth0", (("ip", "link", "set", "dev", "eth0", "nomaster"),
                          ("ip", "addr", "flush", "dev", "eth0"),
                          ("ip", "link", "set", "dev", "eth0", "down"))),
            Step("br100", (("ip", "link", "set", "dev", "br100", "down"),
                           ("brctl", "delbr", "br100"))),
            Step("br0", (("ip", "link", "set", "dev", "br0", "down"), ("brctl", "delbr", "br0"))),
            Step("bond0.100", (("ip", "addr", "flush", "dev", "bond0.100"),
                               ("ip", "link", "set", "dev", "bond0.100", "down"),
                               ("ip", "link", "delete", "bond0.100", "type", "vlan"))),
            Step("bond0", (("ip", "addr", "flush", "dev", "bond0"),
                           ("ip", "link", "set", "dev", "bond0", "down"))),
        )  # fmt: skip

    def test_a_bond_releases_slaves_whose_files_are_gone(self) -> None:
        live = links(LinkState("eth0", master="bond0"), LinkState("bond0", up=True))
        (step,) = plan_stop([config("bond0", BOND0.replace("BRIDGE=br0\n", ""))], live)
        assert step == Step("bond0", (
            ("ip", "link", "set", "dev", "eth0", "nomaster"),
            ("ip", "link", "set", "dev", "eth0", "down"),
            ("ip", "addr", "flush", "dev", "bond0"),
            ("ip", "link", "set", "dev", "bond0", "down"),
        ))  # fmt: skip

    def test_a_device_with_dns_puts_the_saved_resolv_conf_back(self) -> None:
        (step,) = plan_stop([config("eth0", "DNS1=198.18.0.53\n")], links(LinkState("eth0")))
        assert isinstance(step, Step) and step.resolv == ResolvConf()


class TestResolvConf:
    def test_servers_replace_the_nameserver_lines_in_order_and_domain_leads_search(
        self,
    ) -> None:
        old = "# lab\nnameserver 127.0.0.1\nsearch old.test\nnameserver 127.0.0.2\n"
        assert resolv_conf(old, ["198.18.0.53", "fd00::53"], "lab.test test") == (
            "# lab\nnameserver 198.18.0.53\nnameserver fd00::53\nsearch lab.test test old.test\n"
        )

    def test_more_servers_than_lines_are_appended_and_other_lines_kept(self) -> None:
        assert resolv_conf("options rotate\n", ["198.18.0.53"], None) == (
            "options rotate\nnameserver 198.18.0.53\n"
        )

    def test_nothing_changes_when_every_server_is_there(self) -> None:
        assert resolv_conf("nameserver 198.18.0.53\n", ["198.18.0.53"], "lab.test") is None


class TestService:
    def test_sysfs_files_such_as_bonding_masters_are_no_devices(self, tmp_path: Path) -> None:
        # A kernel with bonding has /sys/class/net/bonding_masters, a file.
        for index, name in socket.if_nameindex():
            entry = tmp_path / name
            entry.mkdir()
            (entry / "address").write_text("00:00:00:00:00:00\n")
            (entry / "flags").write_text("0x1\n")
            (entry / "ifindex").write_text(f"{index}\n")
        (tmp_path / "bonding_masters").write_text("bond0\n")
        assert set(network_service.read_links(tmp_path)) == {
            name for _, name in socket.if_nameindex()
        }

    def test_a_device_the_kernel_refuses_fails_with_initscripts_words(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        refused = ("false",)
        step = Step("bond0", (refused,), said=((refused, f"Device bond0 {ABSENT}"),))
        assert not network_service._execute("start", (step,))
        assert capsys.readouterr().out == (
            "false failed with status 1: \n"
            "Device bond0 does not seem to be present, delaying initialization.\n"
            "Bringing up interface bond0:  [FAILED]\n"
        )

    def test_resolv_conf_is_written_saved_and_put_back(self, tmp_path: Path) -> None:
        resolv = tmp_path / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.1\n")
        network_service._update_resolv_conf(ResolvConf(("198.18.0.53",), "lab.test"), resolv)
        assert resolv.read_text() == "nameserver 198.18.0.53\nsearch lab.test\n"
        assert (tmp_path / "resolv.conf.save").read_text() == "nameserver 127.0.0.1\n"
        network_service._update_resolv_conf(ResolvConf(), resolv)
        assert resolv.read_text() == "nameserver 127.0.0.1\n"
        assert not (tmp_path / "resolv.conf.save").exists()
