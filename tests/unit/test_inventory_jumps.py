"""hvbridge.inventory.jumps: jump hosts named in the inventory exist, do not loop, and
resolve to their own hops and address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nornir.core.inventory import (
    ConnectionOptions,
    Group,
    Groups,
    Host,
    Hosts,
    Inventory,
    ParentGroups,
)

from hvbridge.hops import Hop
from hvbridge.inventory import (
    load_inventory,
    validate_hosts,
)
from tests.unit.inventory_support import (
    DATA,
    problems,
    seed_host,
    write,
)


@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        ("root@h;reboot:22", "'h;reboot' is not a host name"),
        ("$(reboot)", "'$(reboot)' is neither an inventory host name nor user@host:port"),
        ("root@198.18.0.2:99999", "port 99999 is not between 1 and 65535"),
    ],
)
def test_injection_in_a_jump_hop_is_refused(tmp_path: Path, hop: str, expected: str) -> None:
    host = seed_host()
    host["connection_options"] = {"hvbridge": {"extras": {"jump": [hop]}}}
    directory = write(tmp_path, {"kvm01": host})
    (line,) = problems(directory)
    assert line.startswith(
        f"{directory}/hosts.yaml: host kvm01: connection_options.hvbridge.extras.jump[0]: "
    )
    assert expected in line


# --- jump hosts ------------------------------------------------------------------------------


def test_jump_hosts_from_the_inventory_are_resolved() -> None:
    loaded = load_inventory(DATA / "jump")
    assert loaded.jump_hops("gw") == []
    assert loaded.jump_hops("hv01") == [Hop("198.18.0.2", 2222, "ops")]
    assert loaded.jump_hops("hv02") == [
        Hop("198.18.0.2", 2222, "ops"),
        Hop("198.18.129.1", 22, "root"),
        Hop("2001:db8::1", 2200, "admin"),
    ]
    assert str(loaded.jump_hops("hv02")[2]) == "admin@[2001:db8::1]:2200"


def test_jump_loops_are_refused(tmp_path: Path) -> None:
    def via(hop: str, address: str) -> dict[str, Any]:
        return {
            "hostname": address,
            "connection_options": {"hvbridge": {"extras": {"jump": [hop]}}},
        }

    directory = write(
        tmp_path, {"a": via("b", "192.0.2.1"), "b": via("a", "192.0.2.2"), "c": via("c", "c.test")}
    )
    where = f"{directory}/hosts.yaml"
    path = "connection_options.hvbridge.extras.jump"
    assert problems(directory) == (
        f"{where}: host a: {path}: jump hosts form a loop: a -> b -> a",
        f"{where}: host b: {path}: jump hosts form a loop: b -> a -> b",
        f"{where}: host c: {path}: jump hosts form a loop: c -> c",
    )


def test_resolved_hops_are_written_on_each_host_not_on_the_group() -> None:
    """Nornir's connection plugin cannot look another host up: validation hands it the
    hops, on the host itself (the group's extras are shared with hosts that may differ)."""
    extras = {"jump": ["gw"], "sudo": True}
    site = Group("site", connection_options={"hvbridge": ConnectionOptions(extras=extras)})
    hosts = {
        "gw": Host("gw", hostname="198.18.0.2", username="ops"),
        **{
            name: Host(name, hostname=address, groups=ParentGroups([site]))
            for name, address in (("hv01", "198.18.129.1"), ("hv02", "198.18.129.2"))
        },
    }
    inventory = Inventory(hosts=Hosts(hosts), groups=Groups({"site": site}))
    validate_hosts(inventory)
    assert site.connection_options["hvbridge"].extras == {"jump": ["gw"], "sudo": True}
    for name in ("hv01", "hv02"):
        given = inventory.hosts[name].get_connection_parameters("hvbridge")
        assert given.extras == {"jump": [Hop("198.18.0.2", 22, "ops")], "sudo": True}
        assert given.extras["jump"][0].label == "gw"
        assert given.hostname == hosts[name].hostname
    assert hosts["gw"].connection_options == {}, "a host without jump hosts is left alone"
    again = validate_hosts(inventory)
    assert again["hv02"].connection.extras.jump == [Hop("198.18.0.2", 22, "ops")]
