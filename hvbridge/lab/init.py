"""PID 1 of a lab host.

Started by `unshare --net --mount --uts --pid --fork --mount-proc`, it gives the
host its own hostname, its own `/run`, and copy-on-write `/etc`, `/var`, `/root`
and `/tmp` (an el7 host also `/usr/bin` and `/usr/sbin`, for its systemctl; a host with
NetworkManager an empty directory of profiles of its own), writes
the host's files, tells its parent it is ready, and then reaps
orphans until it is told to stop. When it exits, the kernel kills every other
process of the host's PID namespace, which is what makes `lab down` complete.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# The directories each host owns a private, writable copy of. Copy-on-write, not
# empty: the Python running the host's services may live under any of them (a
# project cloned under /tmp, a virtualenv under /root).
OVERLAID = ("/etc", "/var", "/root", "/tmp")
OVERLAY_STATE = "/run/.hvbridge-lab"


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def make_private_filesystem(extra: list[str], empty: Sequence[str] = ()) -> None:
    """`extra`: more directories to overlay; `empty`: directories that start empty (a
    tmpfs over the overlay), where nothing of this machine's may show through."""
    # sysfs shows the network devices of the namespace that mounted it, and
    # brctl, libvirt and the network service all read devices from it.
    _mount("-t", "sysfs", "sysfs", "/sys")
    _mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run")
    for sub in ("lock", "sshd"):
        Path("/run", sub).mkdir(mode=0o755)
    for directory in (*OVERLAID, *extra):
        base = Path(OVERLAY_STATE) / directory.strip("/")
        upper, work = base / "upper", base / "work"
        upper.mkdir(parents=True)
        work.mkdir()
        # The overlay's top directory takes the upper one's mode: /tmp must stay 1777.
        lower = os.stat(directory)
        upper.chmod(lower.st_mode & 0o7777)
        os.chown(upper, lower.st_uid, lower.st_gid)
        options = f"lowerdir={directory},upperdir={upper},workdir={work}"
        _mount("-t", "overlay", "-o", options, "overlay", directory)
    for directory in empty:
        Path(directory).mkdir(parents=True, exist_ok=True)
        _mount("-t", "tmpfs", "-o", "mode=0700", "tmpfs", directory)


def write_files(files: list[dict[str, object]]) -> None:
    for spec in files:
        path = Path(str(spec["path"]))
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            # Replace the link itself (a whiteout in the overlay), never its target outside.
            path.unlink()
        if spec.get("append"):
            with path.open("a") as handle:
                handle.write(str(spec["content"]))
        else:
            path.write_text(str(spec["content"]))
        mode = spec.get("mode", 0o644)
        path.chmod(int(mode) if isinstance(mode, int) else 0o644)
        owner = spec.get("owner", 0)
        if isinstance(owner, int) and owner:
            # The directories made for it too: sshd's StrictModes wants a user's own ~/.ssh.
            for directory in (path.parent, path.parent.parent):
                os.chown(directory, owner, owner)
            os.chown(path, owner, owner)


def reap_forever() -> int:
    wanted = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    while True:
        _reap_all()
        if signal.sigwait(wanted) in (signal.SIGTERM, signal.SIGINT):
            return 0


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[0]).read_text())
    socket.sethostname(config["hostname"])
    make_private_filesystem(config.get("overlays", []), config.get("empty", []))
    write_files(config["files"])
    # The parent waits for this line before it wires the host to a switch.
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    os.close(1)
    os.open(os.devnull, os.O_WRONLY)
    return reap_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
