"""hvbridge.inventory.jumps: jump hosts named in the inventory exist, do not loop, and
resolve to their own hops and address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hvbridge.inventory import (
    load_inventory,
)
from hvbridge.validators import Hop
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
    assert loaded.jump_hops("hv01") == [Hop("ops", "198.18.0.2", 2222)]
    assert loaded.jump_hops("hv02") == [
        Hop("ops", "198.18.0.2", 2222),
        Hop("root", "198.18.129.1", 22),
        Hop("admin", "2001:db8::1", 2200),
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
