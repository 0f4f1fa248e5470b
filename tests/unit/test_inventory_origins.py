"""hvbridge.inventory.origins: an inherited value's problem names the group or defaults
that defines it; values are Nornir's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nornir.core.inventory import Host
from nornir.plugins.inventory.simple import SimpleInventory

from hvbridge.inventory import (
    LoadedInventory,
    load_inventory,
    masked,
)
from tests.unit.inventory_support import (
    DATA,
    bridge,
    problems,
    seed_host,
    write,
)

# --- where an inherited value is defined --------------------------------------------------


def test_inherited_problems_name_groups_yaml_and_defaults_yaml() -> None:
    directory = DATA / "inherited"
    assert problems(directory) == (
        f"{directory}/groups.yaml: hosts hv01, hv02 (inherited from group lab): port:"
        " expected an integer, got '22'",
        f"{directory}/defaults.yaml: hosts hv01, hv02 (inherited from defaults):"
        " connection_options.hvbridge.extras.connect_timeout: Input should be greater than 0"
        " (got 0)",
        f"{directory}/groups.yaml: hosts hv01, hv02 (inherited from group lab):"
        " bridges.br0.gateway: not allowed with bootproto dhcp",
    )


def test_a_host_value_overrides_the_group_and_is_blamed_on_hosts_yaml(tmp_path: Path) -> None:
    group = {"data": {"bridges": {"br0": {"ports": ["eth0"], "bootproto": "dhcp"}}}}
    host = seed_host(lambda data: bridge(data).update(gateway="10.0.9.1"))
    host["groups"] = ["site"]
    directory = write(tmp_path, {"kvm01": host}, {"site": group})
    assert problems(directory) == (
        f"{directory}/hosts.yaml: host kvm01: bridges.br0.gateway: 10.0.9.1 is outside"
        " 10.0.112.0/24",
    )


def test_parent_group_is_named(tmp_path: Path) -> None:
    host = seed_host()
    host["groups"] = ["rack1"]
    groups = {
        "rack1": {"groups": ["site"]},
        "site": {"connection_options": {"hvbridge": {"extras": {"jump": ["hv9"]}}}},
    }
    directory = write(tmp_path, {"kvm01": host}, groups)
    assert problems(directory) == (
        f"{directory}/groups.yaml: host kvm01 (inherited from group site):"
        " connection_options.hvbridge.extras.jump[0]: hv9 is not a host in this inventory"
        " (for a host outside it: user@hv9:22)",
    )


NESTED: dict[str, dict[str, Any]] = {
    "hosts": {
        "h1": {"hostname": "192.0.2.1", "groups": ["g1", "g2"]},
        "h2": {
            "hostname": "192.0.2.2",
            "groups": ["g2"],
            "connection_options": {"hvbridge": {"port": 2201}},
        },
    },
    "groups": {
        "g1": {"groups": ["g3"], "connection_options": {"hvbridge": {"port": 2222}}},
        "g2": {"username": "ops", "connection_options": {"hvbridge": {"extras": {"sudo": True}}}},
        "g3": {
            "platform": "el6",
            "connection_options": {"hvbridge": {"extras": {"accept_new": True}}},
        },
    },
    "defaults": {
        "port": 22,
        "connection_options": {"hvbridge": {"username": "root", "extras": {"sudo": False}}},
    },
}


def test_connection_parameters_match_nornirs_without_mutating(tmp_path: Path) -> None:
    directory = write(tmp_path, NESTED["hosts"], NESTED["groups"], NESTED["defaults"])
    loaded = load_inventory(directory)
    before = {name: group.dict() for name, group in loaded.inventory.groups.items()}
    ours = {name: masked(host)["connection_options"]["hvbridge"] for name, host in _hosts(loaded)}
    assert {name: group.dict() for name, group in loaded.inventory.groups.items()} == before

    reference = SimpleInventory(
        str(directory / "hosts.yaml"),
        str(directory / "groups.yaml"),
        str(directory / "defaults.yaml"),
    ).load()
    for name, host in reference.hosts.items():
        assert ours[name] == host.get_connection_parameters("hvbridge").dict()
    # g1's chain includes the defaults before g2, as in Nornir: h1 is not sudo.
    assert ours["h1"]["extras"] == {"accept_new": True}
    assert (ours["h1"]["port"], ours["h1"]["username"]) == (2222, "root")
    assert (ours["h2"]["port"], ours["h2"]["extras"]) == (2201, {"sudo": True})


def _hosts(loaded: LoadedInventory) -> list[tuple[str, Host]]:
    return list(loaded.inventory.hosts.items())
