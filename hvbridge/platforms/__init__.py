"""The platforms hvbridge drives, by the inventory's `platform:` name.

Adding one: its module here, its templates under `templates/<name>/`, one line in
`_PLATFORMS`, and a lab emulation (docs/platforms.md).
"""

from __future__ import annotations

from hvbridge.errors import InputError
from hvbridge.platforms.base import Platform
from hvbridge.platforms.debian import DEBIAN
from hvbridge.platforms.el6 import EL6
from hvbridge.platforms.el7 import EL7
from hvbridge.platforms.el8 import EL8
from hvbridge.platforms.el9 import EL9
from hvbridge.platforms.proxmox import PROXMOX
from hvbridge.platforms.ubuntu import UBUNTU

__all__ = ["DEFAULT", "Platform", "UnknownPlatform", "check_name", "get", "names"]

_PLATFORMS: dict[str, Platform] = {
    platform.name: platform for platform in (EL6, EL7, EL8, EL9, DEBIAN, PROXMOX, UBUNTU)
}
# What a host without `platform:` is: the seed's hosts are EL6.
DEFAULT = "el6"


class UnknownPlatform(InputError, ValueError):
    pass


def names() -> tuple[str, ...]:
    return tuple(_PLATFORMS)


def check_name(value: str) -> str:
    """`value` when it names a platform (for the inventory's check)."""
    if value not in _PLATFORMS:
        known = ", ".join(repr(name) for name in _PLATFORMS)
        raise UnknownPlatform(f"unknown platform {value!r}: expected one of {known}")
    return value


def get(name: str) -> Platform:
    return _PLATFORMS[check_name(name)]
