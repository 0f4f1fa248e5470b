"""The inventory's models: the grammar and type of each value a host's `data` and its
`hvbridge` connection options may hold. Relations between values are checked in
hvbridge.inventory.relations, where every problem can be reported with its own field path.
"""

from __future__ import annotations

from ipaddress import IPv4Interface
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    StrictStr,
)

from hvbridge import platforms
from hvbridge.hops import Hop, inventory_hop
from hvbridge.platforms import devices
from hvbridge.validators import (
    ConfigName,
    DomainName,
    GuestMac,
    HwAddr,
    InterfaceName,
    InventoryName,
    IPHost,
    IPv4Host,
    IPv6Addr,
    IPv6Host,
    LocalPath,
    LoginName,
    Netmask,
    Prefix,
    SearchDomain,
    SSHHost,
    netmask_prefix,
)

# The name of hvbridge's connection in Nornir's `connection_options`.
CONNECTION = "hvbridge"

# What Nornir's inventory elements hold; SimpleInventory silently drops any other key.
ATTRIBUTES = ("hostname", "port", "username", "password", "platform")
ELEMENT_KEYS = frozenset({*ATTRIBUTES, "groups", "data", "connection_options"})
DEFAULTS_KEYS = ELEMENT_KEYS - {"groups"}
OPTION_KEYS = frozenset({*ATTRIBUTES, "extras"})


def _jump_entry(value: object) -> str | Hop:
    """A hop as the inventory writes it (hvbridge.hops.inventory_hop), or a `Hop` already
    resolved (hvbridge.inventory.validate_hosts writes those; a Python-built inventory may)."""
    if isinstance(value, Hop):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r} ({type(value).__name__})")
    return inventory_hop(value)


# An inventory host's name (str), or a host outside the inventory (Hop); shown as written.
JumpHop = Annotated[str | Hop, PlainValidator(_jump_entry), PlainSerializer(str, return_type=str)]


class _Model(BaseModel):
    # strict: YAML's `yes` or "22" must not quietly become True or 22; frozen: models are
    # shared by Nornir's worker threads.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Mtu = Annotated[int, Field(ge=68, le=65535)]
TcpPort = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=3600)]


class _Addressed(_Model):
    ipaddr: IPv4Host | None = None
    netmask: Netmask | None = None
    prefix: Prefix | None = None
    gateway: IPv4Host | None = None
    # initscripts read an unset DEFROUTE as yes (for static and dhcp alike): the same
    # default here lets templates always write it without changing its meaning.
    defroute: bool = True

    @property
    def interface(self) -> IPv4Interface | None:
        """`ipaddr` with its prefix (from `prefix`, else `netmask`); None without both."""
        length = self.prefix
        if length is None and self.netmask is not None:
            length = netmask_prefix(self.netmask)
        if self.ipaddr is None or length is None:
            return None
        return IPv4Interface((self.ipaddr, length))


class NicModel(_Addressed):
    """A physical NIC: a bridge port (no address) or an interface with its own address."""

    hwaddr: HwAddr
    mtu: Mtu | None = None
    nm_controlled: bool = False
    name: ConfigName | None = None
    bootproto: Literal["none", "static", "dhcp"] | None = None


# The kernel bonding driver's modes, by the names every network tool accepts.
BondMode = Literal[
    "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb",
    "balance-alb",
]  # fmt: skip
# Modes whose transmit hash `xmit_hash_policy` chooses (the driver ignores it elsewhere).
HASHED_MODES = frozenset({"balance-xor", "802.3ad", "balance-tlb", "balance-alb"})
# Modes with one active slave, where `primary` means something.
PRIMARY_MODES = frozenset({"active-backup", "balance-tlb", "balance-alb"})


class BondModel(_Model):
    """A bond of NICs (the kernel's bonding driver); a bridge port or a VLAN's parent."""

    slaves: Annotated[list[InterfaceName], Field(min_length=1)]
    mode: BondMode = "active-backup"
    # Link monitoring interval in ms; 0 turns it off, so a dead slave is never noticed.
    miimon: Annotated[int, Field(ge=0, le=60000)] = 100
    lacp_rate: Literal["slow", "fast"] | None = None  # 802.3ad only
    xmit_hash_policy: Literal["layer2", "layer2+3", "layer3+4", "encap2+3", "encap3+4"] | None = (
        None
    )
    primary: InterfaceName | None = None  # one of slaves; active-backup, tlb, alb
    mtu: Mtu | None = None


class VlanModel(_Model):
    """An 802.1Q VLAN on a NIC or a bond (`bond0.100`); a bridge port."""

    parent: InterfaceName
    id: Annotated[int, Field(ge=1, le=4094)]
    mtu: Mtu | None = None


class DnsModel(_Model):
    """DNS servers and search domains set on a bridge. A bridge without `dns` keeps what
    the host resolves with now (the platform carries it over from the ports' old files)."""

    servers: list[IPHost] = Field(default_factory=list)
    search: list[SearchDomain] = Field(default_factory=list)


class BridgeModel(_Addressed):
    # NICs, bonds or VLANs of the same host.
    ports: Annotated[list[InterfaceName], Field(min_length=1)]
    # none: no IPv4 address on the host (a bridge for guests only, or IPv6 only).
    bootproto: Literal["static", "dhcp", "none"]
    # Written explicitly on every platform: NetworkManager's default is STP on with a 15 s
    # forward delay, which blocks a new guest's port for 30 s.
    stp: bool = False
    delay: Annotated[int, Field(ge=0, le=30)] = 0
    mtu: Mtu | None = None
    # false: a gateway silent after the guarded restart is a warning, not a failure
    # (for sites whose gateways drop ICMP).
    verify_gateway: bool = True
    # IPv6: a static address with its prefix, a default gateway, and whether router
    # advertisements configure the bridge (None: what the platform does by default, and
    # what the host's old files said is carried over).
    ipv6addr: IPv6Addr | None = None
    ipv6_gateway: IPv6Host | None = None
    ipv6_autoconf: bool | None = None
    dns: DnsModel | None = None


class PciAddress(_Model):
    domain: Annotated[int, Field(ge=0, le=0xFFFF)] = 0
    bus: Annotated[int, Field(ge=0, le=0xFF)] = 0
    slot: Annotated[int, Field(ge=0, le=0x1F)]
    function: Annotated[int, Field(ge=0, le=7)] = 0

    def __str__(self) -> str:
        return f"{self.domain:04x}:{self.bus:02x}:{self.slot:02x}.{self.function:x}"


class GuestInterfaceModel(_Model):
    bridge: InterfaceName
    mac: GuestMac
    model: Literal["virtio", "e1000", "rtl8139"] = "virtio"
    address: PciAddress | None = None


class GuestModel(_Model):
    interfaces: Annotated[list[GuestInterfaceModel], Field(min_length=1)]


class LibvirtModel(_Model):
    """How the guests' part of the seed is carried out on this host."""

    # None: remove the NAT network `default` when any guest is bridged.
    remove_default_network: bool | None = None
    # define: `virsh dumpxml --inactive`, edit, `virsh define`. file: edit
    # /etc/libvirt/qemu/NAME.xml as the seed does, then restart libvirtd (legacy).
    edit_mode: Literal["define", "file"] = "define"
    # Running guests are shut down (destroyed after shutdown_timeout) and started
    # again, so that their taps join the bridge.
    restart_guests: bool = False
    shutdown_timeout: Seconds = 60.0
    # How long libvirtd may take to answer again after a restart.
    restart_timeout: Seconds = 60.0


# The registry's names (hvbridge.platforms), so that a new platform needs no edit here.
PlatformName = Annotated[StrictStr, AfterValidator(platforms.check_name)]


class HostData(_Model):
    """A host's `data`, plus its Nornir `platform`."""

    platform: PlatformName = platforms.DEFAULT
    nics: dict[InterfaceName, NicModel] = Field(default_factory=dict)
    bonds: dict[InterfaceName, BondModel] = Field(default_factory=dict)
    vlans: dict[InterfaceName, VlanModel] = Field(default_factory=dict)
    bridges: dict[InterfaceName, BridgeModel] = Field(default_factory=dict)
    guests: dict[DomainName, GuestModel] = Field(default_factory=dict)
    libvirt: LibvirtModel = Field(default_factory=LibvirtModel)

    def kind_of(self, name: str) -> devices.Kind | None:
        """What the device `name` is in this host's data (hvbridge.platforms.devices)."""
        return devices.kind_of(self, name)

    def hwaddr_of(self, name: str) -> str:
        """The MAC the device `name` has (hvbridge.platforms.devices.hwaddr_of)."""
        return devices.hwaddr_of(self, name)

    def chain(self, bridge: str) -> list[str]:
        """The devices under a bridge, top down (hvbridge.platforms.devices.chain)."""
        return devices.chain(self, bridge)

    @property
    def removes_default_network(self) -> bool:
        configured = self.libvirt.remove_default_network
        return bool(self.guests) if configured is None else configured


class ConnectionExtras(_Model):
    """`connection_options.hvbridge.extras`; unset paths fall back to ssh_config, then OpenSSH's."""

    key_file: LocalPath | None = None
    known_hosts: LocalPath | None = None
    ssh_config: LocalPath | None = None
    jump: list[JumpHop] = Field(default_factory=list)
    accept_new: bool = False
    connect_timeout: Seconds = 10.0
    command_timeout: Seconds = 120.0
    sudo: bool = False


class ConnectionModel(_Model):
    """What hvbridge's connection plugin gets from Nornir for a host."""

    hostname: SSHHost
    port: TcpPort = 22
    username: LoginName | None = None
    password: SecretStr | None = None
    extras: ConnectionExtras = Field(default_factory=ConnectionExtras)


class HostModel(HostData):
    """A validated host: its data and platform, its name and how to reach it."""

    name: InventoryName
    connection: ConnectionModel


def _field_names(*models: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for model in models for name in model.model_fields)


# Every key a user may write anywhere: the pool for "did you mean" suggestions.
KNOWN_KEYS = (
    _field_names(
        NicModel,
        BondModel,
        VlanModel,
        DnsModel,
        BridgeModel,
        PciAddress,
        GuestInterfaceModel,
        GuestModel,
        LibvirtModel,
        HostData,
        ConnectionExtras,
        ConnectionModel,
    )
    | ELEMENT_KEYS
    | OPTION_KEYS
)
