"""Shared by the inventory's tests: the seed's host as a mapping, and ways to write an
inventory directory and collect its problems."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hvbridge.inventory import InventoryError, load_inventory

DATA = Path(__file__).parent / "inventory_data"
EXAMPLES = Path(__file__).parents[2] / "inventory"

# The seed's host, as a mapping the tests change one value at a time.
SEED_HOST: dict[str, Any] = {
    "hostname": "10.0.112.39",
    "data": {
        "nics": {"eth0": {"hwaddr": "44:37:E6:4A:62:AD", "name": "System eth0"}},
        "bridges": {
            "br0": {
                "ports": ["eth0"],
                "bootproto": "static",
                "ipaddr": "10.0.112.39",
                "netmask": "255.255.255.0",
                "gateway": "10.0.112.1",
                "defroute": True,
            }
        },
        "guests": {"v1": {"interfaces": [{"bridge": "br0", "mac": "52:54:00:da:c3:dc"}]}},
    },
}

# A bonded host shaped like inventory/bonded's: eth0+eth1 in bond0 (active-backup, MTU 9000),
# VLANs bond0.100 and bond0.200 under br100 (IPv4, IPv6, DNS) and br200 (no address).
BONDED_HOST: dict[str, Any] = {
    "hostname": "198.18.100.11",
    "platform": "el7",
    "data": {
        "nics": {"eth0": {"hwaddr": "02:48:56:00:01:01"}, "eth1": {"hwaddr": "02:48:56:00:01:02"}},
        "bonds": {
            "bond0": {
                "slaves": ["eth0", "eth1"],
                "mode": "active-backup",
                "primary": "eth0",
                "mtu": 9000,
            }
        },
        "vlans": {
            "bond0.100": {"parent": "bond0", "id": 100},
            "bond0.200": {"parent": "bond0", "id": 200},
        },
        "bridges": {
            "br100": {
                "ports": ["bond0.100"],
                "bootproto": "static",
                "ipaddr": "198.18.100.11",
                "prefix": 24,
                "gateway": "198.18.100.1",
                "mtu": 9000,
                "ipv6addr": "2001:db8:100::11/64",
                "ipv6_gateway": "2001:db8:100::1",
                "dns": {"servers": ["198.18.100.53"], "search": ["example.net"]},
            },
            "br200": {"ports": ["bond0.200"], "bootproto": "none", "mtu": 9000},
        },
        "guests": {"web1": {"interfaces": [{"bridge": "br100", "mac": "52:54:00:10:00:01"}]}},
    },
}

Edit = Callable[[dict[str, Any]], None]


def write(
    directory: Path,
    hosts: dict[str, Any],
    groups: dict[str, Any] | None = None,
    defaults: dict[str, Any] | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    if groups is not None:
        (directory / "groups.yaml").write_text(yaml.safe_dump(groups))
    if defaults is not None:
        (directory / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    return directory


def seed_host(edit: Edit | None = None) -> dict[str, Any]:
    host = copy.deepcopy(SEED_HOST)
    if edit is not None:
        edit(host["data"])
    return host


def bonded_host(edit: Edit | None = None) -> dict[str, Any]:
    host = copy.deepcopy(BONDED_HOST)
    if edit is not None:
        edit(host["data"])
    return host


def problems(directory: Path) -> tuple[str, ...]:
    with pytest.raises(InventoryError) as caught:
        load_inventory(directory)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def bridge(data: dict[str, Any]) -> dict[str, Any]:
    br0: dict[str, Any] = data["bridges"]["br0"]
    return br0


def set_value(path: str, value: Any) -> Edit:
    *parents, leaf = path.split(".")

    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        node[leaf] = value

    return edit


def drop(path: str) -> Edit:
    *parents, leaf = path.split(".")

    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in parents:
            node = node[key]
        del node[leaf]

    return edit


def both(*edits: Edit) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        for each in edits:
            each(data)

    return edit
