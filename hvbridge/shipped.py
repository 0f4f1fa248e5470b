"""Where the tasks, templates and runbooks hvbridge ships are: the repository's top-level
`tasks/`, `templates/` and `runbooks/`, installed as `hvbridge.tasks`, `hvbridge.templates`
and `hvbridge.runbooks` (pyproject.toml maps them). Found through the import system, so
an editable install finds the repository's directories and a wheel its own copies."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

TASKS = "hvbridge.tasks"
TEMPLATES = "hvbridge.templates"
RUNBOOKS = "hvbridge.runbooks"


@cache
def directory(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{package} is not installed with hvbridge")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def tasks() -> Path:
    return directory(TASKS)


def templates() -> Path:
    return directory(TEMPLATES)


def runbooks() -> Path:
    return directory(RUNBOOKS)
