"""hvbridge.inventory and hvbridge.validators: the inventory is checked in full, offline."""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

import pytest
import yaml
from nornir.core.inventory import ConnectionOptions, Host
from nornir.plugins.inventory.simple import SimpleInventory

from hvbridge import validators
from hvbridge.inventory import (
    MASK,
    BridgeModel,
    HostData,
    InventoryError,
    LoadedInventory,
    NicModel,
    load_inventory,
    masked,
    relations,
)
from hvbridge.lab.inventory import inventory_files, write_inventory
from hvbridge.lab.topology import plan
from hvbridge.validators import Hop

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


def problems(directory: Path) -> tuple[str, ...]:
    with pytest.raises(InventoryError) as caught:
        load_inventory(directory)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def bridge(data: dict[str, Any]) -> dict[str, Any]:
    br0: dict[str, Any] = data["bridges"]["br0"]
    return br0


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


def test_lab_shaped_inventory_loads() -> None:
    loaded = load_inventory(DATA / "lab")
    model = loaded.models["hv01"]
    assert model.bridges["br0"].interface == IPv4Interface("198.18.129.1/17")
    assert model.connection.extras.key_file == Path("/path/id_lab")
    assert model.connection.extras.jump == ["root@198.18.0.2:22"]
    assert loaded.jump_hops("hv01") == [Hop("root", "198.18.0.2", 22)]


@pytest.mark.parametrize("direct", [False, True])
def test_the_lab_writes_a_valid_inventory(tmp_path: Path, direct: bool) -> None:
    files = inventory_files(
        plan(3, direct=direct), libvirt=True, key=tmp_path / "id", known_hosts=tmp_path / "kh"
    )
    write_inventory(tmp_path / "inventory", files)
    loaded = load_inventory(tmp_path / "inventory")
    assert sorted(loaded.models) == ["hv01", "hv02", "hv03"]


def test_netmask_and_prefix_may_both_be_given_when_they_agree(tmp_path: Path) -> None:
    host = seed_host(lambda data: bridge(data).update(prefix=24))
    loaded = load_inventory(write(tmp_path, {"kvm01": host}))
    assert loaded.models["kvm01"].bridges["br0"].interface == IPv4Interface("10.0.112.39/24")


def test_defroute_defaults_to_yes_as_in_initscripts(tmp_path: Path) -> None:
    host = seed_host(lambda data: bridge(data).pop("defroute"))
    br0 = load_inventory(write(tmp_path, {"kvm01": host})).models["kvm01"].bridges["br0"]
    assert br0.defroute is True


def test_a_second_bridge_on_dhcp_must_not_take_the_default_route(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["nics"]["eth1"] = {"hwaddr": "44:37:E6:4A:62:AE"}
        data["bridges"]["br1"] = {"ports": ["eth1"], "bootproto": "dhcp"}

    directory = write(tmp_path, {"kvm01": seed_host(edit)})
    assert problems(directory) == (
        f"{directory}/hosts.yaml: host kvm01: bridges.br1.defroute: br0 has the default route"
        " already; set defroute: false",
    )
    data = seed_host(edit)["data"]
    data["bridges"]["br1"]["defroute"] = False
    assert load_inventory(write(tmp_path, {"kvm01": {**SEED_HOST, "data": data}})).models


# --- each cross-check names the file, the host and the field ----------------------------------


def _set(path: str, value: Any) -> Edit:
    *parents, leaf = path.split(".")

    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        node[leaf] = value

    return edit


def _drop(path: str) -> Edit:
    *parents, leaf = path.split(".")

    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in parents:
            node = node[key]
        del node[leaf]

    return edit


def _both(*edits: Edit) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        for each in edits:
            each(data)

    return edit


SECOND_NIC = {"hwaddr": "44:37:E6:4A:62:AE"}

CROSS_CHECKS: list[tuple[str, Edit, str]] = [
    (
        "static needs ipaddr",
        _drop("bridges.br0.ipaddr"),
        "bridges.br0.ipaddr: required with bootproto static",
    ),
    (
        "static needs a netmask or prefix",
        _drop("bridges.br0.netmask"),
        "bridges.br0.netmask: netmask or prefix required with bootproto static",
    ),
    (
        "netmask and prefix agree",
        _set("bridges.br0.prefix", 16),
        "bridges.br0.prefix: /16 disagrees with netmask 255.255.255.0 (/24)",
    ),
    (
        "dhcp forbids a gateway",
        _both(
            _set("bridges.br0.bootproto", "dhcp"),
            _drop("bridges.br0.ipaddr"),
            _drop("bridges.br0.netmask"),
        ),
        "bridges.br0.gateway: not allowed with bootproto dhcp",
    ),
    (
        "gateway inside the subnet",
        _set("bridges.br0.gateway", "10.0.9.1"),
        "bridges.br0.gateway: 10.0.9.1 is outside 10.0.112.0/24",
    ),
    (
        "gateway is not the network address",
        _set("bridges.br0.gateway", "10.0.112.0"),
        "bridges.br0.gateway: 10.0.112.0 is the network address of 10.0.112.0/24",
    ),
    (
        "gateway is not the broadcast address",
        _set("bridges.br0.gateway", "10.0.112.255"),
        "bridges.br0.gateway: 10.0.112.255 is the broadcast address of 10.0.112.0/24",
    ),
    (
        "gateway is not the address itself",
        _set("bridges.br0.gateway", "10.0.112.39"),
        "bridges.br0.gateway: 10.0.112.39 is the address itself (ipaddr)",
    ),
    (
        "ipaddr is not the broadcast address",
        _set("bridges.br0.ipaddr", "10.0.112.255"),
        "bridges.br0.ipaddr: 10.0.112.255 is the broadcast address of 10.0.112.0/24",
    ),
    (
        "a NIC is a port of one bridge",
        _set("bridges.br1", {"ports": ["eth0"], "bootproto": "dhcp", "defroute": False}),
        "bridges.br1.ports[0]: eth0 is already a port of br0",
    ),
    (
        "a port is listed once",
        _set("bridges.br0.ports", ["eth0", "eth0"]),
        "bridges.br0.ports[1]: eth0 is listed twice",
    ),
    (
        "every port is a NIC in nics",
        _set("bridges.br0.ports", ["eth0", "eth1"]),
        "bridges.br0.ports[1]: eth1 is not a NIC in nics",
    ),
    (
        "a bridge is not a port",
        _set("bridges.br1", {"ports": ["br0"], "bootproto": "dhcp", "defroute": False}),
        "bridges.br1.ports[0]: br0 is a bridge; a port must be a NIC in nics",
    ),
    (
        "a port has no address",
        _set("nics.eth0.ipaddr", "10.0.112.40"),
        "nics.eth0.ipaddr: eth0 is a port of br0 and has no address or route of its own",
    ),
    (
        "a port has no gateway",
        _set("nics.eth0.gateway", "10.0.112.1"),
        "nics.eth0.gateway: eth0 is a port of br0 and has no address or route of its own",
    ),
    (
        "a port has no defroute",
        _set("nics.eth0.defroute", False),
        "nics.eth0.defroute: eth0 is a port of br0 and has no address or route of its own",
    ),
    (
        "a port's bootproto is none",
        _set("nics.eth0.bootproto", "dhcp"),
        "nics.eth0.bootproto: eth0 is a port of br0: must be none or unset",
    ),
    (
        "a bridge name is not a NIC name",
        _set("nics.br0", SECOND_NIC),
        "bridges.br0: br0 is also in nics: a name is a bridge or a NIC",
    ),
    (
        "a guest's bridge exists",
        _set("guests.v1.interfaces.0.bridge", "br1"),
        "guests.v1.interfaces[0].bridge: br1 is not in bridges",
    ),
    (
        "a guest's PCI slots differ",
        _set(
            "guests.v1.interfaces",
            [
                {"bridge": "br0", "mac": "52:54:00:00:00:01", "address": {"slot": 3}},
                {"bridge": "br0", "mac": "52:54:00:00:00:02", "address": {"slot": 3}},
            ],
        ),
        "guests.v1.interfaces[1].address: PCI 0000:00:03.0 is also interfaces[0]'s",
    ),
    (
        "one default route",
        _set(
            "nics.eth1",
            {
                "hwaddr": "44:37:E6:4A:62:AE",
                "bootproto": "static",
                "ipaddr": "192.0.2.10",
                "prefix": 24,
                "gateway": "192.0.2.1",
            },
        ),
        "bridges.br0.defroute: eth1 has the default route already; set defroute: false",
    ),
    (
        "a NIC's address needs bootproto static",
        _set("nics.eth1", {"hwaddr": "44:37:E6:4A:62:AE", "ipaddr": "192.0.2.10"}),
        "nics.eth1.ipaddr: needs bootproto: static",
    ),
    (
        "a bridge's MTU fits its ports",
        _both(_set("nics.eth0.mtu", 1500), _set("bridges.br0.mtu", 9000)),
        "bridges.br0.mtu: 9000 is above the MTU of its port eth0 (1500);"
        " the kernel caps a bridge at its smallest port",
    ),
    (
        "MACs are unique on a host",
        _set("guests.v1.interfaces.0.mac", "44:37:e6:4a:62:ad"),
        "guests.v1.interfaces[0].mac: 44:37:e6:4a:62:ad is also nics.eth0.hwaddr on this host;"
        " MACs must be unique",
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [pytest.param(edit, expected, id=name) for name, edit, expected in CROSS_CHECKS],
)
def test_cross_check(tmp_path: Path, edit: Edit, expected: str) -> None:
    directory = write(tmp_path / "inventory", {"kvm01": seed_host(edit)})
    assert problems(directory) == (f"{directory}/hosts.yaml: host kvm01: {expected}",)


def _second(hwaddr: str, mac: str, ipaddr: str) -> dict[str, Any]:
    def edit(data: dict[str, Any]) -> None:
        data["nics"]["eth0"]["hwaddr"] = hwaddr
        data["guests"]["v1"]["interfaces"][0]["mac"] = mac
        bridge(data)["ipaddr"] = ipaddr

    host = seed_host(edit)
    host["hostname"] = "10.0.112.40"
    return host


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        pytest.param(
            _second("44:37:e6:4a:62:ad", "52:54:00:00:00:02", "10.0.112.40"),
            "nics.eth0.hwaddr: 44:37:E6:4A:62:AD is also nics.eth0.hwaddr on host kvm01;"
            " MACs must be unique",
            id="NIC MAC, any case",
        ),
        pytest.param(
            _second("44:37:E6:4A:62:AE", "52:54:00:DA:C3:DC", "10.0.112.40"),
            "guests.v1.interfaces[0].mac: 52:54:00:da:c3:dc is also"
            " guests.v1.interfaces[0].mac on host kvm01; MACs must be unique",
            id="guest MAC",
        ),
        pytest.param(
            _second("44:37:E6:4A:62:AE", "44:37:E6:4A:62:AD", "10.0.112.40"),
            "guests.v1.interfaces[0].mac: 44:37:e6:4a:62:ad is also nics.eth0.hwaddr"
            " on host kvm01; MACs must be unique",
            id="guest MAC equal to a NIC's",
        ),
        pytest.param(
            _second("44:37:E6:4A:62:AE", "52:54:00:00:00:02", "10.0.112.39"),
            "bridges.br0.ipaddr: 10.0.112.39 is also bridges.br0.ipaddr on host kvm01;"
            " addresses must be unique",
            id="address",
        ),
    ],
)
def test_unique_across_hosts(tmp_path: Path, second: dict[str, Any], expected: str) -> None:
    directory = write(tmp_path, {"kvm01": seed_host(), "kvm02": second})
    assert problems(directory) == (f"{directory}/hosts.yaml: host kvm02: {expected}",)


def test_every_problem_is_reported_at_once() -> None:
    where = DATA / "many" / "hosts.yaml"
    assert sorted(problems(DATA / "many")) == sorted(
        f"{where}: {line}"
        for line in [
            "host hv01: bridges.br0.gatway: unknown key (did you mean 'gateway'?)",
            "host hv01: bridges.br1.gateway: 10.0.8.1 is outside 10.0.9.0/24",
            "host hv02: nics.eth0.hwaddr: 01:48:56:00:00:02 is a multicast address"
            " (odd first octet); a NIC needs unicast",
            "host hv02: bridges.br0.ports[1]: eth2 is not a NIC in nics",
            "host hv02: guests.v1.interfaces[0].bridge: br9 is not in bridges",
            "host hv02: nics.eth1.hwaddr: 02:48:56:00:00:01 is also nics.eth0.hwaddr on host"
            " hv01; MACs must be unique",
            "host hv03: hostnme: unknown key (did you mean 'hostname'?)",
            "host hv03: hostname: required",
            "host hv03: bridges.br0.ipaddr: 10.0.9.2 is also bridges.br1.ipaddr on host hv01;"
            " addresses must be unique",
        ]
    )


def test_a_bad_nic_does_not_hide_other_problems_or_invent_some(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["nics"]["eth0"]["hwaddr"] = "44:37:E6:4A:62"
        bridge(data)["gateway"] = "10.0.9.1"

    directory = write(tmp_path, {"kvm01": seed_host(edit)})
    assert problems(directory) == (
        f"{directory}/hosts.yaml: host kvm01: nics.eth0.hwaddr: '44:37:E6:4A:62' is not a MAC"
        " address (six hex pairs separated by ':')",
        f"{directory}/hosts.yaml: host kvm01: bridges.br0.gateway: 10.0.9.1 is outside"
        " 10.0.112.0/24",
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


# --- typos, injections, grammar --------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit_host", "expected"),
    [
        pytest.param(
            lambda host: bridge(host["data"]).update(gatway=bridge(host["data"]).pop("gateway")),
            "bridges.br0.gatway: unknown key (did you mean 'gateway'?)",
            id="gatway",
        ),
        pytest.param(
            lambda host: host.update(hostnme=host.pop("hostname")),
            "hostnme: unknown key (did you mean 'hostname'?)",
            id="hostnme (Nornir would drop it)",
        ),
        pytest.param(
            lambda host: host.update(connection_options={"hvbrige": {"port": 22}}),
            "connection_options.hvbrige: unknown connection (only hvbridge)",
            id="connection name",
        ),
        pytest.param(
            lambda host: host.update(connection_options={"hvbridge": {"extra": {}}}),
            "connection_options.hvbridge.extra: unknown key (did you mean 'extras'?)",
            id="connection key",
        ),
        pytest.param(
            lambda host: host["data"].update(brigdes={}),
            "brigdes: unknown key (did you mean 'bridges'?)",
            id="data key",
        ),
        pytest.param(
            lambda host: host["data"].update(platform="el7"),
            "platform: set platform beside hostname, not under data",
            id="platform under data",
        ),
    ],
)
def test_unknown_keys_are_errors(
    tmp_path: Path, edit_host: Callable[[dict[str, Any]], None], expected: str
) -> None:
    host = seed_host()
    edit_host(host)
    directory = write(tmp_path, {"kvm01": host})
    lines = [line for line in problems(directory) if not line.endswith("hostname: required")]
    assert lines == [f"{directory}/hosts.yaml: host kvm01: {expected}"]


INJECTIONS = [
    ("nics.eth0.hwaddr", "44:37:E6:4A:62:AD\nreboot"),
    ("nics.eth0.hwaddr", "$(reboot)"),
    ("nics.eth0.name", "System `reboot`"),
    ("nics.eth0.name", 'System "eth0"'),
    ("nics.eth0.name", "System eth0\nONBOOT=no"),
    ("nics.eth0.name", "a;reboot"),
    ("nics.eth0.name", "$(reboot)"),
    ("bridges.br0.ipaddr", "10.0.112.39;reboot"),
    ("bridges.br0.gateway", "$(reboot)"),
    ("bridges.br0.netmask", "255.255.255.0`reboot`"),
    ("guests.v1.interfaces.0.mac", "52:54:00:da:c3:dc'/><x"),
    ("guests.v1.interfaces.0.model", "virtio'/>"),
    ("bridges.br0.ports", ["eth0;reboot"]),
]


@pytest.mark.parametrize(("path", "value"), INJECTIONS)
def test_injection_in_a_value_is_refused(tmp_path: Path, path: str, value: Any) -> None:
    directory = write(tmp_path, {"kvm01": seed_host(_set(path, value))})
    lines = problems(directory)
    shown = path.replace(".0.", "[0].")
    assert any(f"host kvm01: {shown}" in line for line in lines), lines
    assert all("\n" not in line for line in lines), "a value's newline must not split a line"


@pytest.mark.parametrize(
    ("section", "name"),
    [
        ("nics", "eth0$(reboot)"),
        ("nics", "eth0\n"),
        ("bridges", "br`reboot`"),
        ("bridges", "br0;reboot"),
        ("guests", "v1;reboot"),
        ("guests", "v1$(id)"),
    ],
)
def test_injection_in_a_name_is_refused(tmp_path: Path, section: str, name: str) -> None:
    def edit(data: dict[str, Any]) -> None:
        entries = data[section]
        entries[name] = entries.pop(next(iter(entries)))

    directory = write(tmp_path, {"kvm01": seed_host(edit)})
    lines = problems(directory)
    assert any(f"{section}.{name!r}: {name!r} is not" in line for line in lines), lines
    assert all("\n" not in line for line in lines)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("hostname", "-oProxyCommand=reboot", "hostname: '-oProxyCommand=reboot' is not a host"),
        ("hostname", "h;reboot", "hostname: 'h;reboot' is not a host name"),
        ("username", "root$(id)", "username: 'root$(id)' is not a valid user name"),
        ("port", 70000, "port: Input should be less than or equal to 65535"),
    ],
)
def test_injection_in_ssh_values_is_refused(
    tmp_path: Path, key: str, value: Any, expected: str
) -> None:
    host = seed_host()
    host[key] = value
    directory = write(tmp_path, {"kvm01": host})
    (line,) = problems(directory)
    assert line.startswith(f"{directory}/hosts.yaml: host kvm01: {expected}")


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


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("nics.eth0.nm_controlled", "yes", "expected true or false, got 'yes'"),
        ("bridges.br0.stp", "no", "expected true or false, got 'no'"),
        ("bridges.br0.delay", 31, "Input should be less than or equal to 30 (got 31)"),
        ("bridges.br0.prefix", 0, "prefix 0 is not between 1 and 32"),
        ("bridges.br0.bootproto", "none", "Input should be 'static' or 'dhcp' (got 'none')"),
        ("bridges.br0.ports", [], "List should have at least 1 item after validation, not 0"),
        ("bridges.br0.ports", "eth0", "expected a list, got 'eth0'"),
        ("nics.eth0.mtu", 67, "Input should be greater than or equal to 68 (got 67)"),
        ("guests.v1.interfaces.0.model", "ne2k_pci", "Input should be 'virtio', 'e1000' or"),
        ("guests.v1.interfaces.0.address.slot", 32, "less than or equal to 31 (got 32)"),
        ("bridges.br0.netmask", "255.0.255.0", "255.0.255.0 is not a contiguous netmask"),
        ("bridges.br0.gateway", "127.0.0.1", "127.0.0.1 is a loopback address"),
        ("bridges.br0.ipaddr", 10, "expected a string, got 10 (int)"),
    ],
)
def test_types_and_ranges(tmp_path: Path, path: str, value: Any, expected: str) -> None:
    directory = write(tmp_path, {"kvm01": seed_host(_set(path, value))})
    lines = problems(directory)
    shown = path.replace(".0.", "[0].")
    assert f"{directory}/hosts.yaml: host kvm01: {shown}: " in lines[0]
    assert expected in lines[0], lines


def test_connection_platform_must_match_the_host(tmp_path: Path) -> None:
    host = seed_host()
    host["connection_options"] = {"hvbridge": {"platform": "el7"}}
    directory = write(tmp_path, {"kvm01": host})
    assert problems(directory) == (
        f"{directory}/hosts.yaml: host kvm01: connection_options.hvbridge.platform: 'el7'"
        " differs from the host's platform 'el6'",
    )


def test_an_unknown_platform_names_the_registered_ones(tmp_path: Path) -> None:
    host = seed_host()
    host["platform"] = "el10"
    directory = write(tmp_path, {"kvm01": host})
    assert problems(directory) == (
        f"{directory}/hosts.yaml: host kvm01: platform: unknown platform 'el10':"
        " expected one of 'el6', 'el7', 'el8', 'el9', 'debian', 'proxmox', 'ubuntu'",
    )


def _renamed_nic(name: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        data["nics"][name] = data["nics"].pop("eth0")
        data["bridges"]["br0"]["ports"] = [name]

    return edit


@pytest.mark.parametrize("platform", ["el6", "el7"])
@pytest.mark.parametrize("name", ["eth0.bak", "eth0-range1", "eth0.orig"])
def test_a_name_initscripts_ignore_is_refused_by_the_platform(
    tmp_path: Path, platform: str, name: str
) -> None:
    host = seed_host(_renamed_nic(name))
    host["platform"] = platform
    directory = write(tmp_path, {"kvm01": host})
    said = f"{name!r} cannot be used: initscripts ignore a file named ifcfg-{name}"
    assert problems(directory) == (
        f"{directory}/hosts.yaml: host kvm01: nics.{name}: {said}",
        f"{directory}/hosts.yaml: host kvm01: bridges.br0.ports[0]: {said}",
    )


def test_the_kernel_accepts_a_name_initscripts_ignore() -> None:
    """Not the kernel's rule: a platform without initscripts may use the name."""
    assert validators.interface_name("eth0.bak") == "eth0.bak"


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


# --- secrets and side effects ----------------------------------------------------------------


def test_masked_hides_passwords_and_keeps_the_rest(tmp_path: Path) -> None:
    host = seed_host()
    host["password"] = "hunter2"
    host["groups"] = ["el6"]
    groups = {
        "el6": {
            "platform": "el6",
            "connection_options": {"hvbridge": {"password": "s3cret", "extras": {"sudo": True}}},
        }
    }
    loaded = load_inventory(write(tmp_path, {"kvm01": host}, groups))
    nornir_host = loaded.inventory.hosts["kvm01"]
    shown = masked(nornir_host)
    assert shown["password"] == MASK
    assert shown["connection_options"]["hvbridge"]["password"] == MASK
    assert shown["connection_options"]["hvbridge"]["extras"] == {"sudo": True}
    assert shown["data"]["bridges"]["br0"]["gateway"] == "10.0.112.1"
    assert shown["platform"] == "el6"
    text = repr(shown) + repr(loaded.summary())
    assert "hunter2" not in text and "s3cret" not in text
    assert loaded.summary()["kvm01"]["connection"]["password"] == MASK
    assert nornir_host.password == "hunter2", "masking copies; the inventory is untouched"


def test_masked_hides_key_material() -> None:
    extras = {
        "key_file": "~/.ssh/id_rsa",
        "key_passphrase": "pass",
        "inline": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...\n",
    }
    host = Host("kvm01", connection_options={"hvbridge": ConnectionOptions(extras=extras)})
    shown = masked(host)["connection_options"]["hvbridge"]["extras"]
    assert shown == {"key_file": "~/.ssh/id_rsa", "key_passphrase": MASK, "inline": MASK}


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
    assert loaded.jump_hops("kvm01") == [Hop("root", "jump.invalid", 22)]
    masked(loaded.inventory.hosts["kvm01"])
    assert loaded.inventory.hosts["kvm01"].connections == {}


def test_relations_is_usable_on_its_own() -> None:
    data = HostData(
        nics={"eth0": NicModel(hwaddr="44:37:E6:4A:62:AD")},
        bridges={"br0": BridgeModel(ports=["eth0", "eth1"], bootproto="dhcp")},
    )
    assert relations(data) == [(("bridges", "br0", "ports", 1), "eth1 is not a NIC in nics")]
    assert relations(data, left_out={"eth1"}) == []


# --- validators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["eth0", "br0", "eth0.100", "em1_2", "enp3s0f1", "a", "x" * 15, "bond-lan"]
)
def test_interface_name_accepts(name: str) -> None:
    assert validators.interface_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "x" * 16,
        "eth0/1",
        "eth0:1",
        "eth 0",
        "eth0\n",
        'eth"0',
        "eth'0",
        "$(x)",
        "`x`",
        "-eth0",
        "all",
        "default",
        "éth0",
        "eth0\x00",
    ],
)
def test_interface_name_refuses(name: str) -> None:
    with pytest.raises(ValueError, match=r"interface name|reserved"):
        validators.interface_name(name)


def test_mac_is_canonical_per_consumer() -> None:
    assert validators.mac_address("44:37:e6:4a:62:ad") == "44:37:E6:4A:62:AD"
    assert validators.mac_for_libvirt("52:54:00:DA:C3:DC") == "52:54:00:da:c3:dc"


@pytest.mark.parametrize(
    ("mac", "why"),
    [
        ("01:00:5e:00:00:01", "multicast"),
        ("ff:ff:ff:ff:ff:ff", "multicast"),
        ("00:00:00:00:00:00", "all-zero"),
        ("44-37-E6-4A-62-AD", "not a MAC"),
        ("4437.E64A.62AD", "not a MAC"),
        ("44:37:E6:4A:62:AD:00", "not a MAC"),
        ("44:37:E6:4A:62:AD\n", "not a MAC"),
        ("44:37:E6:4A:62:GG", "not a MAC"),
    ],
)
def test_mac_refuses(mac: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        validators.mac_address(mac)


@pytest.mark.parametrize(
    "text", ["10.1", "010.0.0.1", "10.0.0.256", "10.0.0.1 ", "10.0.0.1\n", "0x0a.0.0.1"]
)
def test_ipv4_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not an IPv4 address"):
        validators.ipv4_address(text)


@pytest.mark.parametrize(
    "text", ["0.0.0.0", "127.0.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255"]
)
def test_host_address_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a host address"):
        validators.host_address(text)


@pytest.mark.parametrize(
    ("mask", "prefix"),
    [("255.255.255.0", 24), ("255.255.128.0", 17), ("128.0.0.0", 1), ("255.255.255.255", 32)],
)
def test_netmask(mask: str, prefix: int) -> None:
    assert validators.netmask_prefix(validators.netmask(mask)) == prefix


@pytest.mark.parametrize("mask", ["0.0.0.0", "255.0.255.0", "255.255.255.1", "24"])
def test_netmask_refuses(mask: str) -> None:
    with pytest.raises(ValueError, match=r"contiguous netmask|not an IPv4 address"):
        validators.netmask(mask)


@pytest.mark.parametrize("prefix", [0, 33, -1])
def test_prefix_refuses(prefix: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 32"):
        validators.prefix_length(prefix)


@pytest.mark.parametrize("name", ["v1", "web-01.prod", "a+b_c", "x" * 64])
def test_domain_name_accepts(name: str) -> None:
    assert validators.domain_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "v 1", "v1;id", "v1/x", "-v1", "v1'", "v1\n"])
def test_domain_name_refuses(name: str) -> None:
    with pytest.raises(ValueError, match="domain name"):
        validators.domain_name(name)


@pytest.mark.parametrize("name", ["System eth0", "eth0", "Wired connection 1", "LAN 10.0/24"])
def test_config_name_accepts(name: str) -> None:
    assert validators.config_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", " eth0", "eth0 ", 'a"b', "a'b", "a$b", "a`b", "a\\b", "a\nb", "a\tb", "a;b", "a#b", "é"],
)
def test_config_name_refuses(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid NAME"):
        validators.config_name(name)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("10.0.112.39", "10.0.112.39"),
        ("kvm01.example.com", "kvm01.example.com"),
        ("hv_01", "hv_01"),
        ("2001:DB8::1", "2001:db8::1"),
    ],
)
def test_ssh_host_accepts(text: str, canonical: str) -> None:
    assert validators.ssh_host(text) == canonical


@pytest.mark.parametrize(
    "text", ["", "-oProxyCommand=x", "a..b", "a b", "h;x", "[::1]", "fe80::1%eth0", "x" * 254]
)
def test_ssh_host_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a host name|not an IPv6 address"):
        validators.ssh_host(text)


@pytest.mark.parametrize(
    ("hop", "canonical"),
    [
        ("gw", "gw"),
        ("root@198.18.0.2:22", "root@198.18.0.2:22"),
        ("root@198.18.0.2", "root@198.18.0.2:22"),
        ("198.18.0.2:2222", "198.18.0.2:2222"),
        ("admin@[2001:db8::1]:2200", "admin@[2001:db8::1]:2200"),
    ],
)
def test_jump_hop_accepts(hop: str, canonical: str) -> None:
    assert validators.jump_hop(hop) == canonical


@pytest.mark.parametrize(
    "hop",
    ["", "@h", "root@", "root@h:", "root@h:0", "root@[1.2.3.4]:22", "ro ot@h", "h;x", "a@b@c"],
)
def test_jump_hop_refuses(hop: str) -> None:
    with pytest.raises(ValueError):
        validators.jump_hop(hop)


@pytest.mark.parametrize("path", ["", "a\nb", "a\x00b"])
def test_local_path_refuses(path: str) -> None:
    with pytest.raises(ValueError, match="not a usable path"):
        validators.local_path(path)


# --- libvirt settings ----------------------------------------------------------------------


def test_libvirt_settings_default_to_define_and_remove_nat_when_guests_are_bridged(
    tmp_path: Path,
) -> None:
    model = load_inventory(write(tmp_path, {"kvm01": seed_host()})).models["kvm01"]
    assert model.libvirt.edit_mode == "define"
    assert model.libvirt.restart_guests is False
    assert model.removes_default_network is True

    def no_guests(data: dict[str, Any]) -> None:
        data.pop("guests")

    bare = load_inventory(write(tmp_path / "b", {"kvm01": seed_host(no_guests)})).models["kvm01"]
    assert bare.removes_default_network is False


def test_libvirt_settings_are_checked(tmp_path: Path) -> None:
    def bad(data: dict[str, Any]) -> None:
        data["libvirt"] = {"edit_mode": "sed", "restart_guest": True}

    found = problems(write(tmp_path, {"kvm01": seed_host(bad)}))
    assert any("host kvm01: libvirt.edit_mode:" in p and "'define'" in p for p in found)
    assert any(
        "libvirt.restart_guest: unknown key (did you mean 'restart_guests'?)" in p for p in found
    )
