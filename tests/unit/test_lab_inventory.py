"""hvbridge.lab.inventory: the Nornir inventory and ssh_config written for a lab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import paramiko
import pytest
import yaml
from nornir.core.inventory import Inventory
from nornir.plugins.inventory.simple import SimpleInventory

from hvbridge.lab.hostfiles import SshProfile
from hvbridge.lab.inventory import inventory_files, ssh_config, write_inventory
from hvbridge.lab.topology import JUMP_NAME, plan

KEY = Path("/var/lib/hvbridge-lab/id_lab")
KNOWN_HOSTS = Path("/var/lib/hvbridge-lab/known_hosts")


def _load(tmp_path: Path, *, count: int, direct: bool, libvirt: bool) -> Inventory:
    files = inventory_files(
        plan(count, direct=direct), libvirt=libvirt, key=KEY, known_hosts=KNOWN_HOSTS
    )
    directory = tmp_path / "inventory"
    write_inventory(directory, files)
    assert sorted(p.name for p in directory.iterdir()) == [
        "defaults.yaml",
        "groups.yaml",
        "hosts.yaml",
    ]
    return SimpleInventory(
        host_file=str(directory / "hosts.yaml"),
        group_file=str(directory / "groups.yaml"),
        defaults_file=str(directory / "defaults.yaml"),
    ).load()


def _extras(inventory: Inventory, name: str) -> dict[str, Any]:
    extras = inventory.hosts[name].get_connection_parameters("hvbridge").extras
    assert extras is not None
    return extras


def test_hosts_are_exactly_the_hypervisors(tmp_path: Path) -> None:
    inventory = _load(tmp_path, count=3, direct=False, libvirt=True)
    assert sorted(inventory.hosts) == ["hv01", "hv02", "hv03"]
    assert JUMP_NAME not in inventory.hosts
    assert list(inventory.groups) == ["lab"]


@pytest.mark.parametrize("direct", [False, True])
def test_host_connection_attributes(tmp_path: Path, direct: bool) -> None:
    topology = plan(3, direct=direct)
    inventory = _load(tmp_path, count=3, direct=direct, libvirt=True)
    for lab_host in topology.hypervisors:
        host = inventory.hosts[lab_host.name]
        assert host.hostname == lab_host.address
        assert host.username == "root"
        assert host.port == 22
        assert host.platform == "el6"
        assert [g.name for g in host.groups] == ["lab"]
        assert host.dict()["platform"] is None, "platform should come from the group"
    assert inventory.hosts["hv02"].hostname == ("198.18.1.2" if direct else "198.18.129.2")


def test_connection_extras_carry_keys_and_jump(tmp_path: Path) -> None:
    extras = _extras(_load(tmp_path, count=3, direct=False, libvirt=True), "hv03")
    assert extras == {
        "key_file": str(KEY),
        "known_hosts": str(KNOWN_HOSTS),
        "jump": ["root@198.18.0.2:22"],
    }


def test_direct_connection_extras_have_no_jump(tmp_path: Path) -> None:
    extras = _extras(_load(tmp_path, count=3, direct=True, libvirt=True), "hv01")
    assert extras == {"key_file": str(KEY), "known_hosts": str(KNOWN_HOSTS)}


@pytest.mark.parametrize(
    ("direct", "address", "gateway"),
    [(False, "198.18.129.1", "198.18.128.1"), (True, "198.18.1.1", "198.18.0.1")],
)
def test_host_data_puts_eth0_under_br0(
    tmp_path: Path, direct: bool, address: str, gateway: str
) -> None:
    topology = plan(2, direct=direct)
    data = _load(tmp_path, count=2, direct=direct, libvirt=True).hosts["hv01"].data
    assert data["nics"] == {"eth0": {"hwaddr": topology.host("hv01").management.mac.upper()}}
    assert data["bridges"] == {
        "br0": {
            "ports": ["eth0"],
            "bootproto": "static",
            "ipaddr": address,
            "netmask": "255.255.128.0",
            "gateway": gateway,
            "defroute": True,
        }
    }
    assert data["guests"] == {
        "v1": {"interfaces": [{"bridge": "br0", "mac": topology.host("hv01").guest_mac}]}
    }


def test_no_guests_without_libvirt(tmp_path: Path) -> None:
    inventory = _load(tmp_path, count=2, direct=False, libvirt=False)
    for host in inventory.hosts.values():
        assert "guests" not in host.data
        assert set(host.data) == {"nics", "bridges"}


def test_written_files_are_plain_yaml(tmp_path: Path) -> None:
    files = inventory_files(plan(2, direct=False), libvirt=True, key=KEY, known_hosts=KNOWN_HOSTS)
    write_inventory(tmp_path / "a" / "b", files)
    for name, content in files.items():
        assert yaml.safe_load((tmp_path / "a" / "b" / name).read_text()) == content


def _ssh(tmp_path: Path, *, direct: bool, profile: SshProfile) -> paramiko.SSHConfig:
    text = ssh_config(
        plan(3, direct=direct),
        profile=profile,
        key=tmp_path / "id_lab",
        known_hosts=tmp_path / "known_hosts",
    )
    return paramiko.SSHConfig.from_text(text)


def test_ssh_config_through_the_jump(tmp_path: Path) -> None:
    config = _ssh(tmp_path, direct=False, profile="modern")
    hv01 = config.lookup("hv01")
    assert hv01["hostname"] == "198.18.129.1"
    assert hv01["user"] == "root"
    assert hv01["proxyjump"] == JUMP_NAME
    # paramiko keeps every IdentityFile, so this one value is a list.
    identity: object = hv01["identityfile"]
    assert identity == [str(tmp_path / "id_lab")]
    assert hv01["userknownhostsfile"] == str(tmp_path / "known_hosts")
    assert hv01["stricthostkeychecking"] == "yes"
    assert hv01["batchmode"] == "yes"
    assert "hostkeyalgorithms" not in hv01

    jump = config.lookup(JUMP_NAME)
    assert jump["hostname"] == "198.18.0.2"
    assert "proxyjump" not in jump
    assert config.get_hostnames() >= {"hv01", "hv02", "hv03", JUMP_NAME}


def test_ssh_config_direct_has_no_jump(tmp_path: Path) -> None:
    config = _ssh(tmp_path, direct=True, profile="modern")
    hv03 = config.lookup("hv03")
    assert hv03["hostname"] == "198.18.1.3"
    assert "proxyjump" not in hv03
    assert JUMP_NAME not in config.get_hostnames()


def test_ssh_config_el6_profile_offers_ssh_rsa(tmp_path: Path) -> None:
    hv01 = _ssh(tmp_path, direct=False, profile="el6").lookup("hv01")
    assert hv01["hostkeyalgorithms"] == "ssh-rsa"
    assert hv01["pubkeyacceptedalgorithms"] == "ssh-rsa"
    assert "sha1" in hv01["kexalgorithms"]
    assert hv01["proxyjump"] == JUMP_NAME
