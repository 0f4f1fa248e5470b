"""hvbridge.lab.topology: the names, addresses and MACs a lab is built from."""

from __future__ import annotations

import ipaddress
import re

import pytest

from hvbridge.lab.topology import (
    CONTROLLER_ADDR,
    INNER_NET,
    INNER_SWITCH,
    JUMP_INNER_ADDR,
    JUMP_NAME,
    JUMP_OUTER_ADDR,
    LINK_PREFIX,
    MAX_HOSTS,
    NAT_NET,
    OUTER_NET,
    OUTER_SWITCH,
    Topology,
    plan,
)

LAB_SPACE = ipaddress.IPv4Network("198.18.0.0/15")
# Linux refuses interface names longer than IFNAMSIZ - 1.
IFNAMSIZ_MAX = 15
SIZES = (1, 3, 50, 200, 1000)
ETH0_MAC = re.compile(r"^02(:[0-9a-f]{2}){5}$")
GUEST_MAC = re.compile(r"^52:54:00(:[0-9a-f]{2}){3}$")


@pytest.fixture(
    params=[(n, d) for n in SIZES for d in (False, True)], ids=lambda p: f"{p[0]}-{p[1]}"
)
def topology(request: pytest.FixtureRequest) -> Topology:
    count, direct = request.param
    return plan(count, direct=direct)


def _interfaces(topo: Topology) -> list[ipaddress.IPv4Interface]:
    return [port.address for host in topo.hosts for port in host.ports]


def test_every_address_is_in_the_lab_space_and_unique(topology: Topology) -> None:
    addresses = [iface.ip for iface in _interfaces(topology)]
    outside = [a for a in addresses if a not in LAB_SPACE]
    assert outside == []
    assert len(addresses) == len(set(addresses))
    assert CONTROLLER_ADDR not in addresses
    assert CONTROLLER_ADDR in LAB_SPACE


def test_no_address_is_a_network_or_broadcast_address(topology: Topology) -> None:
    for iface in _interfaces(topology):
        assert iface.ip != iface.network.network_address, iface
        assert iface.ip != iface.network.broadcast_address, iface


def test_ports_sit_in_their_switch_net(topology: Topology) -> None:
    nets = {OUTER_SWITCH: OUTER_NET, INNER_SWITCH: INNER_NET}
    for host in topology.hosts:
        for port in host.ports:
            assert port.switch in topology.switches
            assert port.address.network == nets[port.switch], (host.name, port)


def test_hypervisor_gateway(topology: Topology) -> None:
    expected = CONTROLLER_ADDR if topology.direct else JUMP_INNER_ADDR
    for host in topology.hypervisors:
        assert host.gateway == expected
        assert host.gateway in host.management.address.network
    assert len(topology.hypervisors) == len([h for h in topology.hosts if h.name != JUMP_NAME])


def test_macs_are_unique_and_well_formed(topology: Topology) -> None:
    port_macs = [port.mac for host in topology.hosts for port in host.ports]
    guest_macs = [host.guest_mac for host in topology.hypervisors]
    everything = port_macs + guest_macs
    assert len(everything) == len(set(everything))
    for mac in port_macs:
        assert ETH0_MAC.match(mac), mac
        first = int(mac.split(":")[0], 16)
        assert first & 0x02, f"{mac} is not locally administered"
        assert not first & 0x01, f"{mac} is multicast"
    for guest in guest_macs:
        assert guest is not None
        assert GUEST_MAC.match(guest), guest


def test_link_names_fit_ifnamsiz_and_carry_the_prefix(topology: Topology) -> None:
    names = [port.peer for host in topology.hosts for port in host.ports]
    names += list(topology.switches)
    for name in names:
        assert len(name) <= IFNAMSIZ_MAX, name
        assert name.startswith(LINK_PREFIX), name
    assert len(names) == len(set(names))


def test_host_names_are_zero_padded_to_the_count(topology: Topology) -> None:
    names = [host.name for host in topology.hypervisors]
    count = len(names)
    width = max(2, len(str(count)))
    assert names == [f"hv{i:0{width}d}" for i in range(1, count + 1)]
    assert names == sorted(names)
    assert len({len(n) for n in names}) == 1


@pytest.mark.parametrize(
    ("count", "first", "last"),
    [
        (1, "hv01", "hv01"),
        (3, "hv01", "hv03"),
        (50, "hv01", "hv50"),
        (99, "hv01", "hv99"),
        (100, "hv001", "hv100"),
        (200, "hv001", "hv200"),
        (1000, "hv0001", "hv1000"),
    ],
)
def test_host_name_examples(count: int, first: str, last: str) -> None:
    hypervisors = plan(count, direct=False).hypervisors
    assert (hypervisors[0].name, hypervisors[-1].name) == (first, last)


def test_nat_net_stays_clear_of_the_switches() -> None:
    assert NAT_NET.subnet_of(LAB_SPACE)
    assert not NAT_NET.overlaps(OUTER_NET)
    assert not NAT_NET.overlaps(INNER_NET)
    assert not OUTER_NET.overlaps(INNER_NET)


@pytest.mark.parametrize("count", [0, -1, MAX_HOSTS + 1])
def test_out_of_range_host_count_names_the_option(count: int) -> None:
    with pytest.raises(ValueError, match="--hosts") as info:
        plan(count, direct=False)
    assert str(count) in str(info.value)


def test_jump_host_only_when_not_direct() -> None:
    assert plan(3, direct=True).jump is None
    assert JUMP_NAME not in [h.name for h in plan(3, direct=True).hosts]
    assert plan(3, direct=True).switches == (OUTER_SWITCH,)

    topo = plan(3, direct=False)
    jump = topo.jump
    assert jump is not None
    assert topo.switches == (OUTER_SWITCH, INNER_SWITCH)
    assert not jump.is_hypervisor
    assert jump.gateway is None
    assert jump.guest_mac is None
    assert [(p.name, p.switch, p.address.ip) for p in jump.ports] == [
        ("eth0", OUTER_SWITCH, JUMP_OUTER_ADDR),
        ("eth1", INNER_SWITCH, JUMP_INNER_ADDR),
    ]
    assert jump.address == str(JUMP_OUTER_ADDR)
    assert topo.host(JUMP_NAME) is jump


def test_hypervisors_sit_on_the_inner_switch_unless_direct() -> None:
    assert {p.switch for h in plan(5, direct=False).hypervisors for p in h.ports} == {INNER_SWITCH}
    assert {p.switch for h in plan(5, direct=True).hypervisors for p in h.ports} == {OUTER_SWITCH}


def test_plan_is_deterministic_and_host_lookup_works() -> None:
    assert plan(50, direct=False) == plan(50, direct=False)
    topo = plan(3, direct=True)
    assert topo.host("hv02").address == "198.18.1.2"
    assert topo.host("hv02").management.peer == f"{LINK_PREFIX}hv02"
    with pytest.raises(KeyError):
        topo.host("hv04")


def test_further_nics_are_named_as_each_platform_names_them() -> None:
    from hvbridge.lab.fleet import nic_names

    assert nic_names("el6", 3) == ("eth0", "eth1", "eth2")
    assert nic_names("el7", 2) == ("ens3", "ens4")
    assert nic_names("proxmox", 2) == ("eno1", "eno2")
    assert nic_names("ubuntu", 3) == ("enp1s0", "enp2s0", "enp3s0")


def test_a_lab_with_two_nics_puts_the_second_on_the_data_switch() -> None:
    from hvbridge.lab.topology import DATA_SWITCH, plan

    topology = plan(2, direct=False, platforms=("el6", "el7"), nics=2)
    assert topology.switches[-1] == DATA_SWITCH
    hv01, hv02 = topology.hypervisors
    assert [n[0] for n in hv01.nics] == ["eth0", "eth1"]
    assert [n[0] for n in hv02.nics] == ["ens3", "ens4"]
    macs = [n[1] for h in topology.hosts for n in h.nics]
    assert len(macs) == len(set(macs))
    peers = [p for h in topology.hosts for p in h.peers]
    assert len(peers) == len(set(peers)) and all(len(p) <= 15 for p in peers)
    assert plan(2, direct=False).switches == ("hvl-outer", "hvl-inner")


def test_nics_out_of_range_are_refused() -> None:
    import pytest

    from hvbridge.lab.topology import plan

    with pytest.raises(ValueError, match="--nics must be between 1 and 4, not 5"):
        plan(1, direct=True, nics=5)
