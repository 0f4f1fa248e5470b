"""What a gateway's silence means around a guarded restart: pure, no I/O.

A host whose default gateway answered before the change must have one that answers
after it: the planned gateway must answer then, whether or not it answered before
(it may be a new one). A planned gateway that answers neither before nor after is a
warning (some sites drop ICMP), and so is any silence on a bridge with
`verify_gateway: false`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hvbridge.netstate import NetState


@dataclass(frozen=True)
class Planned:
    gateway: str
    bridge: str
    verify: bool  # the bridge's `verify_gateway`


@dataclass(frozen=True)
class Verdict:
    problems: list[str]
    warnings: list[str]


def planned(model: Any) -> list[Planned]:
    """The static default gateways the inventory plans (a DHCP one is not known ahead)."""
    return [
        Planned(str(bridge.gateway), name, bool(getattr(bridge, "verify_gateway", True)))
        for name, bridge in getattr(model, "bridges", {}).items()
        if bridge.gateway is not None and bridge.defroute
    ]


def old_default(state: NetState) -> str | None:
    """The gateway of the default route the kernel uses now (lowest metric)."""
    defaults = [route for route in state.routes if route.dst == "default" and route.gateway]
    best = min(defaults, key=lambda route: route.metric, default=None)
    return str(best.gateway) if best is not None else None


def to_probe(plan: list[Planned], old: str | None) -> list[str]:
    """Each gateway once: the planned ones, then the old default one."""
    wanted = [p.gateway for p in plan] + ([old] if old else [])
    return list(dict.fromkeys(wanted))


def judge(
    plan: list[Planned], old: str | None, answered_before: set[str], silent_after: set[str]
) -> Verdict:
    problems: list[str] = []
    warnings: list[str] = []
    old_answered = old is not None and old in answered_before
    for p in plan:
        if p.gateway not in silent_after:
            continue
        if not p.verify:
            warnings.append(
                f"gateway {p.gateway} does not answer ping after the restart"
                f" (not checked: verify_gateway is false for {p.bridge})"
            )
        elif p.gateway in answered_before:
            problems.append(f"gateway {p.gateway} answered ping before the change, not after")
        elif old_answered:
            problems.append(
                f"the planned default gateway {p.gateway} ({p.bridge}) does not answer ping,"
                f" and the old default gateway {old} answered before the change"
            )
        else:
            warnings.append(
                f"gateway {p.gateway} answered no ping, neither before nor after the restart"
            )
    return Verdict(problems, warnings)
