"""Files on a host: read over SFTP, write atomically with the old content kept.

Everything a run changes is recorded under the host's run directory
(`/var/lib/hvbridge/runs/<run-id>/`): `before/` holds each file as it was
before the run first wrote it, under its full path (`before/etc/sysconfig/...`),
`saved` lists those full paths, `created` lists the files the run made. That is
what a revert puts back, each file where it came from (a domain file never lands
among the network files), and what an operator can diff by hand.
"""

from __future__ import annotations

import posixpath
import secrets
import shlex
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from hvbridge.ssh import Connection, SSHError

STATE_DIR = "/var/lib/hvbridge"
# `.NAME.hvbridge-tmp` beside NAME: a leading dot keeps initscripts (which read
# network files) away from it.
TEMP_SUFFIX = ".hvbridge-tmp"


def run_dir(run_id: str) -> str:
    return f"{STATE_DIR}/runs/{run_id}"


@dataclass(frozen=True)
class RemoteFile:
    path: str
    content: str | None  # None: the file does not exist

    @property
    def exists(self) -> bool:
        return self.content is not None


def read(conn: Connection, path: str) -> RemoteFile:
    try:
        with conn.sftp().open(path, "r") as handle:
            return RemoteFile(path, handle.read().decode())
    except FileNotFoundError:
        return RemoteFile(path, None)
    except OSError as exc:
        raise SSHError(f"{conn.label}: cannot read {path}: {exc}") from exc


def is_socket(conn: Connection, path: str) -> bool:
    """Over SFTP: no program started on the host."""
    try:
        mode = conn.sftp().stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise SSHError(f"{conn.label}: cannot stat {path}: {exc}") from exc
    return mode is not None and stat.S_ISSOCK(mode)


def list_dir(conn: Connection, directory: str) -> list[str]:
    try:
        return sorted(
            entry.filename
            for entry in conn.sftp().listdir_attr(directory)
            if entry.st_mode is not None and stat.S_ISREG(entry.st_mode)
        )
    except FileNotFoundError:
        return []


def upload(conn: Connection, path: str, content: str, mode: int) -> None:
    """Put `content` at `path`, owned by root. A sudo user cannot write root's
    directories over SFTP: it stages the file in /tmp and installs it with sudo."""
    staged = _put(conn, path, content, mode)
    if staged != path:
        done = conn.run(_install(staged, path, mode))
        if not done.ok:
            raise SSHError(f"{conn.label}: cannot install {path}: {done.stderr.strip()}")


def _put(conn: Connection, path: str, content: str, mode: int) -> str:
    """Write `content` over SFTP at `path`, or for a sudo user at a staging file in
    /tmp; returns where it was written."""
    target = f"/tmp/.hvbridge-{secrets.token_hex(8)}" if conn.uses_sudo else path
    try:
        with conn.sftp().open(target, "w") as handle:
            handle.write(content.encode())
            handle.flush()
        conn.sftp().chmod(target, mode if target == path else 0o600)
    except OSError as exc:
        raise SSHError(f"{conn.label}: cannot write {target}: {exc}") from exc
    return target


def _install(staged: str, path: str, mode: int) -> str:
    """Shell: the staged file installed at `path` as root, and removed whatever happened
    (safe under `set -e`)."""
    q = shlex.quote
    return (
        f"rc=0; install -m {mode:o} -o root -g root {q(staged)} {q(path)} || rc=$?;"
        f" rm -f {q(staged)}; [ $rc = 0 ]"
    )


def write_atomic(conn: Connection, path: str, content: str, run_id: str, mode: int = 0o644) -> None:
    write_all_atomic(conn, {path: content}, run_id, mode)


def write_all_atomic(
    conn: Connection, files: dict[str, str], run_id: str, mode: int = 0o644
) -> None:
    """Each file to a temp file in its directory, then in one round trip: the old ones
    kept, one sync, each temp file renamed over its file, one sync."""
    q = shlex.quote
    temps = {path: _temp_name(path) for path in files}
    staged: dict[str, str] = {}
    try:
        for path, content in files.items():
            staged[temps[path]] = _put(conn, temps[path], content, mode)
    except SSHError:
        remove(conn, [*temps.values(), *staged.values()])
        raise
    script = ["set -e", *keep_commands(run_dir(run_id), list(files))]
    script += [_install(put, temp, mode) for temp, put in staged.items() if put != temp]
    # EL6's sync takes no file arguments; a full sync is what it can do.
    script += ["sync", *(f"mv -f {q(temps[path])} {q(path)}" for path in files), "sync"]
    result = conn.run("\n".join(script))
    if not result.ok:
        remove(conn, temps.values())
        written = ", ".join(files)
        raise SSHError(f"{conn.label}: cannot replace {written}: {result.stderr.strip()}")


def keep_commands(directory: str, paths: list[str]) -> list[str]:
    """Shell (safe under `set -e`): each existing file kept once, the first time this run
    writes it, at `before/<its full path>` and listed in `saved`; each missing one listed
    in `created`. Builtins where they do (`[`, `read`): each program started costs CPU on
    the host."""
    q = shlex.quote
    keep = q(directory)
    # Every directory a kept file may need, made by one program (not one per file).
    parents = sorted({posixpath.dirname(f"{directory}/before{path}") for path in paths})
    wanted = parents or [f"{directory}/before"]
    present = " && ".join(f"[ -d {q(parent)} ]" for parent in wanted)
    lines = [
        f"{present} || mkdir -p {' '.join(q(parent) for parent in wanted)}",
        'listed() { [ -f "$2" ] || return 1; while IFS= read -r l; do [ "$l" = "$1" ] &&'
        ' return 0; done < "$2"; return 1; }',
    ]
    for path in paths:
        kept = q(f"{directory}/before{path}")
        # A file this run created is no "before": a revert removes it.
        lines.append(
            f"if listed {q(path)} {keep}/created; then :;"
            f" elif [ -e {q(path)} ]; then listed {q(path)} {keep}/saved ||"
            f" {{ cp -p {q(path)} {kept}"
            f" && printf '%s\\n' {q(path)} >> {keep}/saved; }};"
            f" else printf '%s\\n' {q(path)} >> {keep}/created; fi"
        )
    return lines


def remove_kept(conn: Connection, paths: list[str], run_id: str) -> None:
    """Remove files, each kept first (as `write_all_atomic` keeps what it replaces), so
    that a revert puts them back."""
    q = shlex.quote
    script = ["set -e", *keep_commands(run_dir(run_id), paths)]
    script += ["rm -f -- " + " ".join(q(path) for path in paths), "sync"]
    result = conn.run("\n".join(script))
    if not result.ok:
        raise SSHError(f"{conn.label}: cannot remove {', '.join(paths)}: {result.stderr.strip()}")


def _temp_name(path: str) -> str:
    directory, name = posixpath.split(path)
    return posixpath.join(directory, f".{name}{TEMP_SUFFIX}")


def remove(conn: Connection, paths: Iterable[str]) -> bool:
    return conn.run("rm -f -- " + " ".join(shlex.quote(p) for p in paths)).ok
