"""Inventory problems and how they are shown: one line each, naming where the value is
defined (its file, when the inventory has files), the host and the field."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic_core import ErrorDetails

from hvbridge.errors import InputError
from hvbridge.inventory.models import KNOWN_KEYS
from hvbridge.validators import inventory_name

# A field's path inside a host: ("bridges", "br0", "ports", 1) is shown bridges.br0.ports[1].
Loc = tuple[str | int, ...]


class InventoryError(InputError):
    """The inventory cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Origin:
    """The inventory element that defines a value: the host itself, a group, or defaults."""

    kind: Literal["host", "group", "defaults"]
    group: str | None = None


HOST = Origin("host")
DEFAULTS = Origin("defaults")


def group_origin(name: str) -> Origin:
    return Origin("group", name)


@dataclass(frozen=True)
class InventoryFiles:
    """The files a SimpleInventory reads: messages name the one that defines a value."""

    hosts: Path
    groups: Path
    defaults: Path

    @classmethod
    def in_directory(cls, directory: Path) -> InventoryFiles:
        return cls(directory / "hosts.yaml", directory / "groups.yaml", directory / "defaults.yaml")

    def of(self, origin: Origin) -> Path:
        return {"host": self.hosts, "group": self.groups, "defaults": self.defaults}[origin.kind]


@dataclass(frozen=True)
class Problem:
    origin: Origin
    host: str
    loc: Loc
    message: str


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def path(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a bad mapping key: the key is named
            text += f".{name(part)}" if text else name(part)
    return text


def name(value: object) -> str:
    """A name as written when it is plain, else quoted: a newline in it must not split a line."""
    try:
        return inventory_name(value) if isinstance(value, str) else show(value)
    except ValueError:
        return show(value)


def suggestion(key: object) -> str:
    close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


_EXPECTED = {
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "list_type": "a list",
}


def message(error: ErrorDetails) -> str:
    """pydantic's error in the inventory's words."""
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown key" + suggestion(error["loc"][-1])
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {show(error['input'])}"
    return f"{error['msg']} (got {show(error['input'])})"


def render(problems: Sequence[Problem], files: InventoryFiles | None) -> list[str]:
    """One line per problem; a problem inherited by several hosts is one line naming them all.
    Without `files` (an inventory not read from files) a line starts with the host."""
    hosts_of: dict[tuple[Origin, str | None, Loc, str], list[str]] = {}
    for problem in problems:
        alone = problem.host if problem.origin == HOST else None
        key = (problem.origin, alone, problem.loc, problem.message)
        hosts_of.setdefault(key, []).append(problem.host)
    return [
        ": ".join(
            part
            for part in (
                str(files.of(origin)) if files is not None else "",
                _subject(origin, hosts),
                path(loc),
                text,
            )
            if part
        )
        for (origin, _, loc, text), hosts in hosts_of.items()
    ]


def _subject(origin: Origin, hosts: list[str]) -> str:
    subject = f"host {hosts[0]}" if len(hosts) == 1 else f"hosts {', '.join(hosts)}"
    if origin.kind == "group":
        return f"{subject} (inherited from group {origin.group})"
    if origin.kind == "defaults":
        return f"{subject} (inherited from defaults)"
    return subject
