"""hvbridge.inventory.origins: an inherited value's problem names the group or defaults
that defines it; values are Nornir's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nornir.core.inventory import (
    ConnectionOptions,
    Defaults,
    Group,
    Groups,
    Host,
    Hosts,
    Inventory,
    ParentGroups,
)
from nornir.plugins.inventory.simple import SimpleInventory

from hvbridge.inventory import (
    InventoryError,
    InventoryFiles,
    LoadedInventory,
    load_inventory,
    masked,
    validate_hosts,
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


# --- any Nornir inventory, not only SimpleInventory ------------------------------------------


def _built_in_python() -> Inventory:
    """The `inherited` example, made in Python as an inventory plugin would make it."""
    defaults = Defaults(
        connection_options={"hvbridge": ConnectionOptions(extras={"connect_timeout": 0})}
    )
    lab = Group(
        "lab",
        port="22",  # type: ignore[arg-type]  # a plugin may hand over anything
        data={
            "bridges": {"br0": {"ports": ["eth0"], "bootproto": "dhcp", "gateway": "198.18.128.1"}}
        },
        defaults=defaults,
    )
    hosts = {
        name: Host(
            name,
            hostname=f"198.18.129.{index}",
            groups=ParentGroups([lab]),
            data={"nics": {"eth0": {"hwaddr": f"02:48:56:00:00:0{index}"}}},
            defaults=defaults,
        )
        for index, name in ((1, "hv01"), (2, "hv02"))
    }
    return Inventory(hosts=Hosts(hosts), groups=Groups({"lab": lab}), defaults=defaults)


def test_validate_hosts_works_on_an_inventory_built_without_simpleinventory() -> None:
    inventory = _built_in_python()
    before = inventory.dict()
    with pytest.raises(InventoryError) as caught:
        validate_hosts(inventory)
    assert caught.value.problems == (
        "hosts hv01, hv02 (inherited from group lab): port: expected an integer, got '22'",
        "hosts hv01, hv02 (inherited from defaults):"
        " connection_options.hvbridge.extras.connect_timeout: Input should be greater than 0"
        " (got 0)",
        "hosts hv01, hv02 (inherited from group lab): bridges.br0.gateway: not allowed with"
        " bootproto dhcp",
    )
    assert inventory.dict() == before, "validation changes nothing in the inventory"


def test_validate_hosts_names_the_files_it_is_given() -> None:
    files = InventoryFiles(Path("/site/h.yaml"), Path("/site/g.yaml"), Path("/site/d.yaml"))
    with pytest.raises(InventoryError) as caught:
        validate_hosts(_built_in_python(), files)
    assert [line.split(": host")[0] for line in caught.value.problems] == [
        "/site/g.yaml",
        "/site/d.yaml",
        "/site/g.yaml",
    ]


def test_validate_hosts_returns_the_models_of_a_valid_inventory() -> None:
    inventory = _built_in_python()
    inventory.groups["lab"].port = 2222
    inventory.groups["lab"].data["bridges"]["br0"].pop("gateway")
    inventory.defaults.connection_options["hvbridge"].extras = {"connect_timeout": 5.0}
    models = validate_hosts(inventory)
    assert sorted(models) == ["hv01", "hv02"]
    hv02 = models["hv02"]
    assert (hv02.connection.hostname, hv02.connection.port) == ("198.18.129.2", 2222)
    assert hv02.connection.extras.connect_timeout == 5.0
    assert hv02.bridges["br0"].bootproto == "dhcp" and hv02.nics["eth0"].hwaddr.endswith(":02")


def test_the_connection_options_follow_nornirs_own_order() -> None:
    """Nornir's connection options look through a group's parents and defaults before the
    host's next group (unlike data): the value validated, and blamed, is the one Nornir
    hands the connection."""
    defaults = Defaults(
        connection_options={
            "hvbridge": ConnectionOptions(username="ops", extras={"command_timeout": 0})
        }
    )
    first = Group("first", defaults=defaults)
    second = Group(
        "second",
        connection_options={"hvbridge": ConnectionOptions(extras={"sudo": True})},
        defaults=defaults,
    )
    host = Host(
        "hv01",
        hostname="198.18.129.1",
        groups=ParentGroups([first, second]),
        defaults=defaults,
    )
    inventory = Inventory(
        hosts=Hosts({"hv01": host}),
        groups=Groups({"first": first, "second": second}),
        defaults=defaults,
    )
    before = inventory.dict()
    with pytest.raises(InventoryError) as caught:
        validate_hosts(inventory)
    # Nornir's own lookup writes inherited values into the groups' options; ours runs on a copy.
    assert inventory.dict() == before
    assert host.get_connection_parameters("hvbridge").extras == {"command_timeout": 0}
    assert inventory.dict() != before
    assert caught.value.problems == (
        "host hv01 (inherited from defaults): connection_options.hvbridge.extras"
        ".command_timeout: Input should be greater than 0 (got 0)",
    )


def test_data_a_plugins_own_host_class_adds_counts_as_the_hosts() -> None:
    class Computed(Host):
        """A plugin whose hosts compute part of their data."""

        def extended_data(self) -> dict[str, Any]:
            return {**super().extended_data(), "bridges": {"br0": {"ports": ["eth9"]}}}

    host = Computed("hv01", hostname="198.18.129.1", data={"nics": {}})
    with pytest.raises(InventoryError) as caught:
        validate_hosts(Inventory(hosts=Hosts({"hv01": host})))
    assert caught.value.problems == ("host hv01: bridges.br0.bootproto: required",)


def test_each_element_s_own_defaults_are_read_as_nornir_reads_them() -> None:
    """A plugin may leave a group its own empty defaults: Nornir then reaches the host's
    defaults only after every group, and so does validation."""
    defaults = Defaults(
        connection_options={"hvbridge": ConnectionOptions(extras={"command_timeout": 0})}
    )
    first = Group("first")
    second = Group(
        "second", connection_options={"hvbridge": ConnectionOptions(extras={"sudo": True})}
    )
    host = Host(
        "hv01", hostname="198.18.129.1", groups=ParentGroups([first, second]), defaults=defaults
    )
    inventory = Inventory(hosts=Hosts({"hv01": host}), groups=Groups({"first": first}))
    models = validate_hosts(inventory)
    assert models["hv01"].connection.extras.sudo is True
    assert host.get_connection_parameters("hvbridge").extras == {"sudo": True}
