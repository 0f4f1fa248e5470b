"""Render a host's files from `templates/`: pure, no I/O but reading templates.

A platform names the directories under `templates/` to look in, in order, and the
filters its files need (each quotes a value the way the file's reader reads it, or
refuses it). A project's `templates/` is searched first, then the ones hvbridge ships
(hvbridge.shipped): a project overrides a shipped file by its name. Undefined names
are errors (StrictUndefined): no silent blanks.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from hvbridge import shipped
from hvbridge.errors import InputError

Filters = tuple[tuple[str, Callable[[Any], str]], ...]


class RenderError(InputError, ValueError):
    pass


@cache
def environment(templates: Path, search: tuple[str, ...], filters: Filters) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(
            [str(root / directory) for root in roots(templates) for directory in search]
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - network files, not HTML; values go through `filters`
    )
    env.filters.update(dict(filters))
    return env


def roots(templates: Path) -> list[Path]:
    """`templates`, then the shipped templates (once, when `templates` is them)."""
    found = [templates]
    if templates.resolve() != shipped.templates():
        found.append(shipped.templates())
    return found


def render(
    templates: Path, search: tuple[str, ...], template: str, filters: Filters = (), **context: Any
) -> str:
    try:
        return environment(templates, search, filters).get_template(template).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"no template {template} in {templates}/{{{','.join(search)}}}") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {template}: {exc.message}") from exc
