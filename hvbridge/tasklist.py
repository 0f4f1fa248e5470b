"""The tasks a runbook can name, with their arguments: what `hvbridge tasks` prints.

Read from the same signatures the runbook check uses (`hvbridge.runbook`): a task is
a public function of a module in the project's `tasks/` whose first parameter is
Nornir's `task`; its arguments are the parameters the engine does not pass itself.
Ranges and other constraints come from `Annotated` metadata, as pydantic reads them
(`Annotated[int, Field(ge=10, le=3600)]`, or annotated_types' `Ge`, `Interval`, ...).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvbridge.runbook import ENGINE_PARAMS, task_module, task_modules


@dataclass(frozen=True)
class Argument:
    name: str
    type: str
    default: str | None  # None: required
    constraints: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class TaskInfo:
    name: str  # MODULE.FUNCTION, as a runbook names it
    summary: str
    doc: str
    arguments: tuple[Argument, ...]


def tasks(tasks_dir: Path) -> list[TaskInfo]:
    """Every task a runbook may name (`tasks_dir`, then the shipped tasks), sorted by name."""
    found: list[TaskInfo] = []
    for stem in task_modules(tasks_dir):
        module = task_module(tasks_dir, stem)
        for name, func in sorted(vars(module).items()):
            if _is_task(name, func, module.__name__):
                found.append(describe(f"{stem}.{name}", func))
    return found


def _is_task(name: str, func: Any, module: str) -> bool:
    if name.startswith("_") or not inspect.isfunction(func) or func.__module__ != module:
        return False
    params = list(inspect.signature(func).parameters)
    return bool(params) and params[0] == "task"


def describe(name: str, func: Callable[..., Any]) -> TaskInfo:
    doc = inspect.getdoc(func) or ""
    hints = typing.get_type_hints(func, include_extras=True)
    arguments = []
    for param in inspect.signature(func).parameters.values():
        if param.name in ENGINE_PARAMS:
            continue
        hint = hints.get(param.name, Any)
        base, metadata = _unannotated(hint)
        constraints, description = _constraints(metadata)
        default = None if param.default is inspect.Parameter.empty else repr(param.default)
        arguments.append(
            Argument(param.name, type_name(base), default, tuple(constraints), description)
        )
    return TaskInfo(name, doc.split("\n\n")[0].replace("\n", " "), doc, tuple(arguments))


def _unannotated(hint: Any) -> tuple[Any, list[Any]]:
    if typing.get_origin(hint) is typing.Annotated:
        base, *metadata = typing.get_args(hint)
        return base, metadata
    return hint, []


def _flatten(metadata: list[Any]) -> Iterator[Any]:
    """Constraint objects one by one: pydantic's FieldInfo holds them in `.metadata`,
    annotated_types' GroupedMetadata (Interval, Len) yields them."""
    import annotated_types

    for item in metadata:
        if item is None:
            continue
        inner = getattr(item, "metadata", None)
        if isinstance(inner, list):  # pydantic.fields.FieldInfo
            yield item
            yield from _flatten(inner)
        elif isinstance(item, annotated_types.GroupedMetadata):
            yield from _flatten(list(item))
        else:
            yield item


_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _constraints(metadata: list[Any]) -> tuple[list[str], str | None]:
    import annotated_types as at

    bounds: dict[str, Any] = {}
    other: list[str] = []
    description = None
    for item in _flatten(metadata):
        if isinstance(getattr(item, "metadata", None), list):  # pydantic's FieldInfo
            description = getattr(item, "description", None) or description
        elif isinstance(item, at.Ge | at.Gt | at.Le | at.Lt):
            key = next(name for name in _BOUNDS if hasattr(item, name))
            bounds[key] = getattr(item, key)
        elif isinstance(item, at.MinLen):
            other.append(f"length >= {item.min_length}")
        elif isinstance(item, at.MaxLen):
            other.append(f"length <= {item.max_length}")
        elif isinstance(item, at.MultipleOf):
            other.append(f"multiple of {item.multiple_of}")
        elif type(item).__name__ == "Strict":  # pydantic's, a flag
            if getattr(item, "strict", False):
                other.append("strict")
        else:
            other.append(repr(item))
    return _range(bounds) + other, description


def _range(bounds: dict[str, Any]) -> list[str]:
    """`10 to 3600` for an inclusive range, else each bound as `> 0`, `<= 100`."""
    if set(bounds) == {"ge", "le"}:
        return [f"{bounds['ge']} to {bounds['le']}"]
    return [f"{_BOUNDS[key]} {value}" for key, value in sorted(bounds.items())]


def type_name(hint: Any) -> str:
    """A type as written in Python: `int`, `list[str]`, `str | None`, `'el6' | 'el7'`."""
    if hint is Any:
        return "any"
    if hint is type(None):
        return "None"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None and args:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(a) for a in args)}]"
    return getattr(hint, "__name__", str(hint).replace("typing.", ""))


def render(infos: list[TaskInfo]) -> str:
    """The text `hvbridge tasks` prints: each task, its summary, then one line per
    argument (type, default or `required`, constraints), then the rest of its doc."""
    blocks = []
    for info in infos:
        lines = [info.name + (f": {info.summary}" if info.summary else "")]
        if not info.arguments:
            lines.append("    (no arguments)")
        for arg in info.arguments:
            parts = [f"    {arg.name}: {arg.type}"]
            parts.append(f" = {arg.default}" if arg.default is not None else "  (required)")
            if arg.constraints:
                parts.append(f"  [{', '.join(arg.constraints)}]")
            if arg.description:
                parts.append(f"  {arg.description}")
            lines.append("".join(parts))
        rest = info.doc.split("\n\n", 1)[1] if "\n\n" in info.doc else ""
        lines += [f"    {line}".rstrip() for line in rest.splitlines()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
