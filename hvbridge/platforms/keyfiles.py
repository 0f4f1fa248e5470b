"""The keyfile profiles a host's bridges call for on NetworkManager platforms (EL8, EL9):
one per device of each chain (NIC -> bond -> VLAN -> bridge), named for its place in it,
rendered from `templates/networkmanager/`. Pure: no network.

Names (each profile's `id`, and its file `ID.nmconnection`):
- a bridge: its own name (`br0`);
- a device that is a port of a bridge or a bond: `MASTER-port-DEVICE` (`br0-port-eth0`,
  `br100-port-bond0.100`, `bond0-port-eth1`), whatever kind the device is;
- a NIC or bond that only carries VLANs: `parent-DEVICE` (`parent-bond0`), never its bare
  name, which the profile an installer left on it usually has: that one is displaced and
  its DNS and IPv6 carried, not overwritten in place.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvbridge.platforms import devices
from hvbridge.platforms.bridges import address
from hvbridge.render import RenderError, render

CONNECTIONS_DIR = "/etc/NetworkManager/system-connections"
SUFFIX = ".nmconnection"
_SAFE = re.compile(r"^[A-Za-z0-9_.:/,@+-]+$")
# Any UUID will do, as long as it is the same on every run (idempotence).
_NAMESPACE = uuid.UUID("6f1f1d3e-6a0c-4d39-9a43-3d1f0e7b9b1e")
# Where the inventory leaves a bridge's IPv6 to the host (ipv6_autoconf unset, no
# ipv6addr), the bridge's profile says `ignore` (NetworkManager leaves IPv6 to the kernel)
# until the preflight carries what the profiles it displaces said (hvbridge.platforms.nmcarry).
CARRIED_IPV6 = "ignore"


def keyfile_value(value: Any) -> str:
    """A value as NetworkManager's keyfile reader reads it back unchanged; anything that
    would need GLib's escapes (spaces, `;`, `#`, `\\`) is refused, never quoted."""
    text = str(value)
    if _SAFE.match(text):
        return text
    raise RenderError(f"value {text!r} cannot be written safely to a keyfile")


FILTERS = (("keyfile_value", keyfile_value),)


def profile_uuid(host: str, profile: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{host}/{profile}"))


def profile_path(profile: str) -> str:
    return f"{CONNECTIONS_DIR}/{profile}{SUFFIX}"


def bridge_path(name: str) -> str:
    return profile_path(name)


def port_id(master: str, port: str) -> str:
    return f"{master}-port-{port}"


def parent_id(device: str) -> str:
    return f"parent-{device}"


@dataclass(frozen=True)
class Planned:
    """One profile hvbridge writes: its id, the device it configures, what kind of device
    that is, and the bridge or bond it is a port of (None for a bridge, or a device that
    only carries VLANs)."""

    id: str
    device: str
    kind: devices.Kind
    master: str | None

    @property
    def path(self) -> str:
        return profile_path(self.id)


def _masters(model: Any) -> dict[str, str]:
    """device -> the bridge or bond it is a port of."""
    found: dict[str, str] = {}
    for name, bond in (getattr(model, "bonds", None) or {}).items():
        found.update(dict.fromkeys(bond.slaves, name))
    for name, bridge in model.bridges.items():
        found.update(dict.fromkeys(bridge.ports, name))
    return found


def plan(model: Any) -> list[Planned]:
    """Every profile of the host, bridge by bridge, each bridge's chain top down; a device
    under two bridges (a bond carrying two VLANs) once, where it is first met."""
    masters = _masters(model)
    planned: list[Planned] = []
    seen: set[str] = set()
    for bridge in model.bridges:
        planned.append(Planned(bridge, bridge, "bridge", None))
        for device in devices.chain(model, bridge):
            if device in seen:
                continue
            seen.add(device)
            master = masters.get(device)
            # Validation lets nothing but NICs, bonds and VLANs under a bridge: a device
            # the model does not list is a NIC of a model that leaves `nics` out.
            kind = devices.kind_of(model, device) or "nic"
            if kind == "bridge":
                raise RenderError(f"bridge {device} is a port of bridge {bridge}")
            name = port_id(master, device) if master else parent_id(device)
            planned.append(Planned(name, device, kind, master))
    return planned


def _mtu(model: Any, device: str, kind: devices.Kind, master: str | None) -> int | None:
    """A device's MTU as the inventory asks: its own; a bond's slave, its bond's (the
    bonding driver gives its slaves the bond's MTU: written, NetworkManager agrees)."""
    table = {"nic": "nics", "bond": "bonds", "vlan": "vlans", "bridge": "bridges"}[kind]
    mtu: int | None = getattr(model, table)[device].mtu
    bonds: Mapping[str, Any] = getattr(model, "bonds", None) or {}
    if kind == "nic" and master is not None and master in bonds and bonds[master].mtu is not None:
        mtu = bonds[master].mtu
    return mtu


def ipv6(bridge: Any) -> dict[str, Any]:
    """What the bridge's [ipv6] says: `method`, `address` (ADDR/LEN or None), `gateway`
    (beside the address, or None) and `default_via` (a default route's gateway where there
    is no address to write it beside: NetworkManager refuses a gateway without one).

    - an address: `manual`, or `auto` too with `ipv6_autoconf: true` (router advertisements
      add theirs beside it);
    - no address: `auto` with autoconf true, or with a gateway (a default route needs an
      address from the advertisements); `disabled` with autoconf false: `ignore` would
      leave IPv6 to the kernel, whose default takes router advertisements, the opposite of
      what false asks; `disabled` leaves the bridge no IPv6 address at all (guests' IPv6
      crosses the bridge all the same: NetworkManager 1.20 and later);
    - neither said: CARRIED_IPV6, which the preflight replaces with what the profiles the
      bridge displaces said."""
    addr = getattr(bridge, "ipv6addr", None)
    gateway = getattr(bridge, "ipv6_gateway", None)
    autoconf = getattr(bridge, "ipv6_autoconf", None)
    if addr is not None:
        method = "auto" if autoconf else "manual"
    elif autoconf or (autoconf is None and gateway is not None):
        method = "auto"
    elif autoconf is False:
        method = "disabled"
    else:
        method = CARRIED_IPV6
    text = None if addr is None else ipaddress.IPv6Interface(str(addr)).with_prefixlen
    return {
        "method": method,
        "address": text,
        "gateway": gateway if text is not None else None,
        "default_via": gateway if text is None else None,
    }


def dns(bridge: Any) -> dict[str, list[str]]:
    """The bridge's own DNS, where the inventory sets it: IPv4 servers in [ipv4], IPv6
    servers in [ipv6] (NetworkManager takes each family's in its own section), the search
    domains in [ipv4]. Empty lists where `dns` is unset: the preflight carries the host's."""
    said = getattr(bridge, "dns", None)
    servers = [str(s) for s in said.servers] if said is not None else []
    return {
        "servers4": [s for s in servers if ipaddress.ip_address(s).version == 4],
        "servers6": [s for s in servers if ipaddress.ip_address(s).version == 6],
        "search": [str(d) for d in said.search] if said is not None else [],
    }


def render_files(templates: Path, search: tuple[str, ...], model: Any) -> dict[str, str]:
    """Every profile of `plan(model)`: path -> content."""
    host = str(getattr(model, "name", ""))
    files: dict[str, str] = {}
    for profile in plan(model):
        common: dict[str, Any] = {
            "id": profile.id,
            "uuid": profile_uuid(host, profile.id),
            "name": profile.device,
            "master": profile.master,
            "slave_type": None,
            "mtu": _mtu(model, profile.device, profile.kind, profile.master),
        }
        if profile.master is not None:
            bridge_port = devices.kind_of(model, profile.master) == "bridge"
            common["slave_type"] = "bridge" if bridge_port else "bond"
        if profile.kind == "bridge":
            bridge = model.bridges[profile.device]
            text = render(
                templates, search, "bridge.nmconnection.j2", FILTERS, bridge=bridge,
                address=address(bridge), ipv6=ipv6(bridge), dns=dns(bridge), **common,
            )  # fmt: skip
        elif profile.kind == "nic":
            text = render(templates, search, "port.nmconnection.j2", FILTERS,
                          nic=model.nics[profile.device], **common)  # fmt: skip
        elif profile.kind == "bond":
            text = render(templates, search, "bond.nmconnection.j2", FILTERS,
                          bond=model.bonds[profile.device], **common)  # fmt: skip
        else:
            text = render(templates, search, "vlan.nmconnection.j2", FILTERS,
                          vlan=model.vlans[profile.device], **common)  # fmt: skip
        files[profile.path] = text
    return files
