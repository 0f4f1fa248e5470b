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
from hvbridge.validators import (
    ConfigName,
    DomainName,
    GuestMac,
    HwAddr,
    InterfaceName,
    InventoryName,
    IPv4Host,
    LocalPath,
    LoginName,
    Netmask,
    Prefix,
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


class BridgeModel(_Addressed):
    ports: Annotated[list[InterfaceName], Field(min_length=1)]
    bootproto: Literal["static", "dhcp"]
    stp: bool = False
    delay: Annotated[int, Field(ge=0, le=30)] = 0
    mtu: Mtu | None = None
    # false: a gateway silent after the guarded restart is a warning, not a failure
    # (for sites whose gateways drop ICMP).
    verify_gateway: bool = True


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
    bridges: dict[InterfaceName, BridgeModel] = Field(default_factory=dict)
    guests: dict[DomainName, GuestModel] = Field(default_factory=dict)
    libvirt: LibvirtModel = Field(default_factory=LibvirtModel)

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
