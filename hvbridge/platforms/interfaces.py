"""ifupdown's `/etc/network/interfaces(5)`, read as ifupdown reads it: pure, no I/O.

What hvbridge needs of it: the files ifupdown reads (the `source` and `source-directory`
lines, followed by a shell on the host, see `DUMP_COMMAND`), the stanzas in each, and a
file with one interface's `iface` stanzas taken out and every other byte left as it was.

The grammar (interfaces(5), ifupdown 0.8): a line whose first non-blank character is `#`
is a comment; a line ending in a backslash goes on on the next one; a stanza starts with
one of `STANZA_WORDS` and an `iface` (or `mapping`) stanza owns the option lines after it,
up to the next stanza.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hvbridge.errors import ParseError

INTERFACES = "/etc/network/interfaces"
MARK = "@@hvbridge-ifupdown@@"
STANZA_WORDS = frozenset(
    {"iface", "mapping", "auto", "rename", "source", "source-directory", "no-auto-down",
     "no-scripts"}
)  # fmt: skip
# Names `source-directory` includes (interfaces(5)).
_DIRECTORY_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")

# Shell printing each file ifupdown reads, from /etc/network/interfaces through every
# `source` (shell wildcards) and `source-directory` (names as above), each once:
# `MARK file PATH`, the content, a newline, `MARK end`. Relative paths are relative to
# the including file's directory, as ifupdown takes them.
DUMP_COMMAND = f"""m={MARK}; seen=
dump() {{
    local dir kind pattern d f
    case "$seen " in *" $1 "*) return 0 ;; esac
    seen="$seen $1"
    [ -f "$1" ] || return 0
    printf '%s file %s\\n' "$m" "$1"; cat -- "$1"; printf '\\n%s end\\n' "$m"
    dir=${{1%/*}}
    sed -n -e 's/^[[:space:]]*source-directory[[:space:]]\\{{1,\\}}/D /p' \\
        -e 's/^[[:space:]]*source[[:space:]]\\{{1,\\}}/F /p' -- "$1" |
    while read -r kind pattern; do
        case "$pattern" in /*) ;; *) pattern="$dir/$pattern" ;; esac
        if [ "$kind" = D ]; then
            for d in $pattern; do
                for f in "$d"/*; do
                    case "${{f##*/}}" in *[!A-Za-z0-9_-]*) ;; *) dump "$f" ;; esac
                done
            done
        else
            for f in $pattern; do dump "$f"; done
        fi
    done
}}
dump {INTERFACES}"""


class InterfacesError(ParseError, ValueError):
    pass


@dataclass(frozen=True)
class Stanza:
    path: str
    word: str  # iface, auto, source, ...
    args: tuple[str, ...]  # iface: name, family, method; auto: the names; source: the path
    options: tuple[tuple[str, str], ...]  # an iface stanza's option lines: name, words
    lines: tuple[int, ...]  # the physical lines it takes up, 0-based (comments not)

    @property
    def name(self) -> str:
        return self.args[0] if self.args else ""

    @property
    def family(self) -> str:
        return self.args[1] if len(self.args) > 1 else ""

    @property
    def method(self) -> str:
        return self.args[2] if len(self.args) > 2 else ""


def parse_dump(output: str) -> dict[str, str]:
    """What `DUMP_COMMAND` printed: path -> content, in the order ifupdown reads them."""
    files: dict[str, str] = {}
    header = f"{MARK} file "
    end = f"\n{MARK} end\n"
    rest = output
    while (start := rest.find(header)) >= 0:
        rest = rest[start + len(header) :]
        path, newline, rest = rest.partition("\n")
        stop = rest.find(end)
        if not newline or stop < 0:
            raise InterfacesError(f"cannot read the files ifupdown reads: {path!r} is cut short")
        files.setdefault(path, rest[:stop])
        rest = rest[stop + len(end) :]
    return files


def _logical_lines(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Each line that is not blank or a comment, continuations joined: its text and the
    physical lines it spans."""
    found: list[tuple[str, tuple[int, ...]]] = []
    pending: list[str] = []
    spans: list[int] = []
    for number, raw in enumerate(text.splitlines()):
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        spans.append(number)
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        found.append(("".join(pending), tuple(spans)))
        pending, spans = [], []
    if pending:
        found.append(("".join(pending), tuple(spans)))
    return found


def parse_stanzas(path: str, text: str) -> list[Stanza]:
    stanzas: list[Stanza] = []
    current: tuple[str, tuple[str, ...], list[tuple[str, str]], list[int]] | None = None

    def close() -> None:
        if current is not None:
            word, args, options, lines = current
            stanzas.append(Stanza(path, word, args, tuple(options), tuple(lines)))

    for line, spans in _logical_lines(text):
        word, *args = line.split()
        if word in STANZA_WORDS or word.startswith("allow-"):
            close()
            current = (word, tuple(args), [], list(spans))
            if word not in ("iface", "mapping"):
                close()
                current = None
        elif current is not None:
            # Its words, one space apart: a value continued on the next line reads as one.
            current[2].append((word, " ".join(args)))
            current[3].extend(spans)
        else:
            raise InterfacesError(f"{path}: option {word!r} outside an iface stanza")
    close()
    return stanzas


def without_ifaces(text: str, names: Iterable[str], path: str = INTERFACES) -> str:
    """`text` without the `iface` stanzas of `names` (their first line and their option
    lines); every other line, comments and blank lines among them, byte for byte."""
    wanted = set(names)
    drop = {
        line
        for stanza in parse_stanzas(path, text)
        if stanza.word == "iface" and stanza.name in wanted
        for line in stanza.lines
    }
    return "".join(line for n, line in enumerate(text.splitlines(keepends=True)) if n not in drop)


def _glob_matches(pattern: str, path: str) -> bool:
    """Whether the shell's wildcard `pattern` (absolute) names `path`: component by
    component, a leading dot matched only by a leading dot, as glob(3) does."""
    parts, names = pattern.split("/"), path.split("/")
    if len(parts) != len(names):
        return False
    return all(
        fnmatch.fnmatchcase(name, part) and (part.startswith(".") or not name.startswith("."))
        for part, name in zip(parts, names, strict=True)
    )


def sources(files: Mapping[str, str], path: str) -> bool:
    """Whether ifupdown reads `path` through a `source` or `source-directory` line of one
    of `files` (those it reads, as `parse_dump` gives them)."""
    for including, text in files.items():
        for stanza in parse_stanzas(including, text):
            if stanza.word not in ("source", "source-directory") or not stanza.args:
                continue
            pattern = stanza.args[0]
            if not pattern.startswith("/"):
                pattern = posixpath.join(posixpath.dirname(including), pattern)
            pattern = posixpath.normpath(pattern)
            if stanza.word == "source" and _glob_matches(pattern, path):
                return True
            directory, name = posixpath.split(path)
            if (
                stanza.word == "source-directory"
                and _glob_matches(pattern, directory)
                and _DIRECTORY_NAME.match(name)
            ):
                return True
    return False


def with_options(text: str, iface: str, options: Iterable[tuple[str, str]], path: str) -> str:
    """`text` with option lines added at the end of the `iface` stanza of `iface` (four
    spaces in, as hvbridge writes them)."""
    extra = "".join(f"    {name} {value}\n" for name, value in options)
    if not extra:
        return text
    stanza = next(
        (s for s in parse_stanzas(path, text) if s.word == "iface" and s.name == iface), None
    )
    if stanza is None:
        raise InterfacesError(f"{path}: no iface {iface} to add {extra.strip()!r} to")
    lines = text.splitlines(keepends=True)
    last = max(stanza.lines)
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines.insert(last + 1, extra)
    return "".join(lines)
