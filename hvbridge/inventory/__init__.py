"""The hypervisor inventory: Nornir's inventory, checked in full before anything connects.

`load_inventory` reads a SimpleInventory directory (`hosts.yaml`, `groups.yaml`,
`defaults.yaml`), resolves every host the way Nornir does (own values, then groups, then
defaults) and validates the result, then the cross-checks between a host's NICs, bridges and
guests and across hosts. It returns the Nornir inventory with a model per host, or raises
`InventoryError` listing every problem, each naming the file that defines the offending
value, the host and the field.

Where each part lives:
- models: the grammar and type of every value (pydantic)
- survey: the YAML files before Nornir reads them (syntax, shape, unknown keys)
- origins: which element (host, group, defaults) defines each resolved value
- checks: one host's values through the models, its relations and its platform's rules
- relations: the relations between one host's NICs, bridges and guests
- jumps: jump hosts across the inventory, and the hops that reach a host
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
from hvbridge.inventory.problems import InventoryError
from hvbridge.inventory.relations import relations

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
    "LibvirtModel",
    "LoadedInventory",
    "NicModel",
    "PciAddress",
    "controller_problems",
    "load_inventory",
    "masked",
    "relations",
]
