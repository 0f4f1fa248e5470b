"""Which devices a guarded restart's revert deletes: those the new files make that the host
does not have now, top down (bridges, then VLANs, then bonds)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hvbridge.apply import _new_devices
from hvbridge.netstate import Link, NetState


def _state(*names: str) -> NetState:
    links = tuple(Link(name, None, "UP", True, 1500, None, None) for name in names)
    return NetState(bridges=(), links=links, addresses=(), routes=())


def test_only_the_devices_the_host_lacks_now_top_down() -> None:
    model: Any = SimpleNamespace(
        bridges={"br100": None, "br0": None},
        vlans={"bond0.100": None},
        bonds={"bond0": None},
    )
    assert _new_devices(model, _state("lo", "eth0", "eth1")) == [
        "br100", "br0", "bond0.100", "bond0",
    ]  # fmt: skip
    # A rerun: what exists already stays, whatever the revert.
    assert _new_devices(model, _state("eth0", "br0", "bond0")) == ["br100", "bond0.100"]
