"""The hypervisor inventory: Nornir's inventory, checked in full before anything connects.

`validate_hosts(inventory)` checks an inventory from any Nornir inventory plugin: every
host's values as Nornir resolves them (own values, then groups, then defaults), the
relations between a host's NICs, bonds, VLANs, bridges and guests, and what must hold
across hosts. It returns a model per host, or raises `InventoryError` listing every problem,
each naming the host, the field and where the value is defined (the host, a group,
defaults).

`load_inventory(directory)` is the CLI's: a SimpleInventory directory (`hosts.yaml`,
`groups.yaml`, `defaults.yaml`), its files surveyed first (syntax with line and column, keys
Nornir would drop), then `validate_hosts`, each problem naming its file.

Where each part lives:
- models: the grammar and type of every value (pydantic)
- survey: the YAML files before Nornir reads them (syntax, shape, unknown keys)
- origins: which element (host, group, defaults) defines each resolved value
- checks: one host's values through the models, its relations and its platform's rules
- relations: the relations between one host's NICs, bonds, VLANs, bridges and guests,
  from these parts:
  - stacking: which device sits on which (ports, slaves, VLAN parents), unused devices
  - bonding: a bond's options against its mode
  - mtu: MTU along the chain NIC -> bond -> VLAN -> bridge
  - ipv6: one IPv6 default route, through a gateway on the bridge's prefix
  - dns: what resolv.conf can hold
- jumps: jump hosts across the inventory, the hops that reach a host, and those hops
  written where Nornir's connection sees them (hvbridge.hops is the hop type and grammar)
- loops: cycles among groups and among jump hosts
- validate: the whole inventory, across hosts
- load: a SimpleInventory directory, and what connecting needs on this machine
- mask: a host for display, secrets masked
"""

from hvbridge.inventory.load import LoadedInventory, controller_problems, load_inventory
from hvbridge.inventory.mask import MASK, masked
from hvbridge.inventory.models import (
    CONNECTION,
    BridgeModel,
    ConnectionExtras,
    ConnectionModel,
    GuestInterfaceModel,
    GuestModel,
    HostData,
    HostModel,
    LibvirtModel,
    NicModel,
    PciAddress,
)
from hvbridge.inventory.problems import InventoryError, InventoryFiles
from hvbridge.inventory.relations import relations
from hvbridge.inventory.validate import validate_host, validate_hosts

__all__ = [
    "CONNECTION",
    "MASK",
    "BridgeModel",
    "ConnectionExtras",
    "ConnectionModel",
    "GuestInterfaceModel",
    "GuestModel",
    "HostData",
    "HostModel",
    "InventoryError",
    "InventoryFiles",
    "LibvirtModel",
    "LoadedInventory",
    "NicModel",
    "PciAddress",
    "controller_problems",
    "load_inventory",
    "masked",
    "relations",
    "validate_host",
    "validate_hosts",
]
