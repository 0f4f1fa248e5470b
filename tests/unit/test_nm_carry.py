"""el8/el9's preflight on a host's whole chain: the profiles that own a bond's slave, a
bond, a VLAN (by name or by parent and id) or a second NIC now are displaced like a
port's, and what they set of DNS and IPv6 goes to their bridge's profile where the
inventory leaves it to the host; a rerun keeps it. Captured nmcli output, no network."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hvbridge import platforms
from hvbridge.inventory.models import HostModel
from hvbridge.platforms.networkmanager import MARK
from hvbridge.platforms.nmcli import Dns, Ipv6, Settings, parse_profile_settings, parse_sections

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EL9 = platforms.get("el9")
DIR = "/etc/NetworkManager/system-connections"
NICS = {"eth0": {"hwaddr": "02:48:56:00:00:01"}, "eth1": {"hwaddr": "02:48:56:00:00:02"}}
STATIC = {"bootproto": "static", "ipaddr": "198.18.129.1", "prefix": 17, "gateway": "198.18.128.1"}


def host(data: dict[str, Any]) -> HostModel:
    return HostModel.model_validate(
        {"name": "hv01", "connection": {"hostname": "198.18.129.1"}, "platform": "el9", **data},
        strict=False,
    )


CHAIN = {
    "nics": NICS,
    "bonds": {"bond0": {"slaves": ["eth0", "eth1"]}},
    "vlans": {"bond0.100": {"parent": "bond0", "id": 100},
              "bond0.200": {"parent": "bond0", "id": 200}},
    "bridges": {"br100": {"ports": ["bond0.100"], **STATIC},
                "br200": {"ports": ["bond0.200"], "bootproto": "dhcp", "defroute": False}},
}  # fmt: skip


def said(profiles: str = "", settings: str = "") -> str:
    return f"active\n{MARK}\nrunning:1.42.4\n{MARK}\n{profiles}{MARK}\n{settings}"


def settings(uuid: str, **values: str) -> str:
    """One profile's block of `nmcli -t -f SETTINGS_FIELDS connection show uuid U`, as
    NetworkManager 1.42 prints it (captured in an el9 lab host)."""
    keys = ("ipv4.dns", "ipv4.dns-search", "ipv6.method", "ipv6.addresses", "ipv6.gateway",
            "ipv6.dns", "ipv6.dns-search")  # fmt: skip
    lines = [f"connection.uuid:{uuid}"]
    lines += [f"{key}:{values.get(key.replace('.', '_').replace('-', '_'), '')}" for key in keys]
    return "\n".join(lines) + "\n"


ETH0_SETTINGS = settings("u-eth0", ipv4_dns="198.18.0.53", ipv4_dns_search="lab.example",
                         ipv6_method="auto")  # fmt: skip
ETH1_SETTINGS = settings("u-eth1", ipv6_method="disabled")


def test_nmcli_s_settings_are_read_as_it_prints_them() -> None:
    # Captured: `nmcli -t -f ... connection show eth0` after an ipv6 `manual` modify.
    text = (
        "connection.uuid:51a8366b-0e77-5354-b4ee-2eced0d39fdc\nipv4.dns:198.18.0.53\n"
        "ipv4.dns-search:lab.example\nipv6.method:manual\n"
        "ipv6.addresses:fd48:6862:0:1::5/64, fd48:6862:0:1::6/64\n"
        "ipv6.gateway:fd48:6862:0:1::1\nipv6.dns:fd48:6862:0:1::53,fd48:6862:0:1::54\n"
        "ipv6.dns-search:v6.example\n"
        "connection.uuid:fd273e46\nipv4.dns:\nipv4.dns-search:\nipv6.method:auto\n"
        "ipv6.addresses:\nipv6.gateway:\nipv6.dns:\nipv6.dns-search:\n"
    )
    assert parse_profile_settings(text) == {
        "51a8366b-0e77-5354-b4ee-2eced0d39fdc": Settings(
            Dns(
                ("198.18.0.53",),
                ("lab.example", "v6.example"),
                ("fd48:6862:0:1::53", "fd48:6862:0:1::54"),
            ),
            Ipv6("manual", ("fd48:6862:0:1::5/64", "fd48:6862:0:1::6/64"), "fd48:6862:0:1::1"),
        ),
        "fd273e46": Settings(Dns(), Ipv6("auto")),
    }


VLAN = "[connection]\nid=v\ntype=vlan\n[vlan]\n"


def kept(*names: str) -> dict[str, str]:
    """Keyfiles the push found in the profiles' directory (the ones nmcli shows active)."""
    return {f"{DIR}/{name}.nmconnection": f"[connection]\nid={name}\n" for name in names}


def test_the_profiles_of_a_bond_s_slaves_and_a_vlan_s_old_keyfile_are_displaced() -> None:
    profiles = (
        f"eth0:u-eth0:802-3-ethernet:eth0:{DIR}/eth0.nmconnection:yes\n"
        f"eth1:u-eth1:802-3-ethernet:eth1:{DIR}/eth1.nmconnection:yes\n"
    )
    existing = {
        f"{DIR}/eth0.nmconnection": "[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\n",
        f"{DIR}/eth1.nmconnection": "[connection]\nid=eth1\ntype=ethernet\ninterface-name=eth1\n",
        # No interface name: NetworkManager would make bond0.100 of it, beside ours.
        f"{DIR}/old-vlan.nmconnection": f"{VLAN}parent=bond0\nid=100\n",
        f"{DIR}/vlan300.nmconnection": f"{VLAN}parent=bond0\nid=300\n",
    }  # fmt: skip
    files = EL9.render(TEMPLATES, host(CHAIN))
    found = EL9.preflight("hv01", said(profiles, ETH0_SETTINGS + ETH1_SETTINGS), files, existing)
    assert found.problems == ()
    assert found.displaced == (
        f"{DIR}/eth0.nmconnection",
        f"{DIR}/eth1.nmconnection",
        f"{DIR}/old-vlan.nmconnection",
    )
    # eth0's DNS and IPv6 go up its chain (bond0, its first VLAN bond0.100) to br100.
    assert found.notes == (
        "NetworkManager 1.42.4",
        "DNS 198.18.0.53, search lab.example carried to br100's profile from eth0's",
        "IPv6 (auto) carried to br100's profile from eth0's",
    )
    br100 = f"{DIR}/br100.nmconnection"
    assert list(found.rewritten) == [br100]
    assert found.rewritten[br100] == files[br100].replace(
        "[ipv4]\nmethod=manual\n",
        "[ipv4]\ndns=198.18.0.53;\ndns-search=lab.example;\nmethod=manual\n",
    ).replace("[ipv6]\nmethod=ignore\n", "[ipv6]\nmethod=auto\n")


def test_an_active_bond_and_its_slaves_profiles_are_displaced_and_the_bond_s_dns_kept() -> None:
    data = {"nics": NICS, "bonds": {"bond0": {"slaves": ["eth0", "eth1"]}},
            "bridges": {"br0": {"ports": ["bond0"], **STATIC}}}  # fmt: skip
    profiles = (
        f"bond-bond0:u-bond:bond:bond0:{DIR}/bond-bond0.nmconnection:yes\n"
        f"bond-slave-eth0:u-s0:802-3-ethernet:eth0:{DIR}/bond-slave-eth0.nmconnection:yes\n"
        f"bond-slave-eth1:u-s1:802-3-ethernet:eth1:{DIR}/bond-slave-eth1.nmconnection:yes\n"
        "bond0-port-eth0:u-mem:802-3-ethernet:::no\n"
    )
    dns = settings("u-bond", ipv4_dns="198.18.0.53,198.18.0.54", ipv6_method="ignore")
    existing = kept("bond-bond0", "bond-slave-eth0", "bond-slave-eth1")
    found = EL9.preflight("hv01", said(profiles, dns), EL9.render(TEMPLATES, host(data)), existing)
    assert found.displaced == tuple(
        f"{DIR}/{name}.nmconnection"
        for name in ("bond-bond0", "bond-slave-eth0", "bond-slave-eth1")
    )
    # One of our profiles' names, not active on our device: a clash.
    assert found.problems == (
        "hv01: a profile named bond0-port-eth0 already exists (in memory): rename or delete it,"
        " hvbridge writes its own",
    )
    assert (
        "\n[ipv4]\ndns=198.18.0.53;198.18.0.54;\nmethod=manual\n"
        in found.rewritten[f"{DIR}/br0.nmconnection"]
    )
    assert found.notes[1:] == (
        "DNS 198.18.0.53, 198.18.0.54 carried to br0's profile from bond-bond0's",
    )


TWO_NICS = {
    "nics": NICS,
    "bridges": {"br0": {"ports": ["eth0"], **STATIC},
                "br1": {"ports": ["eth1"], "bootproto": "static", "ipaddr": "198.19.0.11",
                        "prefix": 24, "defroute": False}},
}  # fmt: skip


def test_a_second_nic_s_profile_is_displaced_and_each_bridge_takes_its_own_nic_s() -> None:
    profiles = f"eth0:u-eth0:802-3-ethernet:eth0:{DIR}/eth0.nmconnection:yes\n"
    existing = {f"{DIR}/eth1.nmconnection": "[connection]\nid=eth1\nuuid=u-eth1\ntype=ethernet\n"
                "[ethernet]\nmac-address=02:48:56:00:00:02\n", **kept("eth0")}  # fmt: skip
    files = EL9.render(TEMPLATES, host(TWO_NICS))
    found = EL9.preflight("hv01", said(profiles, ETH0_SETTINGS + ETH1_SETTINGS), files, existing)
    assert found.displaced == (f"{DIR}/eth0.nmconnection", f"{DIR}/eth1.nmconnection")
    assert found.rewritten[f"{DIR}/br0.nmconnection"].endswith("\n[ipv6]\nmethod=auto\n")
    # eth1 had IPv6 disabled: so has br1; its DNS (none) is not eth0's.
    assert found.rewritten[f"{DIR}/br1.nmconnection"] == files[f"{DIR}/br1.nmconnection"].replace(
        "[ipv6]\nmethod=ignore\n", "[ipv6]\nmethod=disabled\n"
    )
    assert found.notes[1:] == (
        "DNS 198.18.0.53, search lab.example carried to br0's profile from eth0's",
        "IPv6 (auto) carried to br0's profile from eth0's",
        "IPv6 (disabled) carried to br1's profile from eth1's",
    )


SINGLE = {"nics": NICS, "bridges": {"br0": {"ports": ["eth0"], **STATIC}}}
ETH0 = f"eth0:u-eth0:802-3-ethernet:eth0:{DIR}/eth0.nmconnection:yes\n"
MANUAL = settings(
    "u-eth0", ipv4_dns="198.18.0.53", ipv6_method="manual",
    ipv6_addresses="fd48:6862:0:1::5/64, fd48:6862:0:1::6/64", ipv6_gateway="fd48:6862:0:1::1",
    ipv6_dns="fd48:6862:0:1::53",
)  # fmt: skip
CARRIED = (
    "\n[ipv6]\ndns=fd48:6862:0:1::53;\nmethod=manual\n"
    "address1=fd48:6862:0:1::5/64,fd48:6862:0:1::1\naddress2=fd48:6862:0:1::6/64\n"
)


def test_static_ipv6_addresses_and_gateway_are_carried_and_a_rerun_keeps_them() -> None:
    files = EL9.render(TEMPLATES, host(SINGLE))
    first = EL9.preflight("hv01", said(ETH0, MANUAL), files, kept("eth0"))
    br0 = f"{DIR}/br0.nmconnection"
    assert first.rewritten[br0].endswith(CARRIED)
    assert first.notes[1:] == (
        "DNS 198.18.0.53, fd48:6862:0:1::53 carried to br0's profile from eth0's",
        "IPv6 (manual fd48:6862:0:1::5/64, fd48:6862:0:1::6/64) carried to br0's profile from"
        " eth0's",
    )
    nmcli = shutil.which("nmcli")
    assert nmcli, "nmcli is missing: scripts/install installs network-manager"
    done = subprocess.run(
        [nmcli, "--offline", "connection", "modify", "connection.autoconnect", "yes"],
        input=first.rewritten[br0], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    back = parse_sections(done.stdout)["ipv6"]
    assert back["address1"] == "fd48:6862:0:1::5/64,fd48:6862:0:1::1", back
    assert (back["address2"], back["method"], back["dns"]) == (
        "fd48:6862:0:1::6/64", "manual", "fd48:6862:0:1::53;",
    )  # fmt: skip
    # The rerun: br0's own profile says what was carried; nothing else goes.
    ours = f"br0:u-br0:bridge:br0:{br0}:yes\n"
    again = EL9.preflight("hv01", said(ours, MANUAL.replace("u-eth0", "u-br0")), files, {})
    assert again.rewritten == first.rewritten
    assert again.notes == ("NetworkManager 1.42.4",)


def test_what_the_inventory_sets_is_not_carried_over() -> None:
    data = {"nics": NICS, "bridges": {"br0": {"ports": ["eth0"], **STATIC, "ipv6_autoconf": False,
                                              "dns": {"search": ["set.example"]}}}}  # fmt: skip
    files = EL9.render(TEMPLATES, host(data))
    assert EL9.preflight("hv01", said(ETH0, MANUAL), files, kept("eth0")).rewritten == {}
    # DNS left to the host, IPv6 not: the IPv4 server goes, the IPv6 one cannot (no IPv6
    # on the bridge: NetworkManager would refuse the profile).
    data["bridges"]["br0"].pop("dns")  # type: ignore[attr-defined]
    files = EL9.render(TEMPLATES, host(data))
    found = EL9.preflight("hv01", said(ETH0, MANUAL), files, kept("eth0"))
    assert found.rewritten[f"{DIR}/br0.nmconnection"] == files[f"{DIR}/br0.nmconnection"].replace(
        "[ipv4]\nmethod=manual\n", "[ipv4]\ndns=198.18.0.53;\nmethod=manual\n"
    )
    assert found.notes[1:] == ("DNS 198.18.0.53 carried to br0's profile from eth0's",)
