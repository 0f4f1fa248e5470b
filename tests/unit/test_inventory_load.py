"""hvbridge.inventory.load and .survey: the examples and the lab's inventory load; the
files' syntax and shape are checked before Nornir reads them; nothing is connected to."""

from __future__ import annotations

import re
import socket
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from pathlib import Path

import pytest
import yaml

from hvbridge.hops import Hop
from hvbridge.inventory import (
    load_inventory,
    masked,
)
from hvbridge.lab.inventory import inventory_files, write_inventory
from hvbridge.lab.topology import plan
from tests.unit.inventory_support import (
    DATA,
    EXAMPLES,
    problems,
    seed_host,
    write,
)

# --- the examples and the lab's inventory load ------------------------------------------------


def test_seed_example_loads() -> None:
    loaded = load_inventory(EXAMPLES / "seed")
    model = loaded.models["kvm01"]
    assert (model.name, model.platform) == ("kvm01", "el6")
    eth0 = model.nics["eth0"]
    assert (eth0.hwaddr, eth0.name, eth0.nm_controlled) == (
        "44:37:E6:4A:62:AD",
        "System eth0",
        False,
    )
    br0 = model.bridges["br0"]
    assert br0.ports == ["eth0"]
    assert br0.interface == IPv4Interface("10.0.112.39/24")
    assert (br0.gateway, br0.defroute, br0.stp, br0.delay) == (
        IPv4Address("10.0.112.1"),
        True,
        False,
        0,
    )
    (v1,) = model.guests["v1"].interfaces
    assert (v1.bridge, v1.mac, v1.model) == ("br0", "52:54:00:da:c3:dc", "virtio")
    assert v1.address is not None and str(v1.address) == "0000:00:03.0"
    assert model.connection.hostname == "10.0.112.39"
    assert model.connection.username == "root"
    assert model.connection.extras.known_hosts == Path("~/.ssh/known_hosts").expanduser()
    assert loaded.inventory.hosts["kvm01"].platform == "el6"


def test_dhcp_example_loads() -> None:
    br0 = load_inventory(EXAMPLES / "seed-dhcp").models["kvm01"].bridges["br0"]
    assert br0.bootproto == "dhcp"
    assert (br0.ipaddr, br0.interface, br0.gateway) == (None, None, None)
    assert br0.defroute is True, "initscripts' default: DHCP's router becomes the default route"


def test_bonded_example_loads_with_its_chain_as_written() -> None:
    model = load_inventory(EXAMPLES / "bonded").models["hv01"]
    assert model.platform == "el7"
    bond0 = model.bonds["bond0"]
    assert (bond0.slaves, bond0.mode, bond0.miimon, bond0.primary, bond0.mtu) == (
        ["eth0", "eth1"],
        "active-backup",
        100,
        "eth0",
        9000,
    )
    assert {name: (vlan.parent, vlan.id) for name, vlan in model.vlans.items()} == {
        "bond0.100": ("bond0", 100),
        "bond0.200": ("bond0", 200),
    }
    assert model.chain("br100") == ["bond0.100", "bond0", "eth0", "eth1"]
    assert model.chain("br200") == ["bond0.200", "bond0", "eth0", "eth1"]
    assert [model.kind_of(name) for name in model.chain("br100")] == ["vlan", "bond", "nic", "nic"]
    assert model.hwaddr_of("br200") == "02:48:56:00:01:01"
    br100, br200 = model.bridges["br100"], model.bridges["br200"]
    assert br100.interface == IPv4Interface("198.18.100.11/24")
    assert (br100.gateway, br100.mtu, br100.stp, br100.delay) == (
        IPv4Address("198.18.100.1"),
        9000,
        False,
        0,
    )
    assert (br100.ipv6addr, br100.ipv6_gateway, br100.ipv6_autoconf) == (
        IPv6Interface("2001:db8:100::11/64"),
        IPv6Address("2001:db8:100::1"),
        None,
    )
    assert br100.dns is not None
    assert (br100.dns.servers, br100.dns.search) == (
        [IPv4Address("198.18.100.53"), IPv6Address("2001:db8:100::53")],
        ["example.net"],
    )
    assert (br200.bootproto, br200.interface, br200.ipv6addr, br200.dns, br200.mtu) == (
        "none",
        None,
        None,
        None,
        9000,
    )
    assert [i.bridge for i in model.guests["web1"].interfaces] == ["br100"]


@pytest.mark.parametrize("readme", ["README.md", "inventory/README.md"])
def test_the_readmes_show_the_bonded_example_as_it_is(readme: str) -> None:
    text = (EXAMPLES.parent / readme).read_text()
    shown = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(hv01:.*?)```", text, re.S)]
    assert shown == [yaml.safe_load((EXAMPLES / "bonded" / "hosts.yaml").read_text())]


def test_lab_shaped_inventory_loads() -> None:
    loaded = load_inventory(DATA / "lab")
    model = loaded.models["hv01"]
    assert model.bridges["br0"].interface == IPv4Interface("198.18.129.1/17")
    assert model.connection.extras.key_file == Path("/path/id_lab")
    assert model.connection.extras.jump == [Hop("198.18.0.2", 22, "root")]
    assert loaded.jump_hops("hv01") == [Hop("198.18.0.2", 22, "root")]


@pytest.mark.parametrize("direct", [False, True])
def test_the_lab_writes_a_valid_inventory(tmp_path: Path, direct: bool) -> None:
    files = inventory_files(
        plan(3, direct=direct), libvirt=True, key=tmp_path / "id", known_hosts=tmp_path / "kh"
    )
    write_inventory(tmp_path / "inventory", files)
    loaded = load_inventory(tmp_path / "inventory")
    assert sorted(loaded.models) == ["hv01", "hv02", "hv03"]


# --- files -----------------------------------------------------------------------------------


def test_missing_directory_and_hosts_file(tmp_path: Path) -> None:
    assert problems(tmp_path / "nowhere") == (f"{tmp_path}/nowhere: not a directory",)
    assert problems(tmp_path) == (f"{tmp_path}/hosts.yaml: file not found",)


def test_groups_and_defaults_files_are_optional(tmp_path: Path) -> None:
    assert sorted(load_inventory(write(tmp_path, {"kvm01": seed_host()})).models) == ["kvm01"]


def test_yaml_syntax_error_names_file_and_line() -> None:
    (line,) = problems(DATA / "broken_yaml")
    assert line == (
        f"{DATA}/broken_yaml/hosts.yaml: line 5, column 1: expected ',' or '}}', but got"
        " '<stream end>' (line 4, column 11: while parsing a flow mapping)"
    )


def test_yaml_1_1_booleans_are_names_as_nornir_reads_them(tmp_path: Path) -> None:
    """SimpleInventory reads YAML 1.2: a host named `no` or `on` is a name, not a boolean."""
    hosts = {name: seed_host() for name in ("no", "on")}
    hosts["on"]["hostname"] = "10.0.112.40"
    hosts["on"]["data"]["nics"]["eth0"]["hwaddr"] = "44:37:E6:4A:62:AE"
    hosts["on"]["data"]["bridges"]["br0"]["ipaddr"] = "10.0.112.40"
    hosts["on"]["data"]["guests"]["v1"]["interfaces"][0]["mac"] = "52:54:00:da:c3:dd"
    directory = write(tmp_path, hosts)
    text = (directory / "hosts.yaml").read_text()
    # PyYAML's dump quotes them; an operator does not.
    (directory / "hosts.yaml").write_text(text.replace("'no':", "no:").replace("'on':", "on:"))
    assert "\non:" in (directory / "hosts.yaml").read_text()
    assert sorted(load_inventory(directory).models) == ["no", "on"]


def test_duplicate_key_is_a_yaml_error(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text("kvm01: {hostname: a}\nkvm01: {hostname: b}\n")
    (line,) = problems(tmp_path)
    assert line.startswith(f"{tmp_path}/hosts.yaml: line 2, column 1: found duplicate key")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- kvm01\n", "hosts.yaml: must be a mapping of host names to hosts, not a list"),
        ("", "hosts.yaml: defines no hosts"),
        ("# nothing yet\n", "hosts.yaml: defines no hosts"),
        ("kvm01: 10.0.112.39\n", "hosts.yaml: host kvm01: must be a mapping, not '10.0.112.39'"),
        ("kvm01:\n", "hosts.yaml: host kvm01: must be a mapping, not None"),
        ("kvm01: {data: [1]}\n", "hosts.yaml: host kvm01: data: must be a mapping, not [1]"),
        ("kvm01: {groups: lab}\n", "hosts.yaml: host kvm01: groups: must be a list of group"),
        (
            "kvm01: {groups: [lab]}\n",
            "hosts.yaml: host kvm01: groups[0]: group 'lab' is not defined in groups.yaml",
        ),
        ("'kvm 01': {}\n", "hosts.yaml: host 'kvm 01': not a valid host name"),
        ("1: {}\n", "hosts.yaml: host 1: not a valid host name"),
    ],
)
def test_shape_of_hosts_yaml(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "hosts.yaml").write_text(text)
    assert f"{tmp_path}/{expected}" in "\n".join(problems(tmp_path))


def test_group_loop(tmp_path: Path) -> None:
    host = seed_host()
    host["groups"] = ["a"]
    directory = write(tmp_path, {"kvm01": host}, {"a": {"groups": ["b"]}, "b": {"groups": ["a"]}})
    assert problems(directory) == (f"{directory}/groups.yaml: groups form a loop: a -> b -> a",)


def test_loading_opens_no_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the inventory must not touch the network")

    for name in ("create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    host = seed_host()
    host["hostname"] = "kvm01.invalid"
    host["connection_options"] = {"hvbridge": {"extras": {"jump": ["root@jump.invalid:22"]}}}
    loaded = load_inventory(write(tmp_path, {"kvm01": host}))
    assert loaded.models["kvm01"].connection.hostname == "kvm01.invalid"
    assert loaded.jump_hops("kvm01") == [Hop("jump.invalid", 22, "root")]
    masked(loaded.inventory.hosts["kvm01"])
    assert loaded.inventory.hosts["kvm01"].connections == {}
