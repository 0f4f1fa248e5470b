"""A bare word in `jump` is an inventory host, through the CLI and through a plain Nornir
script alike: both reach the hypervisor through the lab's jump host, named `jump`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nornir import InitNornir

from hvbridge.hops import Hop
from hvbridge.inventory import validate_hosts
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.ssh import Connection

from .conftest import LabFactory
from .rollout_support import PROJECT, accepted_logins, cli, copy_inventory, edit_yaml


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=1, direct=False, libvirt=False, profile="modern")


def _inventory_naming_the_jump_host(lab: Lab, state: LabState, target: Path) -> Path:
    """The lab's inventory with the jump host as an inventory host, named in `jump`."""
    inventory = copy_inventory(lab, target)

    def add_jump(hosts: dict[str, Any]) -> None:
        hosts["jump"] = {"hostname": state.hosts["jump"].address, "username": "root"}

    def by_name(groups: dict[str, Any]) -> None:
        groups["lab"]["connection_options"]["hvbridge"]["extras"]["jump"] = ["jump"]

    edit_yaml(inventory / "hosts.yaml", add_jump)
    edit_yaml(inventory / "groups.yaml", by_name)
    return inventory


def test_plain_nornir_reaches_the_host_through_the_jump_host_it_names(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    inventory = _inventory_naming_the_jump_host(the_lab, state, tmp_path / "inventory")
    nr = InitNornir(
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(inventory / "hosts.yaml"),
                "group_file": str(inventory / "groups.yaml"),
                "defaults_file": str(inventory / "defaults.yaml"),
            },
        },
        logging={"enabled": False},
    )
    validate_hosts(nr.inventory)
    logins = accepted_logins(the_lab, "jump")
    host = nr.inventory.hosts["hv01"]
    try:
        conn = host.get_connection("hvbridge", nr.config)
        assert isinstance(conn, Connection)
        assert conn.hops == (Hop(state.hosts["jump"].address, 22, "root"),)
        assert conn.label == f"root@{state.hosts['hv01'].address} via jump"
        assert conn.run("hostname").stdout.strip() == "hv01"
    finally:
        host.close_connections()
    assert accepted_logins(the_lab, "jump") == logins + 1


def test_the_cli_reaches_the_same_host_through_the_same_jump_host(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    inventory = _inventory_naming_the_jump_host(the_lab, state, tmp_path / "inventory")
    logins = accepted_logins(the_lab, "jump")
    done = cli(
        "run", str(PROJECT / "runbooks" / "facts.yaml"), "-i", str(inventory),
        "--limit", "hv01", "--state-dir", str(tmp_path / "state"),
        "--reports-dir", str(tmp_path / "reports"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert accepted_logins(the_lab, "jump") > logins
    (trace,) = (tmp_path / "state").rglob("trace.log")
    assert f"hv01 (root@{state.hosts['hv01'].address} via jump)" in trace.read_text()
