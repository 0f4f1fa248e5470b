"""The agent inside the VM lab's VM: runs the commands the host forwards (hvbridge.lab.vm).

The VM has no NIC. Host and VM share one directory over 9p (the spool); a request is a
file there, and the command's output and exit status come back as files beside it:

    requests/ID.json   {"argv": [...], "cwd": "...", "env": {...}}, renamed into place
    out/ID.stdout      the command's output, as it is written
    out/ID.stderr
    out/ID.rc          its exit status, renamed into place when it ended
    kill/ID            the host asks the command to stop (SIGTERM to its process group)
    ready              the agent serves (its content: the kernel release)

Run as a script by the VM's busybox init with the host's python3: it imports only the
standard library (the package need not be importable there).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

POLL = 0.05
INSIDE_ENV = "HVBRIDGE_VM_INSIDE"
EXIT_NOT_RUN = 127


def inside_vm() -> bool:
    """This process runs inside the VM lab's VM (the agent started it, or its parent):
    everything there is emulated, and slow."""
    return os.environ.get(INSIDE_ENV) == "1"


def _publish(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.rename(path)


def _environment(request: dict[str, object]) -> dict[str, str]:
    """The host's, with the mark that tells hvbridge it runs inside the VM (where LAB_DIR/vm
    is the share, not a VM lab to forward to)."""
    env = request.get("env", {})
    assert isinstance(env, dict)
    return {**{str(k): str(v) for k, v in env.items()}, INSIDE_ENV: "1"}


def _serve(spool: Path, ident: str, request: dict[str, object]) -> None:
    out = spool / "out"
    killed = spool / "kill" / ident
    with (
        (out / f"{ident}.stdout").open("wb") as stdout,
        (out / f"{ident}.stderr").open("wb") as stderr,
    ):
        try:
            proc = subprocess.Popen(
                [str(arg) for arg in request["argv"]],  # type: ignore[attr-defined]
                cwd=str(request.get("cwd") or "/"),
                env=_environment(request),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as exc:
            stderr.write(f"vm agent: cannot run {request['argv']}: {exc}\n".encode())
            _publish(out / f"{ident}.rc", str(EXIT_NOT_RUN))
            return
        sent = False
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if not sent and killed.exists():
                    os.killpg(proc.pid, signal.SIGTERM)
                    sent = True
    _publish(out / f"{ident}.rc", str(code))
    killed.unlink(missing_ok=True)


def main(spool: Path) -> int:
    requests = spool / "requests"
    for sub in ("requests", "out", "kill"):
        (spool / sub).mkdir(parents=True, exist_ok=True)
    _publish(spool / "ready", os.uname().release + "\n")
    while True:
        for path in sorted(requests.glob("*.json")):
            try:
                request = json.loads(path.read_text())
                path.unlink()
            except (OSError, ValueError):
                continue
            ident = path.stem
            threading.Thread(target=_serve, args=(spool, ident, request), daemon=True).start()
        time.sleep(POLL)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
