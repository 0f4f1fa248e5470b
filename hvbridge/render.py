"""Render a host's files from the project's `templates/`: pure, no I/O but reading templates.

Templates are looked up in `templates/<platform>/` first, then `templates/common/`.
Undefined names are errors (StrictUndefined), and every value that lands in an
ifcfg file goes through `ifcfg_value`, which quotes it the way the shell reads it
or refuses it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from hvbridge.errors import InputError

SCRIPTS_DIR = "/etc/sysconfig/network-scripts"
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+,-]+$")
_QUOTABLE = re.compile(r"^[ A-Za-z0-9_.:/@+,=%-]+$")


class RenderError(InputError, ValueError):
    pass


def ifcfg_value(value: Any) -> str:
    """A value as initscripts (which `source` the file) read it back unchanged."""
    text = str(value)
    if _BARE.match(text):
        return text
    if _QUOTABLE.match(text):
        return f'"{text}"'
    raise RenderError(f"value {text!r} cannot be written safely to an ifcfg file")


@cache
def environment(templates: Path, platform: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(templates / platform), str(templates / "common")]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - ifcfg files, not HTML; values go through ifcfg_value
    )
    env.filters["ifcfg_value"] = ifcfg_value
    return env


def render(templates: Path, platform: str, template: str, **context: Any) -> str:
    try:
        return environment(templates, platform).get_template(template).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"no template {template} in {templates}/{{{platform},common}}") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {template}: {exc.message}") from exc


def ifcfg_files(templates: Path, platform: str, model: Any) -> dict[str, str]:
    """Every ifcfg file the host's bridges and NICs call for: path -> content."""
    port_of = {port: name for name, bridge in model.bridges.items() for port in bridge.ports}
    files: dict[str, str] = {}
    for name, bridge in model.bridges.items():
        files[f"{SCRIPTS_DIR}/ifcfg-{name}"] = render(
            templates, platform, "ifcfg-bridge.j2", name=name, bridge=bridge
        )
    for name, nic in model.nics.items():
        if name in port_of:
            content = render(
                templates, platform, "ifcfg-port.j2", name=name, nic=nic, bridge=port_of[name]
            )
        else:
            content = render(templates, platform, "ifcfg-nic.j2", name=name, nic=nic)
        files[f"{SCRIPTS_DIR}/ifcfg-{name}"] = content
    return files
