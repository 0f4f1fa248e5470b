"""hvbridge.platforms debian (ifupdown) and proxmox (ifupdown2): bonds, VLANs, several
bridges, MTU along the chain, IPv6 and DNS in hvbridge's own interfaces(5) file, and the
preflight that takes the host's old stanzas of every device under a bridge out; pure."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from hvbridge import platforms
from hvbridge.inventory.models import HostData
from hvbridge.platforms.ifupdown import MARK, NO_BONDS, OWN_FILE
from hvbridge.platforms.ifupdown_stanzas import mtus, stanzas
from hvbridge.platforms.interfaces import INTERFACES
from hvbridge.platforms.interfaces import MARK as DUMP_MARK
from hvbridge.platforms.proxmox import forwarding_wait

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DEBIAN = platforms.get("debian")
PROXMOX = platforms.get("proxmox")
HEADER = "# Written by hvbridge: edit the inventory, not this file.\n"


def host(**data: Any) -> HostData:
    nics = {f"eno{n}": {"hwaddr": f"02:48:56:00:00:0{n}"} for n in (1, 2)}
    return HostData.model_validate({"nics": nics, **data}, strict=False)


STATIC = {"bootproto": "static", "ipaddr": "198.18.129.1", "prefix": 17, "gateway": "198.18.128.1"}
# The likely production shape: an active-backup bond, a VLAN on it, a bridge on the VLAN,
# jumbo frames asked for by the bridge only.
BONDED = host(
    bonds={"bond0": {"slaves": ["eno1", "eno2"], "primary": "eno1"}},
    vlans={"bond0.100": {"parent": "bond0", "id": 100}},
    bridges={"vmbr0": {"ports": ["bond0.100"], "mtu": 9000, **STATIC}},
)
BONDED_PROXMOX = HEADER + (
    "\n"
    "iface eno1 inet manual\n"
    "    mtu 9000\n"
    "\n"
    "iface eno2 inet manual\n"
    "    mtu 9000\n"
    "\n"
    "auto bond0\n"
    "iface bond0 inet manual\n"
    "    bond-slaves eno1 eno2\n"
    "    bond-mode active-backup\n"
    "    bond-miimon 100\n"
    "    bond-primary eno1\n"
    "    mtu 9000\n"
    "\n"
    "auto bond0.100\n"
    "iface bond0.100 inet manual\n"
    "    mtu 9000\n"
    "\n"
    "auto vmbr0\n"
    "iface vmbr0 inet static\n"
    "    address 198.18.129.1/17\n"
    "    gateway 198.18.128.1\n"
    "    mtu 9000\n"
    "    bridge-ports bond0.100\n"
    "    hwaddress 02:48:56:00:00:01\n"
    "    bridge-stp off\n"
    "    bridge-fd 0\n"
)


def render(platform: Any, data: HostData) -> str:
    files = platform.render(TEMPLATES, data)
    assert list(files) == [OWN_FILE]
    text: str = files[OWN_FILE]
    return text


def test_proxmox_writes_bond_vlan_and_bridge_bottom_up_with_the_mtu_down_the_chain() -> None:
    assert render(PROXMOX, BONDED) == BONDED_PROXMOX
    assert PROXMOX.inventory_problems(BONDED) == []


def test_debian_names_the_bond_on_its_slaves_for_ifenslave_and_uses_bridge_utils_names() -> None:
    expected = (
        BONDED_PROXMOX.replace("iface eno1 inet manual\n", "iface eno1 inet manual\n"
                               "    bond-master bond0\n")
        .replace("iface eno2 inet manual\n", "iface eno2 inet manual\n    bond-master bond0\n")
        .replace("bridge-ports", "bridge_ports")
        .replace("hwaddress", "bridge_hw")
        .replace("bridge-stp", "bridge_stp")
        .replace("bridge-fd", "bridge_fd")
    )  # fmt: skip
    assert render(DEBIAN, BONDED) == expected
    assert DEBIAN.inventory_problems(BONDED) == []


def test_an_802_3ad_bond_writes_its_lacp_rate_and_hash_policy() -> None:
    data = host(
        bonds={"bond0": {"slaves": ["eno1", "eno2"], "mode": "802.3ad", "lacp_rate": "fast",
                         "xmit_hash_policy": "layer3+4"}},
        bridges={"vmbr0": {"ports": ["bond0"], **STATIC}},
    )  # fmt: skip
    assert (
        "auto bond0\n"
        "iface bond0 inet manual\n"
        "    bond-slaves eno1 eno2\n"
        "    bond-mode 802.3ad\n"
        "    bond-miimon 100\n"
        "    bond-lacp-rate fast\n"
        "    bond-xmit-hash-policy layer3+4\n"
        "\n"
        "auto vmbr0\n"
    ) in render(PROXMOX, data)


def test_a_vlan_not_named_parent_dot_id_names_them_on_ifupdown2_and_is_refused_on_ifupdown() -> (
    None
):
    data = host(
        vlans={"storage": {"parent": "eno2", "id": 200}},
        bridges={"vmbr0": {"ports": ["eno1"], **STATIC},
                 "vmbr1": {"ports": ["storage"], "bootproto": "dhcp"}},
    )  # fmt: skip
    assert (
        "\nauto storage\n"
        "iface storage inet manual\n"
        "    vlan-raw-device eno2\n"
        "    vlan-id 200\n"
        "\nauto vmbr1\n"
    ) in render(PROXMOX, data)
    assert PROXMOX.inventory_problems(data) == []
    assert DEBIAN.inventory_problems(data) == [
        (("vlans", "storage"), "ifupdown creates a VLAN from its name: call it eno2.200")
    ]


def test_two_bridges_on_two_nics_are_two_independent_chains() -> None:
    data = host(
        bridges={
            "br0": {"ports": ["eno1"], **STATIC},
            "br1": {"ports": ["eno2"], "bootproto": "static", "ipaddr": "198.19.0.10",
                    "prefix": 24, "mtu": 9000, "stp": True, "delay": 4},
        },
    )  # fmt: skip
    assert render(DEBIAN, data) == HEADER + (
        "\n"
        "iface eno1 inet manual\n"
        "\n"
        "auto br0\n"
        "iface br0 inet static\n"
        "    address 198.18.129.1/17\n"
        "    gateway 198.18.128.1\n"
        "    bridge_ports eno1\n"
        "    bridge_hw 02:48:56:00:00:01\n"
        "    bridge_stp off\n"
        "    bridge_fd 0\n"
        "\n"
        "iface eno2 inet manual\n"
        "    mtu 9000\n"
        "\n"
        "auto br1\n"
        "iface br1 inet static\n"
        "    address 198.19.0.10/24\n"
        "    gateway 198.18.128.1\n"
        "    mtu 9000\n"
        "    bridge_ports eno2\n"
        "    bridge_hw 02:48:56:00:00:02\n"
        "    bridge_stp on\n"
        "    bridge_fd 4\n"
    ).replace("    gateway 198.18.128.1\n    mtu", "    mtu")


def test_ipv6_static_with_gateway_and_router_advertisements_off_and_dns_set() -> None:
    bridge = {
        "ports": ["eno1"], **STATIC, "ipv6addr": "2001:db8::10/64",
        "ipv6_gateway": "2001:db8::1", "ipv6_autoconf": False,
        "dns": {"servers": ["198.18.0.53", "2001:db8::53"], "search": ["lab.example", "example"]},
    }  # fmt: skip
    text = render(PROXMOX, host(bridges={"vmbr0": bridge}))
    assert text.endswith(
        "    bridge-fd 0\n"
        "    dns-nameservers 198.18.0.53 2001:db8::53\n"
        "    dns-search lab.example example\n"
        "\n"
        "iface vmbr0 inet6 static\n"
        "    address 2001:db8::10/64\n"
        "    gateway 2001:db8::1\n"
        "    accept_ra 0\n"
        "    autoconf 0\n"
    )
    on = render(DEBIAN, host(bridges={"br0": {**bridge, "ipv6_autoconf": True}}))
    assert on.endswith("    gateway 2001:db8::1\n    accept_ra 2\n    autoconf 1\n")
    unset = render(DEBIAN, host(bridges={"br0": {**bridge, "ipv6_autoconf": None}}))
    assert unset.endswith("    address 2001:db8::10/64\n    gateway 2001:db8::1\n")


def test_router_advertisements_without_an_address_are_inet6_auto_and_unset_writes_none() -> None:
    auto = host(bridges={"br0": {"ports": ["eno1"], **STATIC, "ipv6_autoconf": True}})
    assert render(DEBIAN, auto).endswith(
        "    bridge_fd 0\n\niface br0 inet6 auto\n    accept_ra 2\n    autoconf 1\n"
    )
    # ifupdown2 refuses the method (`unsupported address method 'auto'`).
    assert PROXMOX.inventory_problems(auto)[1:] == [
        (("bridges", "br0", "ipv6_autoconf"), "ifupdown2 has no inet6 auto method: set ipv6addr"
         " too, or leave ipv6_autoconf unset (the kernel's default accepts router"
         " advertisements)"),
    ]  # fmt: skip
    assert DEBIAN.inventory_problems(auto)[1:] == []
    assert "inet6" not in render(DEBIAN, host(bridges={"br0": {"ports": ["eno1"], **STATIC}}))
    off = host(
        bridges={"br0": {"ports": ["eno1"], **STATIC, "ipv6_autoconf": False,
                         "ipv6_gateway": "2001:db8::1"}}
    )  # fmt: skip
    assert DEBIAN.inventory_problems(off)[1:] == [
        (("bridges", "br0", "ipv6_autoconf"), "ifupdown turns router advertisements off in an"
         " inet6 static stanza: set ipv6addr too"),
        (("bridges", "br0", "ipv6_gateway"), "ifupdown writes an IPv6 gateway in an inet6"
         " static stanza: set ipv6addr too"),
    ]  # fmt: skip


def test_mtu_a_vlan_never_above_its_parent_slaves_take_the_bond_s() -> None:
    data = host(
        bonds={"bond0": {"slaves": ["eno1", "eno2"]}},
        vlans={"bond0.100": {"parent": "bond0", "id": 100},
               "bond0.200": {"parent": "bond0", "id": 200, "mtu": 1500}},
        bridges={"br100": {"ports": ["bond0.100"], "mtu": 9000, **STATIC},
                 "br200": {"ports": ["bond0.200"], "bootproto": "dhcp"}},
    )  # fmt: skip
    assert mtus(data) == {
        "br100": 9000, "bond0.100": 9000, "bond0.200": 1500, "bond0": 9000, "eno1": 9000,
        "eno2": 9000,
    }  # fmt: skip
    # The bond both VLANs sit on is written once, before either.
    assert [(d.kind, d.name) for d in stanzas(data)] == [
        ("nic", "eno1"), ("nic", "eno2"), ("bond", "bond0"), ("vlan", "bond0.100"),
        ("bridge", "br100"), ("vlan", "bond0.200"), ("bridge", "br200"),
    ]  # fmt: skip
    own = host(
        bonds={"bond0": {"slaves": ["eno1", "eno2"], "mtu": 9000}},
        bridges={"br0": {"ports": ["bond0"], **STATIC}},
    )
    assert mtus(own) == {"bond0": 9000, "eno1": 9000, "eno2": 9000}
    nic = HostData.model_validate(
        {"nics": {"eno1": {"hwaddr": "02:48:56:00:00:01", "mtu": 9000}},
         "bridges": {"br0": {"ports": ["eno1"], **STATIC}}}, strict=False
    )  # fmt: skip
    assert "iface eno1 inet manual\n    mtu 9000\n" in render(DEBIAN, nic)


def test_what_ifupdown_does_not_write_or_would_refuse_is_said_in_the_inventory() -> None:
    data = host(
        bonds={"bond0": {"slaves": ["eno2"], "miimon": 300}, "bond1": {"slaves": ["eno2"]}},
        bridges={"br0": {"ports": ["eno1", "bond0"], **STATIC}},
    )
    assert PROXMOX.inventory_problems(data) == [
        (("bonds", "bond1"), "'bond1': a bond outside a bridge is not written on ifupdown"
         " platforms yet"),
        (("bonds", "bond0", "miimon"), "ifupdown2 takes a bond-miimon of 0 to 255 ms"),
    ]  # fmt: skip
    assert DEBIAN.inventory_problems(data) == PROXMOX.inventory_problems(data)[:1]


# --- preflight: the old stanzas of every device under a bridge --------------------------


def preflight_output(version: str, files: dict[str, str]) -> str:
    dumped = "".join(f"{DUMP_MARK} file {p}\n{t}\n{DUMP_MARK} end\n" for p, t in files.items())
    return f"{version}\n{MARK}\n{dumped}"


# A Proxmox host before: eno1 carries the address, DNS and IPv6; eno2 is unused.
BEFORE = (
    "source /etc/network/interfaces.d/*\n"
    "auto lo\n"
    "iface lo inet loopback\n"
    "auto eno1\n"
    "iface eno1 inet static\n"
    "    address 198.18.129.1/17\n"
    "    gateway 198.18.128.1\n"
    "    dns-nameservers 198.18.0.53\n"
    "iface eno1 inet6 static\n"
    "    address 2001:db8::10/64\n"
    "iface eno2 inet manual\n"
)
AFTER = "source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\nauto eno1\n"


@pytest.mark.parametrize(("platform", "version"), [(PROXMOX, "ifupdown2:3.2.0-1+pmx9"),
                                                   (DEBIAN, "ifup version 0.8.41")])  # fmt: skip
def test_a_slave_s_and_the_second_nic_s_old_stanzas_go_their_dns_and_ipv6_to_the_bridge(
    platform: Any, version: str
) -> None:
    files = platform.render(TEMPLATES, BONDED)
    found = platform.preflight("hv01", preflight_output(version, {INTERFACES: BEFORE}), files, {})
    assert found.problems == ()
    # eno1's static IPv6 address is flushed before vmbr0 comes up: eno1 goes down by its
    # new `inet manual` stanza, which flushes IPv4 only.
    carried = files[OWN_FILE] + (
        "    dns-nameservers 198.18.0.53\n    pre-up ip -6 addr flush dev eno1 scope global\n"
        "\niface vmbr0 inet6 static\n    address 2001:db8::10/64\n"
    )
    assert dict(found.rewritten) == {INTERFACES: AFTER, OWN_FILE: carried}
    assert found.notes[1] == f"the stanza of eno1, eno2 out of {INTERFACES}"
    # A rerun: nothing else to take out, our file as it is: nothing to write.
    again = platform.preflight(
        "hv01", preflight_output(version, {INTERFACES: AFTER, OWN_FILE: carried}), files, {}
    )
    assert dict(again.rewritten) == {OWN_FILE: carried}


def test_dns_and_ipv6_the_inventory_sets_are_not_mixed_with_the_host_s() -> None:
    data = host(
        bridges={"vmbr0": {"ports": ["eno1"], **STATIC, "ipv6addr": "2001:db8::20/64",
                           "dns": {"servers": ["198.18.0.99"]}}},
    )  # fmt: skip
    files = PROXMOX.render(TEMPLATES, data)
    output = preflight_output("ifupdown2:3.2.0-1+pmx9", {INTERFACES: BEFORE})
    found = PROXMOX.preflight("hv01", output, files, {})
    # eno2 is not ours here: its stanza stays. eno1's address is flushed all the same.
    flushed = files[OWN_FILE].replace(
        "    dns-nameservers 198.18.0.99\n",
        "    dns-nameservers 198.18.0.99\n    pre-up ip -6 addr flush dev eno1 scope global\n",
    )
    assert dict(found.rewritten) == {
        INTERFACES: AFTER + "iface eno2 inet manual\n",
        OWN_FILE: flushed,
    }
    again = preflight_output("ifupdown2:3.2.0-1+pmx9", dict(found.rewritten))
    assert dict(PROXMOX.preflight("hv01", again, files, {}).rewritten) == {OWN_FILE: flushed}


def test_debian_refuses_a_bond_where_ifenslave_is_missing_proxmox_needs_none() -> None:
    files = DEBIAN.render(TEMPLATES, BONDED)
    output = (
        f"ifup version 0.8.41\n{NO_BONDS}\n{MARK}\n"
        + preflight_output("", {INTERFACES: BEFORE}).split(f"{MARK}\n", 1)[1]
    )
    assert DEBIAN.preflight("hv01", output, files, {}).problems == (
        "hv01: ifupdown makes no bond without ifenslave, which is not installed: install it"
        " (apt-get install ifenslave) before a bond (bond0) is written",
    )
    # Without a bond, the missing package does not matter.
    plain = DEBIAN.render(TEMPLATES, host(bridges={"br0": {"ports": ["eno1"], **STATIC}}))
    assert DEBIAN.preflight("hv01", output, plain, {}).problems == ()
    # The host's shell says it: the helper's path is tested, nothing else.
    assert "[ -e /etc/network/if-pre-up.d/ifenslave ] || echo" in DEBIAN.preflight_command
    assert NO_BONDS not in PROXMOX.preflight_command
    found = PROXMOX.preflight(
        "hv01", preflight_output("ifupdown2:3.2.0-1+pmx9", {INTERFACES: BEFORE}),
        PROXMOX.render(TEMPLATES, BONDED), {},
    )  # fmt: skip
    assert found.problems == ()


def _sysfs(root: Path, stp: str, delay_cs: str, port_state: str | None) -> None:
    bridge = root / "br1"
    (bridge / "bridge").mkdir(parents=True)
    (bridge / "bridge" / "stp_state").write_text(f"{stp}\n")
    (bridge / "bridge" / "forward_delay").write_text(f"{delay_cs}\n")
    if port_state is not None:
        (bridge / "brif" / "eno2").mkdir(parents=True)
        (bridge / "brif" / "eno2" / "state").write_text(f"{port_state}\n")


@pytest.mark.parametrize(
    ("stp", "port_state", "sleeps"),
    [("1", "1", 3), ("1", "3", 0), ("0", "1", 0), ("1", None, 3)],
)
def test_proxmox_waits_for_an_stp_bridge_to_forward_at_most_twice_its_delay_and_2_s(
    tmp_path: Path, stp: str, port_state: str | None, sleeps: int
) -> None:
    # A `sleep` that only counts: the wait's bound, not its time, is what is tested.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sleep").write_text(f"#!/bin/sh\necho slept >> {tmp_path}/sleeps\n")
    (bin_dir / "sleep").chmod(0o755)
    _sysfs(tmp_path / "net", stp, "50", port_state)  # 0.5 s: 0.5 * 2 + 2 = 3 s
    command = forwarding_wait(str(tmp_path / "net"))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    counted = tmp_path / "sleeps"
    assert (counted.read_text().count("slept") if counted.exists() else 0) == sleeps
