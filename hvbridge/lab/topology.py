"""Names, addresses and MACs of a lab: pure, so a lab is the same every time.

Two switches (Linux bridges in the controller's namespace):
- outer, 198.18.0.0/17: the controller (198.18.0.1) and the jump host
  (198.18.0.2); with `direct`, the hypervisors too;
- inner, 198.18.128.0/17: the jump host (198.18.128.1, also the hypervisors'
  gateway) and the hypervisors; the controller has no address on it.
- data (`lab up --nics 2` and more), 198.19.0.0/24 and MTU 9000: the hypervisors'
  further NICs, unconfigured at first, and the controller (198.19.0.1): the far end of
  a jumbo-frame ping, and of a VLAN's traffic (no VLAN filtering on the switch).
Each switch also carries an IPv6 ULA /64 (fd48:6862:0:N::/64) whose ::1 is the
hypervisors' IPv6 gateway on theirs (the controller's or the jump host's).
Each hypervisor's NAT network `default` uses 198.19.122.0/24 inside its own
namespace. Nothing outside 198.18.0.0/15 and fd48:6862::/48 is ever used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from hvbridge.lab.fleet import (
    DEFAULT_PLATFORM,
    IFUPDOWN2_PLATFORMS,
    IFUPDOWN_PLATFORMS,
    MAX_NICS,
    NETPLAN_PLATFORMS,
    NETWORKMANAGER_PLATFORMS,
    SYSTEMD_PLATFORMS,
    LabPlatform,
    nic_names,
)
from hvbridge.lab.fleet import MAX_HOSTS as MAX_HOSTS

OUTER_NET = ipaddress.IPv4Network("198.18.0.0/17")
INNER_NET = ipaddress.IPv4Network("198.18.128.0/17")
CONTROLLER_ADDR = ipaddress.IPv4Address("198.18.0.1")
JUMP_OUTER_ADDR = ipaddress.IPv4Address("198.18.0.2")
JUMP_INNER_ADDR = ipaddress.IPv4Address("198.18.128.1")
NAT_NET = ipaddress.IPv4Network("198.19.122.0/24")
DATA_NET = ipaddress.IPv4Network("198.19.0.0/24")
CONTROLLER_DATA_ADDR = ipaddress.IPv4Address("198.19.0.1")
DATA_MTU = 9000
OUTER_NET6 = ipaddress.IPv6Network("fd48:6862:0:1::/64")
INNER_NET6 = ipaddress.IPv6Network("fd48:6862:0:2::/64")
DATA_NET6 = ipaddress.IPv6Network("fd48:6862:0:3::/64")

OUTER_SWITCH = "hvl-outer"
INNER_SWITCH = "hvl-inner"
DATA_SWITCH = "hvl-data"
LINK_PREFIX = "hvl-"
JUMP_NAME = "jump"


@dataclass(frozen=True)
class Port:
    """One veth: `peer` in the controller's namespace, `name` inside the host."""

    name: str
    peer: str
    switch: str
    mac: str
    address: ipaddress.IPv4Interface


@dataclass(frozen=True)
class DataNic:
    """A hypervisor's further NIC (`lab up --nics`): a veth on the data switch at MTU 9000,
    with no address; `peer` in the controller's namespace, `name` inside the host."""

    name: str
    peer: str
    mac: str
    switch: str = DATA_SWITCH
    mtu: int = DATA_MTU


def gateway6(net: ipaddress.IPv6Network) -> ipaddress.IPv6Interface:
    """The IPv6 gateway's address on a switch's /64: its ::1."""
    return ipaddress.IPv6Interface(f"{net.network_address + 1}/{net.prefixlen}")


def address6(net: ipaddress.IPv6Network, index: int) -> ipaddress.IPv6Interface:
    """An address a test may give hypervisor `index` on a switch's /64 (never the gateway's)."""
    return ipaddress.IPv6Interface(f"{net.network_address + 256 + index}/{net.prefixlen}")


def data_address(index: int) -> ipaddress.IPv4Interface:
    """An address a test may give hypervisor `index` on the data switch."""
    return ipaddress.IPv4Interface(f"{DATA_NET.network_address + 16 + index}/{DATA_NET.prefixlen}")


@dataclass(frozen=True)
class LabHost:
    name: str
    ports: tuple[Port, ...]
    gateway: ipaddress.IPv4Address | None
    is_hypervisor: bool
    guest_mac: str | None
    # The jump host is plain infrastructure and keeps el6's names.
    platform: LabPlatform = DEFAULT_PLATFORM
    # The hypervisor's further NICs, on the data switch (`lab up --nics`).
    data_nics: tuple[DataNic, ...] = ()
    # Its number: hv01 is 1 (0 for the jump host).
    index: int = 0
    # The IPv6 /64 of its management switch, whose ::1 is its IPv6 gateway.
    net6: ipaddress.IPv6Network | None = None

    @property
    def nics(self) -> tuple[tuple[str, str, str], ...]:
        """Every NIC as (name, MAC, switch), the management NIC first."""
        first = tuple((p.name, p.mac, p.switch) for p in self.ports)
        return first + tuple((n.name, n.mac, n.switch) for n in self.data_nics)

    @property
    def peers(self) -> tuple[str, ...]:
        """The controller-side ends of all its veths."""
        return tuple(p.peer for p in self.ports) + tuple(n.peer for n in self.data_nics)

    @property
    def management(self) -> Port:
        return self.ports[0]

    @property
    def address(self) -> str:
        return str(self.management.address.ip)


@dataclass(frozen=True)
class Topology:
    hosts: tuple[LabHost, ...]
    direct: bool
    nics: int = 1

    @property
    def switches(self) -> tuple[str, ...]:
        switches = (OUTER_SWITCH,) if self.direct else (OUTER_SWITCH, INNER_SWITCH)
        return (*switches, DATA_SWITCH) if self.nics > 1 else switches

    @property
    def jump(self) -> LabHost | None:
        return next((h for h in self.hosts if h.name == JUMP_NAME), None)

    @property
    def has_el7(self) -> bool:
        """Hosts of EL7 or later, whose sshd (OpenSSH 7.4 and newer) speaks rsa-sha2."""
        return any(h.platform in SYSTEMD_PLATFORMS for h in self.hosts)

    @property
    def has_networkmanager(self) -> bool:
        return any(h.platform in NETWORKMANAGER_PLATFORMS for h in self.hosts)

    @property
    def has_ifupdown(self) -> bool:
        return any(
            h.platform in IFUPDOWN_PLATFORMS and h.platform not in IFUPDOWN2_PLATFORMS
            for h in self.hosts
        )

    @property
    def has_netplan(self) -> bool:
        return any(h.platform in NETPLAN_PLATFORMS for h in self.hosts)

    @property
    def has_ifupdown2(self) -> bool:
        return any(h.platform in IFUPDOWN2_PLATFORMS for h in self.hosts)

    @property
    def hypervisors(self) -> tuple[LabHost, ...]:
        return tuple(h for h in self.hosts if h.is_hypervisor)

    def host(self, name: str) -> LabHost:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


def _mac(prefix: str, index: int) -> str:
    return f"{prefix}:{index >> 8:02x}:{index & 0xFF:02x}"


def _address(net: ipaddress.IPv4Network, index: int) -> ipaddress.IPv4Interface:
    # Hypervisors start at x.x.1.1 so the first /24 stays for infrastructure.
    return ipaddress.IPv4Interface(f"{net.network_address + 256 + index}/{net.prefixlen}")


def host_name(index: int, count: int) -> str:
    return f"hv{index:0{max(2, len(str(count)))}d}"


def plan(
    count: int, *, direct: bool, platforms: Sequence[LabPlatform] = (), nics: int = 1
) -> Topology:
    """`platforms` gives each hypervisor's platform, hv01 first (default: all el6); `nics`
    how many NICs each has (the first on its management switch, the others on the data
    switch)."""
    if not 1 <= count <= MAX_HOSTS:
        raise ValueError(f"--hosts must be between 1 and {MAX_HOSTS}, not {count}")
    if not 1 <= nics <= MAX_NICS:
        raise ValueError(f"--nics must be between 1 and {MAX_NICS}, not {nics}")
    if platforms and len(platforms) != count:
        raise ValueError(f"{len(platforms)} platforms for {count} hosts")
    hv_net = OUTER_NET if direct else INNER_NET
    gateway = CONTROLLER_ADDR if direct else JUMP_INNER_ADDR
    hv_switch = OUTER_SWITCH if direct else INNER_SWITCH
    hosts: list[LabHost] = []
    if not direct:
        outer = Port(
            "eth0",
            f"{LINK_PREFIX}jump-o",
            OUTER_SWITCH,
            "02:48:56:ff:00:01",
            ipaddress.IPv4Interface(f"{JUMP_OUTER_ADDR}/{OUTER_NET.prefixlen}"),
        )
        inner = Port(
            "eth1",
            f"{LINK_PREFIX}jump-i",
            INNER_SWITCH,
            "02:48:56:ff:00:02",
            ipaddress.IPv4Interface(f"{JUMP_INNER_ADDR}/{INNER_NET.prefixlen}"),
        )
        hosts.append(LabHost(JUMP_NAME, (outer, inner), None, False, None))
    for index in range(1, count + 1):
        name = host_name(index, count)
        platform = platforms[index - 1] if platforms else DEFAULT_PLATFORM
        names = nic_names(platform, nics)
        port = Port(
            names[0],
            f"{LINK_PREFIX}{name}",
            hv_switch,
            _mac("02:48:56:00", index),
            _address(hv_net, index),
        )
        guest_mac = _mac("52:54:00:48", index)
        data_nics = tuple(
            DataNic(nic, f"{LINK_PREFIX}{name}-{number}", _mac(f"02:48:56:{number:02x}", index))
            for number, nic in enumerate(names[1:], start=1)
        )
        net6 = OUTER_NET6 if direct else INNER_NET6
        hosts.append(
            LabHost(name, (port,), gateway, True, guest_mac, platform, data_nics, index, net6)
        )
    return Topology(tuple(hosts), direct, nics)
