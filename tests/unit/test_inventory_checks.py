"""hvbridge.inventory.checks, .relations and .validate: every problem, with its file, host
and field."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Interface
from pathlib import Path
from typing import Any

import pytest

from hvbridge import validators
from hvbridge.inventory import (
    BridgeModel,
    HostData,
    NicModel,
    load_inventory,
    relations,
)
from tests.unit.inventory_support import (
    DATA,
    SEED_HOST,
    Edit,
    both,
    bridge,
    drop,
    problems,
    seed_host,
    set_value,
    write,
)


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


SECOND_NIC = {"hwaddr": "44:37:E6:4A:62:AE"}

CROSS_CHECKS: list[tuple[str, Edit, str]] = [
    (
        "static needs ipaddr",
        drop("bridges.br0.ipaddr"),
        "bridges.br0.ipaddr: required with bootproto static",
    ),
    (
        "static needs a netmask or prefix",
        drop("bridges.br0.netmask"),
        "bridges.br0.netmask: netmask or prefix required with bootproto static",
    ),
    (
        "netmask and prefix agree",
        set_value("bridges.br0.prefix", 16),
        "bridges.br0.prefix: /16 disagrees with netmask 255.255.255.0 (/24)",
    ),
    (
        "dhcp forbids a gateway",
        both(
            set_value("bridges.br0.bootproto", "dhcp"),
            drop("bridges.br0.ipaddr"),
            drop("bridges.br0.netmask"),
        ),
        "bridges.br0.gateway: not allowed with bootproto dhcp",
    ),
    (
        "gateway inside the subnet",
        set_value("bridges.br0.gateway", "10.0.9.1"),
        "bridges.br0.gateway: 10.0.9.1 is outside 10.0.112.0/24",
    ),
    (
        "gateway is not the network address",
        set_value("bridges.br0.gateway", "10.0.112.0"),
        "bridges.br0.gateway: 10.0.112.0 is the network address of 10.0.112.0/24",
    ),
    (
        "gateway is not the broadcast address",
        set_value("bridges.br0.gateway", "10.0.112.255"),
        "bridges.br0.gateway: 10.0.112.255 is the broadcast address of 10.0.112.0/24",
    ),
    (
        "gateway is not the address itself",
        set_value("bridges.br0.gateway", "10.0.112.39"),
        "bridges.br0.gateway: 10.0.112.39 is the address itself (ipaddr)",
    ),
    (
        "ipaddr is not the broadcast address",
        set_value("bridges.br0.ipaddr", "10.0.112.255"),
        "bridges.br0.ipaddr: 10.0.112.255 is the broadcast address of 10.0.112.0/24",
    ),
    (
        "a NIC is a port of one bridge",
        set_value("bridges.br1", {"ports": ["eth0"], "bootproto": "dhcp", "defroute": False}),
        "bridges.br1.ports[0]: eth0 is already a port of br0",
    ),
    (
        "a port is listed once",
        set_value("bridges.br0.ports", ["eth0", "eth0"]),
        "bridges.br0.ports[1]: eth0 is listed twice",
    ),
    (
        "every port is a NIC in nics",
        set_value("bridges.br0.ports", ["eth0", "eth1"]),
        "bridges.br0.ports[1]: eth1 is not in nics, bonds or vlans",
    ),
    (
        "a bridge is not a port",
        set_value("bridges.br1", {"ports": ["br0"], "bootproto": "dhcp", "defroute": False}),
        "bridges.br1.ports[0]: br0 is a bridge; a port must be a NIC, a bond or a VLAN",
    ),
    (
        "a port has no address",
        set_value("nics.eth0.ipaddr", "10.0.112.40"),
        "nics.eth0.ipaddr: eth0 is a port of br0 and has no address or route of its own",
    ),
    (
        "a port has no gateway",
        set_value("nics.eth0.gateway", "10.0.112.1"),
        "nics.eth0.gateway: eth0 is a port of br0 and has no address or route of its own",
    ),
    (
        "a port has no defroute",
        set_value("nics.eth0.defroute", False),
        "nics.eth0.defroute: eth0 is a port of br0 and has no address or route of its own",
    ),
    (
        "a port's bootproto is none",
        set_value("nics.eth0.bootproto", "dhcp"),
        "nics.eth0.bootproto: eth0 is a port of br0: must be none or unset",
    ),
    (
        "a bridge name is not a NIC name",
        set_value("nics.br0", SECOND_NIC),
        "bridges.br0: br0 is also in nics: a name is one device (a NIC, a bond, a VLAN or a"
        " bridge)",
    ),
    (
        "a guest's bridge exists",
        set_value("guests.v1.interfaces.0.bridge", "br1"),
        "guests.v1.interfaces[0].bridge: br1 is not in bridges",
    ),
    (
        "a guest's PCI slots differ",
        set_value(
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
        set_value(
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
        set_value("nics.eth1", {"hwaddr": "44:37:E6:4A:62:AE", "ipaddr": "192.0.2.10"}),
        "nics.eth1.ipaddr: needs bootproto: static",
    ),
    (
        "a bridge's MTU fits its ports",
        both(set_value("nics.eth0.mtu", 1500), set_value("bridges.br0.mtu", 9000)),
        "bridges.br0.mtu: 9000 is above the MTU of its port eth0 (1500);"
        " the kernel caps a bridge at its smallest port",
    ),
    (
        "MACs are unique on a host",
        set_value("guests.v1.interfaces.0.mac", "44:37:e6:4a:62:ad"),
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
            "host hv02: bridges.br0.ports[1]: eth2 is not in nics, bonds or vlans",
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
    directory = write(tmp_path, {"kvm01": seed_host(set_value(path, value))})
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
    ("path", "value", "expected"),
    [
        ("nics.eth0.nm_controlled", "yes", "expected true or false, got 'yes'"),
        ("bridges.br0.stp", "no", "expected true or false, got 'no'"),
        ("bridges.br0.delay", 31, "Input should be less than or equal to 30 (got 31)"),
        ("bridges.br0.prefix", 0, "prefix 0 is not between 1 and 32"),
        ("bridges.br0.bootproto", "off", "Input should be 'static', 'dhcp' or 'none' (got"),
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
    directory = write(tmp_path, {"kvm01": seed_host(set_value(path, value))})
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


def test_relations_is_usable_on_its_own() -> None:
    data = HostData(
        nics={"eth0": NicModel(hwaddr="44:37:E6:4A:62:AD")},
        bridges={"br0": BridgeModel(ports=["eth0", "eth1"], bootproto="dhcp")},
    )
    assert relations(data) == [
        (("bridges", "br0", "ports", 1), "eth1 is not in nics, bonds or vlans")
    ]
    assert relations(data, left_out={"eth1"}) == []


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
