"""A bond's options against its mode: the bonding driver ignores an option its mode does
not use, so a value that would be silently dropped is refused instead."""

from __future__ import annotations

from hvbridge.inventory.models import HASHED_MODES, PRIMARY_MODES, BondModel, HostData
from hvbridge.inventory.problems import Loc

Finding = tuple[Loc, str]

# Modes whose whole point is to notice a dead link: with miimon 0 they never do.
_MONITORED_MODES = frozenset({"active-backup", "802.3ad"})


def _modes(modes: frozenset[str]) -> str:
    names = sorted(modes)
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def bond_options(data: HostData) -> list[Finding]:
    found: list[Finding] = []
    for name, bond in data.bonds.items():
        found += [(("bonds", name, key), text) for key, text in _options(name, bond)]
    return found


def _options(name: str, bond: BondModel) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    mode = bond.mode
    if bond.lacp_rate is not None and mode != "802.3ad":
        found.append(
            ("lacp_rate", f"only for mode 802.3ad ({name} is {mode}): the driver would ignore it")
        )
    if bond.xmit_hash_policy is not None and mode not in HASHED_MODES:
        found.append(
            (
                "xmit_hash_policy",
                f"only for modes {_modes(HASHED_MODES)} ({name} is"
                f" {mode}): the driver would ignore it",
            )
        )
    if bond.primary is not None:
        if mode not in PRIMARY_MODES:
            found.append(
                (
                    "primary",
                    f"only for modes {_modes(PRIMARY_MODES)} ({name} is"
                    f" {mode}): the driver would ignore it",
                )
            )
        elif bond.primary not in bond.slaves:
            found.append(
                (
                    "primary",
                    f"{bond.primary} is not one of {name}'s slaves ({', '.join(bond.slaves)})",
                )
            )
    if bond.miimon == 0 and mode in _MONITORED_MODES:
        found.append(
            (
                "miimon",
                f"0 turns link monitoring off: {name} ({mode}) would never"
                " notice a dead link and keep sending through it; use 100",
            )
        )
    return found
