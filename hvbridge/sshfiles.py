"""The controller's SSH files, read before anything connects: keys, known_hosts, ssh_config.

A missing key or known_hosts file, or a line of known_hosts that paramiko cannot read
(it raises `binascii.Error: Incorrect padding` naming no file, or skips the line and the
host's key becomes "unknown"), is an input error found at load, naming the file and the
line, not a failure after a TCP connection was opened. Each file is read once however
many hosts use it.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
from paramiko.hostkeys import HostKeyEntry, HostKeys, InvalidHostKey

# The markers of OpenSSH's known_hosts that paramiko does not implement.
_MARKERS = {
    "@cert-authority": "paramiko does not check host certificates: list the host's own key",
    "@revoked": "paramiko ignores revocations, so the revoked key would be trusted: remove"
    " the key from the hosts' lines instead",
}


@dataclass(frozen=True)
class KnownKey:
    line: int
    names: tuple[str, ...]
    key: paramiko.PKey


def known_hosts_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each line that holds an entry, numbered from 1; blank lines and comments skipped."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.strip()
            if line and not line.startswith("#"):
                yield number, line


def known_hosts_problems(path: Path) -> list[str]:
    """Each line of `path` that paramiko would fail on or silently skip, as `FILE line N: why`."""
    try:
        lines = list(known_hosts_lines(path))
    except OSError as exc:
        return [f"{path}: cannot read it: {exc.strerror or exc}"]
    problems = []
    for number, line in lines:
        why = _line_problem(line)
        if why is not None:
            problems.append(f"{path} line {number}: {why}")
    return problems


def _line_problem(line: str) -> str | None:
    fields = line.split()
    if fields[0] in _MARKERS:
        return f"{fields[0]} is not supported ({_MARKERS[fields[0]]})"
    if len(fields) < 3:
        return "want `host[,host...] key-type base64-key`"
    try:
        entry = HostKeyEntry.from_line(" ".join(fields[:3]))
    except InvalidHostKey as exc:
        return f"the {fields[1]} key is not valid base64 ({_why(exc)})"
    except (paramiko.SSHException, ValueError, binascii.Error) as exc:
        return f"the {fields[1]} key cannot be read ({_why(exc)})"
    # None: a key type paramiko does not know; OpenSSH may, and the line is harmless.
    return None if entry is not None or fields[1] not in _KEY_TYPES else "unreadable key"


_KEY_TYPES = frozenset(
    {"ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"}
)


def _why(exc: BaseException) -> str:
    inner = exc.args[1] if isinstance(exc, InvalidHostKey) and len(exc.args) > 1 else exc
    return str(inner) or type(inner).__name__


def known_key_line(path: Path, host: str, key_type: str) -> int | None:
    """The line of `path` that holds `host`'s key of `key_type` (hashed names too)."""
    try:
        for number, line in known_hosts_lines(path):
            fields = line.split()
            if len(fields) >= 3 and fields[1] == key_type and _names_match(fields[0], host):
                return number
    except OSError:
        return None
    return None


def _names_match(names: str, host: str) -> bool:
    for name in names.split(","):
        # `|1|salt|hash`: OpenSSH's HashKnownHosts form.
        if name == host or (name.startswith("|1|") and HostKeys.hash_host(host, name) == name):
            return True
    return False


def key_problem(path: Path) -> str | None:
    """Why the private key at `path` cannot be used for a connection, or None."""
    try:
        paramiko.PKey.from_path(path)
    except (paramiko.PasswordRequiredException, TypeError):
        # TypeError: cryptography's word for an OpenSSH-format key with a passphrase.
        return "it is encrypted, and hvbridge asks for no passphrase: use a key without one"
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    except (paramiko.SSHException, ValueError) as exc:
        return f"not a private key paramiko can read ({exc})"
    return None


def collect(problems: Iterable[tuple[str, str]]) -> list[str]:
    """`(problem, host)` pairs as one line per problem, naming every host it concerns."""
    hosts: dict[str, list[str]] = {}
    for problem, host in problems:
        hosts.setdefault(problem, [])
        if host not in hosts[problem]:
            hosts[problem].append(host)
    return [
        f"{problem} (host{'s' if len(h) > 1 else ''} {', '.join(h)})"
        for problem, h in hosts.items()
    ]


def file_problems(
    key: Path | None, known_hosts: Path, accept_new: bool, cache: dict[tuple[str, Path], list[str]]
) -> list[str]:
    """What is wrong with the files one host's connection reads; `cache` keeps each file's
    findings across hosts."""
    if key is not None and ("key", key) not in cache:
        why = key_problem(key)
        cache[("key", key)] = [] if why is None else [f"{key}: SSH key: {why}"]
    if ("known", known_hosts) not in cache:
        cache[("known", known_hosts)] = _known_hosts_file(known_hosts, accept_new)
    return [*(cache[("key", key)] if key is not None else []), *cache[("known", known_hosts)]]


def _known_hosts_file(path: Path, accept_new: bool) -> list[str]:
    if path.exists():
        return known_hosts_problems(path)
    if accept_new and path.parent.is_dir():
        return []  # accept_new records the first keys there
    return [
        f"{path}: known_hosts: no such file (every host key would be unknown; write the"
        " hosts' keys there, or set accept_new to record them)"
    ]
