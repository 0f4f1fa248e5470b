"""el8/el9 keyfiles for a host's whole chain (NIC -> bond -> VLAN -> bridge): bonds and their
slaves, VLANs, several bridges, MTU per device, IPv6 and DNS, rendered exactly from models
built directly (the inventory's cross-checks are not this module's), and read back by
NetworkManager itself (`nmcli --offline`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hvbridge import platforms
from hvbridge.inventory.models import HostModel
from hvbridge.platforms.keyfiles import Planned, plan, profile_uuid
from hvbridge.platforms.nmcli import parse_sections

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EL9 = platforms.get("el9")
DIR = "/etc/NetworkManager/system-connections"
HEAD = "# Written by hvbridge: edit the inventory, not this file.\n[connection]\n"


def host(data: dict[str, Any]) -> HostModel:
    return HostModel.model_validate(
        {"name": "hv01", "connection": {"hostname": "198.18.129.1"}, "platform": "el9", **data},
        strict=False,
    )


def bridge(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "ports": ["eth0"], "bootproto": "static", "ipaddr": "198.18.129.1", "prefix": 17,
        "gateway": "198.18.128.1",
    }  # fmt: skip
    fields.update(changes)
    return fields


NICS = {"eth0": {"hwaddr": "02:48:56:00:00:01"}, "eth1": {"hwaddr": "02:48:56:00:00:02"}}
BONDED = {
    "nics": NICS,
    "bonds": {"bond0": {"slaves": ["eth0", "eth1"], "mode": "802.3ad", "lacp_rate": "fast",
                        "xmit_hash_policy": "layer3+4", "mtu": 9000}},
    "vlans": {"bond0.100": {"parent": "bond0", "id": 100, "mtu": 9000},
              "bond0.200": {"parent": "bond0", "id": 200}},
    "bridges": {
        "br100": bridge(ports=["bond0.100"], mtu=9000, ipv6addr="2001:db8:100::5/64",
                        ipv6_gateway="2001:db8:100::1",
                        dns={"servers": ["198.18.0.53", "2001:db8::53"],
                             "search": ["lab.example"]}),
        "br200": {"ports": ["bond0.200"], "bootproto": "dhcp", "defroute": False,
                  "ipv6_autoconf": False, "stp": True, "delay": 4},
    },
}  # fmt: skip


def uuid(profile: str) -> str:
    return profile_uuid("hv01", profile)


def test_a_bonded_host_with_a_bridge_per_vlan_renders_every_profile_of_the_chain() -> None:
    files = EL9.render(TEMPLATES, host(BONDED))
    assert files == {
        f"{DIR}/br100.nmconnection": f"""{HEAD}id=br100
uuid={uuid("br100")}
type=bridge
interface-name=br100
autoconnect=true

[bridge]
stp=false
forward-delay=0

[ethernet]
mtu=9000

[ipv4]
dns=198.18.0.53;
dns-search=lab.example;
method=manual
address1=198.18.129.1/17,198.18.128.1
never-default=false

[ipv6]
dns=2001:db8::53;
method=manual
address1=2001:db8:100::5/64,2001:db8:100::1
""",
        f"{DIR}/br100-port-bond0.100.nmconnection": f"""{HEAD}id=br100-port-bond0.100
uuid={uuid("br100-port-bond0.100")}
type=vlan
interface-name=bond0.100
master=br100
slave-type=bridge
autoconnect=true

[vlan]
parent=bond0
id=100

[ethernet]
mtu=9000

[bridge-port]
""",
        # Only VLANs on it: no address, no IPv6 of its own.
        f"{DIR}/parent-bond0.nmconnection": f"""{HEAD}id=parent-bond0
uuid={uuid("parent-bond0")}
type=bond
interface-name=bond0
autoconnect=true

[bond]
mode=802.3ad
miimon=100
lacp_rate=fast
xmit_hash_policy=layer3+4

[ethernet]
mtu=9000

[ipv4]
method=disabled

[ipv6]
method=disabled
""",
        # The bond's MTU on its slaves too.
        f"{DIR}/bond0-port-eth0.nmconnection": f"""{HEAD}id=bond0-port-eth0
uuid={uuid("bond0-port-eth0")}
type=ethernet
interface-name=eth0
master=bond0
slave-type=bond
autoconnect=true

[ethernet]
mac-address=02:48:56:00:00:01
mtu=9000
""",
        f"{DIR}/bond0-port-eth1.nmconnection": f"""{HEAD}id=bond0-port-eth1
uuid={uuid("bond0-port-eth1")}
type=ethernet
interface-name=eth1
master=bond0
slave-type=bond
autoconnect=true

[ethernet]
mac-address=02:48:56:00:00:02
mtu=9000
""",
        f"{DIR}/br200.nmconnection": f"""{HEAD}id=br200
uuid={uuid("br200")}
type=bridge
interface-name=br200
autoconnect=true

[bridge]
stp=true
forward-delay=4

[ipv4]
method=auto
never-default=true

[ipv6]
method=disabled
""",
        f"{DIR}/br200-port-bond0.200.nmconnection": f"""{HEAD}id=br200-port-bond0.200
uuid={uuid("br200-port-bond0.200")}
type=vlan
interface-name=bond0.200
master=br200
slave-type=bridge
autoconnect=true

[vlan]
parent=bond0
id=200

[bridge-port]
""",
    }
    assert EL9.render(TEMPLATES, host(BONDED)) == files, "the same on every run"


def test_the_plan_names_each_profile_for_its_place_in_the_chain_and_a_shared_bond_once() -> None:
    assert plan(host(BONDED)) == [
        Planned("br100", "br100", "bridge", None),
        Planned("br100-port-bond0.100", "bond0.100", "vlan", "br100"),
        Planned("parent-bond0", "bond0", "bond", None),
        Planned("bond0-port-eth0", "eth0", "nic", "bond0"),
        Planned("bond0-port-eth1", "eth1", "nic", "bond0"),
        Planned("br200", "br200", "bridge", None),
        Planned("br200-port-bond0.200", "bond0.200", "vlan", "br200"),
    ]


ACTIVE_BACKUP = {
    "nics": NICS,
    "bonds": {"bond0": {"slaves": ["eth0", "eth1"], "primary": "eth1"}},
    "bridges": {"br0": bridge(ports=["bond0"])},
}


def test_a_bond_that_is_a_bridge_port_is_the_bridge_s_port_and_its_slaves_the_bond_s() -> None:
    files = EL9.render(TEMPLATES, host(ACTIVE_BACKUP))
    assert sorted(files) == [
        f"{DIR}/bond0-port-eth0.nmconnection",
        f"{DIR}/bond0-port-eth1.nmconnection",
        f"{DIR}/br0-port-bond0.nmconnection",
        f"{DIR}/br0.nmconnection",
    ]
    assert (
        files[f"{DIR}/br0-port-bond0.nmconnection"]
        == f"""{HEAD}id=br0-port-bond0
uuid={uuid("br0-port-bond0")}
type=bond
interface-name=bond0
master=br0
slave-type=bridge
autoconnect=true

[bond]
mode=active-backup
miimon=100
primary=eth1

[bridge-port]
"""
    )
    # No MTU anywhere: none written, the kernel's stays.
    assert (
        files[f"{DIR}/bond0-port-eth1.nmconnection"]
        == f"""{HEAD}id=bond0-port-eth1
uuid={uuid("bond0-port-eth1")}
type=ethernet
interface-name=eth1
master=bond0
slave-type=bond
autoconnect=true

[ethernet]
mac-address=02:48:56:00:00:02
"""
    )


TWO_NICS = {
    "nics": {**NICS, "eth1": {"hwaddr": "02:48:56:00:00:02", "mtu": 9000}},
    "bridges": {
        "br0": bridge(),
        "br1": bridge(ports=["eth1"], ipaddr="198.19.0.11", prefix=24, gateway=None,
                      defroute=False, mtu=9000),
    },
}  # fmt: skip


def test_two_bridges_on_two_nics_are_two_independent_chains_with_their_own_mtu() -> None:
    files = EL9.render(TEMPLATES, host(TWO_NICS))
    assert [p.id for p in plan(host(TWO_NICS))] == ["br0", "br0-port-eth0", "br1", "br1-port-eth1"]
    assert (
        files[f"{DIR}/br1-port-eth1.nmconnection"]
        == f"""{HEAD}id=br1-port-eth1
uuid={uuid("br1-port-eth1")}
type=ethernet
interface-name=eth1
master=br1
slave-type=bridge
autoconnect=true

[ethernet]
mac-address=02:48:56:00:00:02
mtu=9000

[bridge-port]
"""
    )
    assert (
        files[f"{DIR}/br1.nmconnection"].split("[bridge]\n")[1]
        == """stp=false
forward-delay=0

[ethernet]
mtu=9000

[ipv4]
method=manual
address1=198.19.0.11/24
never-default=true

[ipv6]
method=ignore
"""
    )
    # br0's chain is what a single-NIC host gets: no MTU, eth0 alone.
    assert "mtu=" not in files[f"{DIR}/br0.nmconnection"]
    assert "mtu=" not in files[f"{DIR}/br0-port-eth0.nmconnection"]


def test_a_nic_that_only_carries_a_vlan_gets_a_profile_without_addresses() -> None:
    data = {
        "nics": NICS,
        "vlans": {"vlan300": {"parent": "eth1", "id": 300}},
        "bridges": {"br0": bridge(), "br300": {"ports": ["vlan300"], "bootproto": "dhcp"}},
    }
    files = EL9.render(TEMPLATES, host(data))
    assert (
        files[f"{DIR}/parent-eth1.nmconnection"]
        == f"""{HEAD}id=parent-eth1
uuid={uuid("parent-eth1")}
type=ethernet
interface-name=eth1
autoconnect=true

[ethernet]
mac-address=02:48:56:00:00:02

[ipv4]
method=disabled

[ipv6]
method=disabled
"""
    )
    assert (
        "interface-name=vlan300\nmaster=br300\n" in files[f"{DIR}/br300-port-vlan300.nmconnection"]
    )
    assert "[vlan]\nparent=eth1\nid=300\n" in files[f"{DIR}/br300-port-vlan300.nmconnection"]


@pytest.mark.parametrize(
    ("ipv6", "section"),
    [
        # An address: manual; with autoconf true, router advertisements add theirs.
        ({"ipv6addr": "2001:db8::5/64"}, "method=manual\naddress1=2001:db8::5/64\n"),
        ({"ipv6addr": "2001:db8::5/64", "ipv6_gateway": "fe80::1", "ipv6_autoconf": False},
         "method=manual\naddress1=2001:db8::5/64,fe80::1\n"),
        ({"ipv6addr": "2001:db8::5/64", "ipv6_autoconf": True},
         "method=auto\naddress1=2001:db8::5/64\n"),
        # No address: router advertisements, with a default route where a gateway is given
        # (NetworkManager refuses a gateway without an address to write it beside).
        ({"ipv6_autoconf": True}, "method=auto\n"),
        ({"ipv6_gateway": "fe80::1"}, "method=auto\nroute1=::/0,fe80::1\n"),
        ({"ipv6_autoconf": True, "ipv6_gateway": "fe80::1"}, "method=auto\nroute1=::/0,fe80::1\n"),
        # false: no IPv6 address at all (ignore would let the kernel take advertisements).
        ({"ipv6_autoconf": False}, "method=disabled\n"),
        # Neither: what the profiles the bridge displaces said (the preflight carries it).
        ({}, "method=ignore\n"),
    ],
)  # fmt: skip
def test_a_bridge_s_ipv6_follows_the_model(ipv6: dict[str, object], section: str) -> None:
    files = EL9.render(TEMPLATES, host({"nics": NICS, "bridges": {"br0": bridge(**ipv6)}}))
    assert files[f"{DIR}/br0.nmconnection"].split("\n[ipv6]\n")[1] == section
    assert _back(files[f"{DIR}/br0.nmconnection"])["ipv6"]["method"] in section


def test_dns_set_in_the_inventory_goes_to_each_family_s_section() -> None:
    dns = {
        "servers": ["2001:db8::53", "198.18.0.53", "198.18.0.54"],
        "search": ["a.example", "b.example"],
    }
    data = {"nics": NICS, "bridges": {"br0": bridge(dns=dns, ipv6_autoconf=True)}}
    text = EL9.render(TEMPLATES, host(data))[f"{DIR}/br0.nmconnection"]
    assert (
        "\n[ipv4]\ndns=198.18.0.53;198.18.0.54;\ndns-search=a.example;b.example;\nmethod=manual\n"
        in text
    )
    assert text.endswith("\n[ipv6]\ndns=2001:db8::53;\nmethod=auto\n")
    assert _back(text)["ipv6"]["dns"] == "2001:db8::53;"
    search_only = {"nics": NICS, "bridges": {"br0": bridge(dns={"search": ["a.example"]})}}
    text = EL9.render(TEMPLATES, host(search_only))[f"{DIR}/br0.nmconnection"]
    assert "\n[ipv4]\ndns-search=a.example;\nmethod=manual\n" in text
    assert "dns=" not in text


def _back(text: str) -> dict[str, dict[str, str]]:
    nmcli = shutil.which("nmcli")
    assert nmcli, "nmcli is missing: scripts/install installs network-manager"
    # --offline: nmcli reads the keyfile from stdin, checks it as NetworkManager would,
    # and prints it back (normalized).
    done = subprocess.run(
        [nmcli, "--offline", "connection", "modify", "connection.autoconnect", "yes"],
        input=text, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return parse_sections(done.stdout)


# What nmcli leaves out when it writes a profile back: NetworkManager's defaults.
NM_DEFAULTS = {
    ("connection", "autoconnect"): "true",
    ("ipv4", "never-default"): "false",
    ("bridge", "stp"): "true",
}


@pytest.mark.parametrize("data", [BONDED, ACTIVE_BACKUP, TWO_NICS], ids=["802.3ad", "ab", "2nics"])
def test_networkmanager_itself_reads_every_key_back_as_written(data: dict[str, Any]) -> None:
    for path, text in EL9.render(TEMPLATES, host(data)).items():
        back = _back(text)
        for section, keys in parse_sections(text, path).items():
            for key, value in keys.items():
                said = back.get(section, {}).get(key, NM_DEFAULTS.get((section, key)))
                assert said == value, (path, section, key)
