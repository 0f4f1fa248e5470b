"""proxmox hosts with two NICs (`lab up --nics 2`) and the real ifupdown2 (`ifreload -a`),
through the CLI: the same two chains as on debian (test_debian_topology), written with
ifupdown2's attribute names: br0 on eno1 with an IPv6 static address and default route,
br1 on eno2 at MTU 9000 with STP on and its forward delay; resolv.conf as it was."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge import platforms
from hvbridge.inventory.models import HostData
from hvbridge.shipped import templates

from .platform_lab import on, platform_lab
from .test_debian_topology import two_bridges


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from platform_lab(tmp_path_factory, "proxmox", hosts=1, nics=2)


def test_two_bridges_on_two_nics_jumbo_frames_ipv6_and_stp_with_ifupdown2(
    lab_dir: Path, tmp_path: Path
) -> None:
    two_bridges(lab_dir, tmp_path, ("eno1", "eno2"))


# Bonds and VLANs cannot be made on this kernel: the real ifupdown2 reads hvbridge's file for
# them and validates every attribute and value against its modules (`ifup --syntax-check`).
BONDED = {
    "nics": {"eno1": {"hwaddr": "02:48:56:00:00:01"}, "eno2": {"hwaddr": "02:48:56:00:00:02"}},
    "bonds": {"bond0": {"slaves": ["eno1", "eno2"], "mode": "802.3ad", "lacp_rate": "fast",
                        "xmit_hash_policy": "layer3+4", "mtu": 9000},
              "bond1": {"slaves": ["eno3"], "primary": "eno3"}},
    "vlans": {"bond0.100": {"parent": "bond0", "id": 100},
              "storage": {"parent": "bond1", "id": 200}},
    "bridges": {
        "vmbr0": {"ports": ["bond0.100"], "bootproto": "static", "ipaddr": "198.18.129.1",
                  "prefix": 17, "gateway": "198.18.128.1", "mtu": 9000, "stp": True, "delay": 4,
                  "ipv6addr": "fd48:6862:0:2::101/64", "ipv6_gateway": "fd48:6862:0:2::1",
                  "ipv6_autoconf": False,
                  "dns": {"servers": ["198.18.0.53"], "search": ["lab.example"]}},
        "vmbr1": {"ports": ["storage"], "bootproto": "dhcp"},
    },
}  # fmt: skip


def test_ifupdown2_accepts_every_attribute_of_a_bond_vlan_and_bridge_chain(lab_dir: Path) -> None:
    data = {**BONDED, "nics": {**BONDED["nics"], "eno3": {"hwaddr": "02:48:56:00:00:03"}}}
    model = HostData.model_validate(data, strict=False)
    (text,) = platforms.get("proxmox").render(templates(), model).values()
    assert "bond-lacp-rate fast" in text and "vlan-id 200" in text, text
    check = "ifup -a --syntax-check -i /tmp/hvbridge-syntax"
    good = on(lab_dir, "hv01", f"printf %s {shlex.quote(text)} > /tmp/hvbridge-syntax && {check}")
    # Its one remark is wrong on this ifupdown2: without its own mtu a new bridge stays at
    # 1500 whatever its ports have (test_two_bridges... above reads 9000 in sysfs).
    said = (good.stdout + good.stderr).splitlines()
    assert said == [
        "warning: vmbr0: bridge inherits mtu from its ports. There is no need to assign mtu on a"
        " bridge"
    ], said
    # The check can fail: a value out of ifupdown2's range is refused.
    bad = text.replace("bond-miimon 100", "bond-miimon 300", 1)
    refused = on(lab_dir, "hv01", f"printf %s {shlex.quote(bad)} > /tmp/hvbridge-syntax && {check}")
    assert "bond-miimon" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
