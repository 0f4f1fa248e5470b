"""`--limit`: which hosts of the inventory a run touches, by name, group or data.

A limit is a list of terms separated by commas; whitespace around a term is ignored, and
several `--limit` options add their terms to one list. Like Ansible's host patterns:

- a plain term adds hosts: the selection starts from the union of the plain terms, or
  from every host when there is none;
- `&term` keeps only the hosts that also match it (intersection);
- `!term` removes the hosts that match it (exclusion).

Intersections apply after the union and exclusions last, whatever order they are written
in. The result keeps the inventory's order. A term is one of:

| term                       | matches the hosts                                          |
|----------------------------|------------------------------------------------------------|
| `hv01`                     | named hv01                                                 |
| `hv0*`, `hv1[0-9]`         | whose name matches the glob (`*`, `?`, `[...]`, `[!...]`)  |
| `@rack1`                   | in group rack1, directly or through a child group of it    |
| `platform=el6`             | whose value at that path is that text                      |
| `libvirt.edit_mode!=file`  | whose value at that path is not that text                  |

Examples:

```
--limit hv01,hv02                          two hosts
--limit '@lab,!hv01'                       the lab without hv01
--limit '@rack1,&platform=el7'             rack1's EL7 hosts
--limit 'hv0*,!@rack2'                     hosts named hv0..., none of rack2
--limit libvirt.edit_mode=file             hosts whose guests are edited in their XML files
--limit 'bridges.br0.bootproto=dhcp,!@canary'      br0 on DHCP, except the canary group
--limit bridges=br1                        hosts that have a bridge br1
--limit guests.web.example.com.interfaces.bridge=br0   hosts whose guest web.example.com
                                                       has an interface on br0
```

A path names a field of the host as the inventory validated it: `platform`, `name`,
`nics`, `bridges`, `guests`, `libvirt`, `connection`, and their fields below (as in
inventory/README), with every default filled in, so `libvirt.edit_mode=define` matches
the hosts that do not set it. Values compare as text, case-sensitively: `true`/`false`
for yes/no values, `null` for an unset one (`bridges.br0.mtu=null`). Under `nics`,
`bridges` and `guests` the next part of the path is a name, which may contain dots (the
path goes on at the first part that is a field). A path that ends at a list or at
`nics`/`bridges`/`guests` matches when any element or name is the value
(`bridges.br0.ports=eth1`, `guests=web`); a path that goes through a list matches when
any element does (`guests.web.interfaces.model=e1000`). `key!=value` selects exactly the
hosts that `key=value` does not, hosts without the key among them.

Everything is checked before a host is contacted: a path that is not a field, a name
without glob characters that is not a host, a glob that matches no host, an unknown group
and a limit that selects nothing are errors; a typo in a `!` term must not silently let a
host through.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Annotated, Any, Union, get_args, get_origin

from nornir.core.filter import F
from nornir.core.inventory import Host
from pydantic import BaseModel, SecretStr

from hvbridge.errors import InputError
from hvbridge.inventory import HostModel, LoadedInventory

__all__ = [
    "DataTerm",
    "GroupTerm",
    "LimitError",
    "LimitExpr",
    "NameTerm",
    "Term",
    "parse_limit",
    "select",
]

_GLOB_CHARS = frozenset("*?[")
_NAME = re.compile(r"[A-Za-z0-9_.*?\[\]!-]+", re.ASCII)
_GROUP = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*", re.ASCII)
_PATH_PART = re.compile(r"[A-Za-z0-9_+-]+", re.ASCII)
_TERM_KINDS = "a host name, a glob, @group or key=value"


class LimitError(InputError, ValueError):
    """A `--limit` that cannot be used: one line per problem, each quoting the limit."""


@dataclass(frozen=True)
class NameTerm:
    """A host name, or an fnmatch glob of host names."""

    pattern: str

    @property
    def is_glob(self) -> bool:
        return not _GLOB_CHARS.isdisjoint(self.pattern)

    def __str__(self) -> str:
        return self.pattern


@dataclass(frozen=True)
class GroupTerm:
    """The hosts of a Nornir group, including those of its child groups."""

    group: str

    def __str__(self) -> str:
        return f"@{self.group}"


@dataclass(frozen=True)
class DataTerm:
    """A value of the validated host, compared as text."""

    # One element per level of the host's model; a name under nics/bridges/guests is one
    # element even when it contains dots.
    path: tuple[str, ...]
    value: str
    negated: bool = False

    def __str__(self) -> str:
        return f"{'.'.join(self.path)}{'!=' if self.negated else '='}{self.value}"


Term = NameTerm | GroupTerm | DataTerm


@dataclass(frozen=True)
class LimitExpr:
    """A parsed limit: (union of `union`, or all hosts) & each `intersect` - each `exclude`."""

    text: str
    union: tuple[Term, ...] = ()
    intersect: tuple[Term, ...] = ()
    exclude: tuple[Term, ...] = ()

    @property
    def terms(self) -> tuple[Term, ...]:
        return (*self.union, *self.intersect, *self.exclude)


# ---------------------------------------------------------------------------------------------
# Parsing: the syntax, and data paths against the host model. No inventory needed.


def parse_limit(text: str | Sequence[str]) -> LimitExpr:
    """Parse `--limit` text; a list (several `--limit` options) is joined with commas.

    Raises LimitError for an empty limit or term, a term that is none of the kinds, and a
    data path that is not a field of a host. Names and groups are checked by `select`.
    """
    joined = text if isinstance(text, str) else ",".join(text)
    if not joined.strip():
        raise LimitError("--limit is empty: give host names, globs, @groups or key=value")
    parts: dict[str, list[Term]] = {"": [], "&": [], "!": []}
    problems: list[str] = []
    for number, raw in enumerate(joined.split(","), start=1):
        try:
            prefix, term = _parse_term(raw.strip())
        except ValueError as exc:
            problems.append(f"--limit {joined!r}: term {number} {raw.strip()!r}: {exc}")
            continue
        parts[prefix].append(term)
    if problems:
        raise LimitError("\n".join(problems))
    return LimitExpr(joined, tuple(parts[""]), tuple(parts["&"]), tuple(parts["!"]))


def _parse_term(raw: str) -> tuple[str, Term]:
    if not raw:
        raise ValueError("empty (two commas in a row, or a comma at an end)")
    prefix = raw[0] if raw[0] in "&!" else ""
    body = raw[len(prefix) :].strip()
    if not body:
        raise ValueError(f"{prefix!r} needs a term after it")
    if body[0] in "&!":
        raise ValueError("one of & and ! per term")
    if body.startswith("@"):
        return prefix, _group_term(body[1:])
    if "=" in body:
        return prefix, _data_term(body)
    if not _NAME.fullmatch(body):
        raise ValueError(f"not {_TERM_KINDS}")
    return prefix, NameTerm(body)


def _group_term(name: str) -> GroupTerm:
    if not _GROUP.fullmatch(name):
        raise ValueError("@ is followed by a group name (A-Z a-z 0-9 _ . -)")
    return GroupTerm(name)


def _data_term(body: str) -> DataTerm:
    key, _, value = body.partition("=")
    negated = key.endswith("!")
    key = key.removesuffix("!").strip()
    value = value.strip()
    if not key or not value:
        raise ValueError("key=value needs a key and a value")
    parts = key.split(".")
    if not all(_PATH_PART.fullmatch(part) for part in parts):
        raise ValueError(f"{key!r} is not a path such as libvirt.edit_mode")
    return DataTerm(_resolve(HostModel, parts, ()), value, negated)


def _resolve(kind: Any, parts: Sequence[str], done: tuple[str, ...]) -> tuple[str, ...]:
    """`parts` checked against the type `kind` found at path `done`; mapping keys joined."""
    kind = _bare(kind)
    if get_origin(kind) is list:
        # Through a list, a path applies to every element.
        return _resolve(get_args(kind)[0], parts, done)
    if not parts:
        _check_end(kind, done)
        return done
    if _is_model(kind):
        return _resolve_field(kind, parts, done)
    if get_origin(kind) is dict:
        item = _bare(get_args(kind)[1])
        length = _key_length(item, parts)
        return _resolve(item, parts[length:], (*done, ".".join(parts[:length])))
    raise ValueError(f"{_shown(done)} is a single value: it has no field {parts[0]!r}")


def _resolve_field(
    model: type[BaseModel], parts: Sequence[str], done: tuple[str, ...]
) -> tuple[str, ...]:
    name = parts[0]
    fields = model.model_fields
    if name not in fields:
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"fields: {', '.join(fields)}"
        where = f"in {_shown(done)}" if done else "of a host"
        raise ValueError(f"{name!r} is not a field {where} ({hint})")
    return _resolve(fields[name].annotation, parts[1:], (*done, name))


def _key_length(item: Any, parts: Sequence[str]) -> int:
    """How many parts a name under nics/bridges/guests takes: up to the first field.

    With no field after it, the name is taken as one part, so that a misspelt field is
    reported as such (`bridges.br0.bootprot`), not as part of a name.
    """
    fields = item.model_fields if _is_model(item) else {}
    for length in range(1, len(parts)):
        if parts[length] in fields:
            return length
    return 1


def _check_end(kind: Any, done: tuple[str, ...]) -> None:
    if _is_model(kind):
        fields = ", ".join(f"{_shown(done)}.{name}" for name in kind.model_fields)
        raise ValueError(f"{_shown(done)} has several fields; name one: {fields}")
    if kind is SecretStr:
        raise ValueError(f"{_shown(done)} is a secret: it cannot select hosts")


def _bare(kind: Any) -> Any:
    """`kind` without Annotated's constraints and without `| None`."""
    while True:
        origin = get_origin(kind)
        if origin is Annotated:
            kind = get_args(kind)[0]
        elif origin in (Union, types.UnionType):
            others = [arg for arg in get_args(kind) if arg is not type(None)]
            if len(others) != 1:
                return kind
            kind = others[0]
        else:
            return kind


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _shown(path: tuple[str, ...]) -> str:
    return ".".join(path)


# ---------------------------------------------------------------------------------------------
# Selecting from an inventory.

Predicate = Callable[[Host], bool]


def select(expr: LimitExpr, inventory: LoadedInventory) -> list[str]:
    """The names of the hosts `expr` selects, in inventory order.

    Raises LimitError, naming every bad term at once, for a name that is not a host, a
    glob that matches no host, an unknown group, and a limit that selects no host.
    """
    problems = [
        f"--limit {expr.text!r}: {problem}"
        for term in expr.terms
        if (problem := _problem(term, inventory)) is not None
    ]
    if problems:
        raise LimitError("\n".join(problems))
    union = [_predicate(term, inventory) for term in expr.union]
    intersect = [_predicate(term, inventory) for term in expr.intersect]
    exclude = [_predicate(term, inventory) for term in expr.exclude]
    selected = [
        name
        for name, host in inventory.inventory.hosts.items()
        if (not union or any(match(host) for match in union))
        and all(match(host) for match in intersect)
        and not any(match(host) for match in exclude)
    ]
    if not selected:
        raise LimitError(f"--limit {expr.text!r} matches no host")
    return selected


def _problem(term: Term, inventory: LoadedInventory) -> str | None:
    hosts = inventory.inventory.hosts
    groups = inventory.inventory.groups
    if isinstance(term, GroupTerm) and term.group not in groups:
        known = ", ".join(groups) or "none"
        return f"no group {term.group!r} in the inventory (groups: {known})"
    if not isinstance(term, NameTerm):
        return None
    if term.is_glob:
        if any(fnmatchcase(name, term.pattern) for name in hosts):
            return None
        return f"{term.pattern!r} matches no host in the inventory"
    if term.pattern in hosts:
        return None
    if term.pattern in groups:
        return f"{term.pattern!r} is a group, not a host: write @{term.pattern}"
    close = _close_host(term.pattern, hosts)
    hint = f" (did you mean {close!r}?)" if close else ""
    return f"no host {term.pattern!r} in the inventory{hint}"


def _close_host(name: str, hosts: Iterable[str]) -> str | None:
    # Names compare case-sensitively, but HV01 for hv01 is the likeliest slip.
    by_case = {host.casefold(): host for host in hosts}
    if name.casefold() in by_case:
        return by_case[name.casefold()]
    close = difflib.get_close_matches(name, by_case.values(), n=1)
    return close[0] if close else None


def _predicate(term: Term, inventory: LoadedInventory) -> Predicate:
    if isinstance(term, NameTerm):
        return lambda host: fnmatchcase(host.name, term.pattern)
    if isinstance(term, GroupTerm):
        # Nornir's own test, so membership through a child group counts as Nornir sees it.
        return F(has_parent_group=term.group)
    return _data_predicate(term, inventory.models)


def _data_predicate(term: DataTerm, models: Mapping[str, HostModel]) -> Predicate:
    # Not an F(a__b=...) filter on Nornir's host: that sees only what the YAML files set,
    # while a default (libvirt.edit_mode: define) is as much the host's value. The
    # validated model, dumped as JSON types, has every value, addresses as text.
    def matches(host: Host) -> bool:
        found = _values(models[host.name].model_dump(mode="json"), term.path)
        return (term.value in map(_text, found)) != term.negated

    return matches


def _values(data: Any, path: Sequence[str]) -> list[Any]:
    """Every value at `path` in `data`: lists fan out, a mapping at the end gives its keys."""
    if isinstance(data, list):
        return [value for item in data for value in _values(item, path)]
    if not path:
        return list(data) if isinstance(data, dict) else [data]
    if isinstance(data, dict) and path[0] in data:
        return _values(data[path[0]], path[1:])
    return []


def _text(value: Any) -> str:
    """A value as an operator writes it in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        # shutdown_timeout: 60 is stored as 60.0.
        return str(int(value))
    return str(value)
