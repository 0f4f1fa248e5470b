"""The inventory files as YAML, before Nornir reads them: syntax (with line and column),
shape, unknown keys (SimpleInventory would drop them silently), group references and loops
(Nornir would crash or recurse forever on them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hvbridge.inventory.loops import first_loop
from hvbridge.inventory.models import CONNECTION, DEFAULTS_KEYS, ELEMENT_KEYS, OPTION_KEYS
from hvbridge.inventory.problems import name as _name
from hvbridge.inventory.problems import path as _path
from hvbridge.inventory.problems import show as _show
from hvbridge.inventory.problems import suggestion as _suggestion
from hvbridge.validators import inventory_name

HOSTS_FILE = "hosts.yaml"
GROUPS_FILE = "groups.yaml"
DEFAULTS_FILE = "defaults.yaml"
_BOOL = "tag:yaml.org,2002:bool"


@dataclass
class Survey:
    directory: Path
    # Nornir would crash on these, or loop forever: nothing more can be checked.
    blocking: list[str] = field(default_factory=list)
    # Nornir would silently ignore these.
    ignored: list[str] = field(default_factory=list)

    def file(self, name: str) -> Path:
        return self.directory / name


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, seeing the shapes SimpleInventory's loader (ruamel.yaml, YAML
    1.2) sees: a duplicate key is an error, not a silent overwrite, and only true/false are
    booleans (in YAML 1.1 a host or key named `on`, `off`, `yes` or `no` would be one)."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's own class attribute)
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<` merges may override keys
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # an unhashable key: PyYAML's own error says so below
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _read_yaml(survey: Survey, name: str, *, required: bool) -> object:
    path = survey.file(name)
    if not path.exists():
        if required:
            survey.blocking.append(f"{path}: file not found")
        return None
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.load(stream, Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        survey.blocking.append(f"{path}: {_yaml_error(exc)}")
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        survey.blocking.append(f"{path}: {exc}")
    return None


def _yaml_error(exc: yaml.MarkedYAMLError) -> str:
    text = _at(exc.problem_mark, exc.problem or "invalid YAML")
    if exc.context:
        # Where the unfinished construct began: often the line to fix.
        text += f" ({_at(exc.context_mark, exc.context)})"
    return text


def _at(mark: yaml.Mark | None, what: str) -> str:
    return what if mark is None else f"line {mark.line + 1}, column {mark.column + 1}: {what}"


def _top_mapping(survey: Survey, name: str, content: object, what: str) -> dict[Any, Any]:
    if content is None:
        return {}
    if not isinstance(content, dict):
        kind = type(content).__name__
        survey.blocking.append(f"{survey.file(name)}: must be a mapping of {what}, not a {kind}")
        return {}
    return content


def _survey_element(
    survey: Survey, where: str, entry: object, allowed: frozenset[str], groups: Mapping[Any, Any]
) -> None:
    if not isinstance(entry, dict):
        survey.blocking.append(f"{where}: must be a mapping, not {_show(entry)}")
        return
    for key in entry:
        if key not in allowed:
            survey.ignored.append(f"{where}: {_path((str(key),))}: unknown key{_suggestion(key)}")
    data = entry.get("data")
    if data is not None and not isinstance(data, dict):
        survey.blocking.append(f"{where}: data: must be a mapping, not {_show(data)}")
    if "groups" in allowed:
        _survey_parents(survey, where, entry.get("groups"), groups)
    _survey_connections(survey, where, entry.get("connection_options"))


def _survey_parents(survey: Survey, where: str, parents: object, groups: Mapping[Any, Any]) -> None:
    if parents is None:
        return
    if not isinstance(parents, list) or not all(isinstance(name, str) for name in parents):
        survey.blocking.append(f"{where}: groups: must be a list of group names")
        return
    for index, name in enumerate(parents):
        if name not in groups:
            survey.blocking.append(
                f"{where}: groups[{index}]: group {name!r} is not defined in {GROUPS_FILE}"
            )


def _survey_connections(survey: Survey, where: str, options: object) -> None:
    if options is None:
        return
    if not isinstance(options, dict):
        survey.blocking.append(f"{where}: connection_options: must be a mapping")
        return
    for name, value in options.items():
        path = _path(("connection_options", str(name)))
        if name != CONNECTION:
            survey.ignored.append(f"{where}: {path}: unknown connection (only {CONNECTION})")
        if not isinstance(value, dict):
            survey.blocking.append(f"{where}: {path}: must be a mapping")
            continue
        for key in value:
            if key not in OPTION_KEYS:
                survey.ignored.append(
                    f"{where}: {path}.{_path((str(key),))}: unknown key{_suggestion(key)}"
                )


def _survey_names(survey: Survey, name: str, entries: Mapping[Any, Any], kind: str) -> None:
    for entry_name in entries:
        try:
            inventory_name(entry_name if isinstance(entry_name, str) else "")
        except ValueError:
            survey.blocking.append(
                f"{survey.file(name)}: {kind} {_name(entry_name)}: not a valid {kind} name"
                " (A-Z a-z 0-9 _ . -, starting with a letter or digit)"
            )


def _survey_group_loops(survey: Survey, groups: Mapping[Any, Any]) -> None:
    parents = {
        name: entry["groups"]
        for name, entry in groups.items()
        if isinstance(entry, dict) and isinstance(entry.get("groups"), list)
    }
    reported: set[frozenset[str]] = set()
    for name in parents:
        loop = first_loop([name], parents)
        if loop is not None and frozenset(loop) not in reported:
            reported.add(frozenset(loop))
            survey.blocking.append(
                f"{survey.file(GROUPS_FILE)}: groups form a loop: {' -> '.join(loop)}"
            )


def survey_files(directory: Path) -> Survey:
    """Every problem in the files of the SimpleInventory in `directory` that stops Nornir
    (`blocking`) or that Nornir would silently ignore (`ignored`)."""
    survey = Survey(directory)
    if not directory.is_dir():
        survey.blocking.append(f"{directory}: not a directory")
        return survey
    hosts = _top_mapping(
        survey, HOSTS_FILE, _read_yaml(survey, HOSTS_FILE, required=True), "host names to hosts"
    )
    groups = _top_mapping(
        survey,
        GROUPS_FILE,
        _read_yaml(survey, GROUPS_FILE, required=False),
        "group names to groups",
    )
    defaults = _read_yaml(survey, DEFAULTS_FILE, required=False)
    if survey.blocking:
        return survey
    if not hosts:
        survey.blocking.append(f"{survey.file(HOSTS_FILE)}: defines no hosts")
    _survey_names(survey, HOSTS_FILE, hosts, "host")
    _survey_names(survey, GROUPS_FILE, groups, "group")
    for name, entry in hosts.items():
        where = f"{survey.file(HOSTS_FILE)}: host {_name(name)}"
        _survey_element(survey, where, entry, ELEMENT_KEYS, groups)
    for name, entry in groups.items():
        where = f"{survey.file(GROUPS_FILE)}: group {_name(name)}"
        _survey_element(survey, where, entry, ELEMENT_KEYS, groups)
    if defaults is not None:
        where = str(survey.file(DEFAULTS_FILE))
        _survey_element(survey, where, defaults, DEFAULTS_KEYS, groups)
    _survey_group_loops(survey, groups)
    return survey
