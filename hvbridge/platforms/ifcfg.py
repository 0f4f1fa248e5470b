"""Read EL6 `ifcfg-*` files without a shell.

initscripts `source` these files with bash. We accept the subset that bash
would read as plain assignments (`KEY=value`, `KEY="value"`, `KEY='value'`,
comments, blank lines) and refuse everything that would make bash run or
expand something, so that a value means the same here as on the host.
"""

from __future__ import annotations

import io
import re
import shlex
from decimal import Decimal
from typing import Any

from hvbridge.errors import ParseError
from hvbridge.render import RenderError

__all__ = [
    "IfcfgError",
    "device_order_key",
    "ifcfg_value",
    "ignored_config_name",
    "parse_ifcfg",
]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Characters that make bash expand, redirect or run something. They are refused even inside
# quotes, where some of them would be literal: no ifcfg key needs them, and a value that
# looks like code is a mistake or an attack either way.
_SHELL_SPECIALS = frozenset("$`;&|<>()~")
_CONFIG_PREFIX = "ifcfg-"
# initscripts' is_ignored_file(): editor backups and rpm leftovers.
_BACKUP_SUFFIXES = ("~", ".bak", ".orig", ".rpmnew", ".rpmorig", ".rpmsave")
# What bash reads back unchanged, bare or inside double quotes.
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+,-]+$")
_QUOTABLE = re.compile(r"^[ A-Za-z0-9_.:/@+,=%-]+$")
_ORDER = re.compile(r"(?P<prefix>[^0-9]*)(?P<number>[0-9]+(?:\.[0-9]+)?)?")


class IfcfgError(ParseError, ValueError):
    """A line of an ifcfg file that bash would not read as a plain assignment."""

    def __init__(self, source: str, line_no: int, message: str) -> None:
        super().__init__(f"{source}, line {line_no}: {message}")
        self.source = source
        self.line_no = line_no
        self.reason = message


def parse_ifcfg(text: str, source: str) -> dict[str, str]:
    """Return the variables the file assigns, the last assignment of a key winning.

    `source` names the file in error messages.
    """
    values: dict[str, str] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, rest = line.partition("=")
        if not sep:
            raise IfcfgError(source, line_no, f"expected KEY=value, got {line!r}")
        if not _KEY.fullmatch(key):
            raise IfcfgError(source, line_no, f"invalid variable name {key!r}")
        try:
            values[key] = _unquote(rest)
        except ValueError as exc:
            raise IfcfgError(source, line_no, f"{key}: {exc}") from None
    return values


def _unquote(rest: str) -> str:
    value, end = _first_word(rest)
    specials = sorted(_SHELL_SPECIALS.intersection(rest[:end]))
    if specials:
        raise ValueError(f"shell syntax {''.join(specials)!r} is not supported")
    trailing = rest[end:].strip()
    # bash would run anything after the first word as a command, with the assignment
    # in its environment; only a comment may follow.
    if trailing and not trailing.startswith("#"):
        raise ValueError(f"unexpected text after the value: {trailing!r}")
    return value


def _first_word(rest: str) -> tuple[str, int]:
    """Return the first shell word of `rest`, unquoted, and where it ends in `rest`."""
    if not rest or rest[0].isspace():
        return "", 0
    stream = io.StringIO(rest)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split = True
    # Only a `#` that starts a word opens a comment in bash; the caller handles that case.
    lexer.commenters = ""
    try:
        word = lexer.get_token()
    except ValueError as exc:
        raise ValueError(f"unbalanced quotes or backslash ({str(exc).lower()})") from None
    return word or "", stream.tell()


def ifcfg_value(value: Any) -> str:
    """A value as initscripts (which `source` the file) read it back unchanged."""
    text = str(value)
    if _BARE.match(text):
        return text
    if _QUOTABLE.match(text):
        return f'"{text}"'
    raise RenderError(f"value {text!r} cannot be written safely to an ifcfg file")


def ignored_config_name(filename: str) -> bool:
    """Whether `service network` would leave this file alone.

    Besides initscripts' backups and rpm leftovers, alias (`ifcfg-eth0:1`) and range
    (`ifcfg-eth0-range0`) files count as ignored: the lab does not support them.
    """
    if not filename.startswith(_CONFIG_PREFIX) or filename == _CONFIG_PREFIX:
        return True
    suffix = filename[len(_CONFIG_PREFIX) :]
    return filename.endswith(_BACKUP_SUFFIXES) or ":" in suffix or "-range" in suffix


def device_order_key(name: str) -> tuple[str, Decimal, str]:
    """Sort key giving EL6's order of interfaces.

    EL6 puts a space before the first digit and runs `LANG=C sort -k 1,1 -k 2n`: the
    letters before the first digit compare as text, the rest as a (decimal) number, and
    the whole name breaks ties.
    """
    match = _ORDER.match(name)
    assert match is not None  # every part of the pattern may be empty
    number = match.group("number")
    return match.group("prefix"), Decimal(number or "0"), name
