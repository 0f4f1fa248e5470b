"""Report documents as Markdown and HTML, from the project's `templates/report/`, then the
shipped ones (a project overrides a template by its name).

Templates named `*.html.j2` autoescape everything (diffs are full of `<interface ...>`
and `&`); Markdown ones do not, and escape table cells with `md_cell` instead.
Undefined names are errors (StrictUndefined), as in the network templates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from urllib.parse import quote

import jinja2

from hvbridge.errors import InputError
from hvbridge.render import roots
from hvbridge.report.model import HostReport, PortFacts, SummaryReport


class ReportRenderError(InputError):
    pass


def file_stem(host: str) -> str:
    """A host name as a file name and an HTML id: inventory names are free text, and
    "../x" must not escape the report directory."""
    stem = quote(host, safe="")
    return "%2E" + stem[1:] if stem.startswith(".") else stem


def md_cell(value: object) -> str:
    """A value inside a Markdown table cell: `|` would end the cell, a newline the row,
    `<` start raw HTML."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<")
    return "<br>".join(line.rstrip() for line in text.strip().splitlines())


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so a diff of a file
    holding a fence cannot close it early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def status_class(status: str) -> str:
    return "status-" + status.replace(" ", "-")


def diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def port_text(port: PortFacts) -> str:
    """A bridge port for the fleet table: its name, kind and MTU."""
    mtu = "" if port.mtu is None else f", MTU {port.mtu}"
    return f"{port.name} ({port.kind}{mtu})"


def delay_text(seconds: float | None) -> str:
    """A bridge's forward delay; `-` where it was not read."""
    return "-" if seconds is None else f"{seconds:g} s"


@cache
def _environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        # The project's report templates first, then the shipped ones.
        loader=jinja2.FileSystemLoader([str(root / "report") for root in roots(templates)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    )
    env.filters.update(
        md_cell=md_cell,
        fence=fence,
        status_class=status_class,
        diff_class=diff_class,
        duration=duration,
        file_stem=file_stem,
        port_text=port_text,
        delay_text=delay_text,
    )
    return env


def _render(templates: Path, name: str, **context: object) -> str:
    try:
        template = _environment(templates).get_template(name)
        return template.render(**context)
    except jinja2.TemplateNotFound as exc:
        where = " or ".join(str(root / "report") for root in roots(templates))
        raise ReportRenderError(f"no report template {name} in {where}") from exc
    except jinja2.UndefinedError as exc:
        raise ReportRenderError(f"report template {name}: {exc.message}") from exc


def host_markdown(templates: Path, report: HostReport) -> str:
    return _render(templates, "host.md.j2", report=report)


def summary_markdown(templates: Path, summary: SummaryReport) -> str:
    return _render(templates, "summary.md.j2", summary=summary)


def html(templates: Path, summary: SummaryReport, hosts: Mapping[str, HostReport]) -> str:
    return _render(templates, "report.html.j2", summary=summary, hosts=hosts)
