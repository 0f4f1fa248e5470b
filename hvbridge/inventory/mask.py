"""A host as hvbridge sees it, for `inventory show`: inheritance resolved, secrets and key
material masked in a copy (the inventory's own objects stay as they are)."""

from __future__ import annotations

from typing import Any

from nornir.core.inventory import Host

from hvbridge.hops import Hop
from hvbridge.inventory.models import CONNECTION
from hvbridge.inventory.origins import resolve

MASK = "********"
_SECRET_WORDS = ("password", "passphrase", "secret", "token", "private")
_SECRET_KEYS = frozenset({"key", "pkey", "key_data"})


def masked(host: Host) -> dict[str, Any]:
    """`host` as hvbridge sees it (inheritance resolved), secrets and key material as MASK."""
    values = resolve(host)
    attributes = {
        name: getattr(tagged, "value", None) for name, tagged in values.attributes.items()
    }
    resolved: dict[str, Any] = {
        "name": host.name,
        "groups": [group.name for group in host.groups],
        **attributes,
        "data": values.values(),
        "connection_options": {CONNECTION: values.connection_values()},
    }
    masked_value: dict[str, Any] = mask(resolved)
    return masked_value


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SECRET_KEYS or any(word in lowered for word in _SECRET_WORDS)


def mask(value: Any, key: str = "") -> Any:
    """A copy of `value` with secrets replaced; the inventory's own objects stay as they are."""
    if value is not None and _is_secret(key):
        return MASK
    if isinstance(value, dict):
        return {item_key: mask(item, str(item_key)) for item_key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    if isinstance(value, str) and "PRIVATE KEY" in value:
        return MASK
    if isinstance(value, Hop):
        return str(value)  # a jump host resolved from the inventory (hvbridge.inventory.jumps)
    return value
