"""Files on a host: read over SFTP, write atomically with the old content kept.

Everything a run changes is recorded under the host's run directory
(`/var/lib/hvbridge/runs/<run-id>/`): `before/` holds each file as it was
before the run first wrote it, `created` lists the files the run made. That is
what a revert puts back, and what an operator can diff by hand.
"""

from __future__ import annotations

import posixpath
import secrets
import shlex
import stat
from dataclasses import dataclass

from hvbridge.ssh import Connection, SSHError

STATE_DIR = "/var/lib/hvbridge"


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
        raise SSHError(f"{conn.target.host}: cannot read {path}: {exc}") from exc


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
    q = shlex.quote
    target = path
    if conn.uses_sudo:
        target = f"/tmp/.hvbridge-{secrets.token_hex(8)}"
    try:
        with conn.sftp().open(target, "w") as handle:
            handle.write(content.encode())
            handle.flush()
        conn.sftp().chmod(target, mode if target == path else 0o600)
    except OSError as exc:
        raise SSHError(f"{conn.target.host}: cannot write {target}: {exc}") from exc
    if target != path:
        done = conn.run(
            f"install -m {mode:o} -o root -g root {q(target)} {q(path)}; rc=$?;"
            f" rm -f {q(target)}; exit $rc"
        )
        if not done.ok:
            raise SSHError(f"{conn.target.host}: cannot install {path}: {done.stderr.strip()}")


def write_atomic(conn: Connection, path: str, content: str, run_id: str, mode: int = 0o644) -> None:
    """Temp file in the same directory, synced, renamed over `path`; the old one kept."""
    directory, name = posixpath.split(path)
    # A leading dot keeps initscripts (which read ifcfg-*) away from the temp file.
    tmp = posixpath.join(directory, f".{name}.hvbridge-tmp")
    upload(conn, tmp, content, mode)
    keep = run_dir(run_id)
    q = shlex.quote
    script = (
        f"set -e; mkdir -p {q(keep)}/before; "
        f"if [ -e {q(path)} ]; then [ -e {q(keep)}/before/{q(name)} ] || "
        f"cp -p {q(path)} {q(keep)}/before/{q(name)}; "
        f"else grep -qxF {q(path)} {q(keep)}/created 2>/dev/null || "
        f"echo {q(path)} >> {q(keep)}/created; fi; "
        # EL6's sync takes no file arguments; a full sync is what it can do.
        f"sync; mv -f {q(tmp)} {q(path)}; sync"
    )
    result = conn.run(script)
    if not result.ok:
        conn.run(f"rm -f {q(tmp)}")
        raise SSHError(f"{conn.target.host}: cannot replace {path}: {result.stderr.strip()}")
