"""A bridge for guests only (`bootproto: none`, br200 of the bonded example): every platform
writes it with no IPv4 at all (not DHCP, not an empty static address), and the verify does
not look for a default route through it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hvbridge import platforms
from hvbridge.hoststate import expected_bridges
from hvbridge.inventory.models import HostData

ROOT = Path(__file__).resolve().parents[2]


def bonded(platform: str) -> HostData:
    hosts = yaml.safe_load((ROOT / "inventory/bonded/hosts.yaml").read_text())
    data: dict[str, Any] = {**hosts["hv01"]["data"], "platform": platform}
    return HostData.model_validate(data)


def br200(platform: str) -> str:
    files = platforms.get(platform).render(ROOT / "templates", bonded(platform))
    return next(
        text
        for path, text in files.items()
        if path.endswith(("br200", "br200.nmconnection", "hvbridge", "90-hvbridge.yaml"))
    )


@pytest.mark.parametrize("platform", ["el6", "el7"])
def test_initscripts_say_bootproto_none_and_nothing_of_ipv4(platform: str) -> None:
    text = br200(platform)
    assert "BOOTPROTO=none\n" in text
    assert not any(key in text for key in ("IPADDR", "NETMASK", "PREFIX", "GATEWAY", "DEFROUTE"))


@pytest.mark.parametrize("platform", ["el8", "el9"])
def test_networkmanager_disables_ipv4_on_it(platform: str) -> None:
    ipv4 = br200(platform).split("[ipv4]\n")[1].split("\n[")[0]
    assert ipv4.strip() == "method=disabled"


@pytest.mark.parametrize("platform", ["debian", "proxmox"])
def test_ifupdown_brings_it_up_inet_manual(platform: str) -> None:
    text = br200(platform)
    assert "iface br200 inet manual\n" in text
    assert "iface br200 inet dhcp" not in text and "iface br200 inet static" not in text


def test_netplan_asks_no_dhcp_for_it() -> None:
    text = br200("ubuntu")
    stanza = text.split("    br200:\n")[1]
    assert "dhcp4: false" in stanza and "addresses" not in stanza.split("parameters")[0]


def test_the_verify_expects_no_default_route_through_it() -> None:
    expected = {bridge.name: bridge for bridge in expected_bridges(bonded("el7"))}
    assert expected["br200"].defroute is False and expected["br200"].address is None
    assert expected["br100"].defroute is True
