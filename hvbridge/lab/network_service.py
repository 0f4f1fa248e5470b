"""`service network start|stop|restart|status` for a lab host.

The lab's `/etc/init.d/network` execs this module. It reads the ifcfg files and the live
links, asks `hvbridge.lab.initscripts` for a plan, runs it and prints EL6's lines.

Exit status: 0 when every device was handled, 1 when any device failed (refused, or one
of its commands failed) or the live state could not be read; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hvbridge.errors import HostError
from hvbridge.lab.initscripts import (
    LOOPBACK,
    Command,
    DeviceConfig,
    Failure,
    LinkState,
    Plan,
    ResolvConf,
    Step,
    plan_start,
    plan_stop,
    resolv_conf,
    status_lines,
)
from hvbridge.platforms.ifcfg import ignored_config_name

__all__ = ["DEFAULT_CONFIG_DIR", "main", "read_configs", "read_links"]

DEFAULT_CONFIG_DIR = Path("/etc/sysconfig/network-scripts")
SYS_CLASS_NET = Path("/sys/class/net")
RESOLV_CONF = Path("/etc/resolv.conf")
# EL6 runs /sbin/ip and /usr/sbin/brctl by absolute path; `service` may hand us a PATH
# without the sbin directories.
_TOOL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_IFF_UP = 0x1
_OK, _FAILED = "[  OK  ]", "[FAILED]"


class LiveStateError(HostError):
    """The links of this network namespace cannot be read."""


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    config_dir = Path(args.config_dir)
    if not config_dir.is_dir():
        _say(f"network: {config_dir} is not a directory")
        return 1
    configs = read_configs(config_dir)
    try:
        return _run_action(args.action, configs)
    except LiveStateError as exc:
        _say(f"network: {exc}")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="network", description="Apply ifcfg files the way EL6 initscripts do."
    )
    parser.add_argument("action", choices=("start", "stop", "restart", "status"))
    parser.add_argument(
        "--config-dir",
        default=str(DEFAULT_CONFIG_DIR),
        help="directory of ifcfg-* files (default: %(default)s)",
    )
    return parser


def _run_action(action: str, configs: Sequence[DeviceConfig]) -> int:
    if action == "status":
        for line in status_lines(configs, read_links()):
            _say(line)
        return 0
    ok = True
    # Each half reads the links afresh: stop changes them.
    if action in ("stop", "restart"):
        ok = _execute("stop", plan_stop(configs, read_links())) and ok
    if action in ("start", "restart"):
        ok = _execute("start", plan_start(configs, read_links())) and ok
    return 0 if ok else 1


def read_configs(config_dir: Path) -> list[DeviceConfig]:
    """Every ifcfg file `service network` would consider, parsed and validated."""
    return [
        DeviceConfig.from_text(str(path), path.read_text(encoding="utf-8", errors="replace"))
        for path in sorted(config_dir.glob("ifcfg-*"))
        if path.is_file() and not ignored_config_name(path.name)
    ]


def read_links(sys_class_net: Path = SYS_CLASS_NET) -> dict[str, LinkState]:
    """The devices of this network namespace, from sysfs."""
    links = {
        link.name: link
        for link in (_read_link(entry) for entry in sys_class_net.iterdir())
        if link is not None
    }
    _check_namespace(links, sys_class_net)
    return links


def _read_link(entry: Path) -> LinkState | None:
    # Devices are directories; a kernel with bonding also has the file `bonding_masters`.
    if not entry.is_dir():
        return None
    try:
        master = entry / "master"
        return LinkState(
            name=entry.name,
            mac=(entry / "address").read_text().strip() or None,
            is_bridge=(entry / "bridge").is_dir(),
            master=Path(os.readlink(master)).name if master.is_symlink() else None,
            up=bool(int((entry / "flags").read_text(), 16) & _IFF_UP),
            index=int((entry / "ifindex").read_text()),
        )
    except FileNotFoundError:
        # The device went away while we looked at it.
        return None


def _check_namespace(links: dict[str, LinkState], sys_class_net: Path) -> None:
    """Refuse a sysfs that shows another network namespace.

    sysfs shows the namespace of whoever mounted it, so a lab host that entered its own
    network namespace without mounting a fresh sysfs would otherwise plan against the
    machine's devices.
    """
    kernel = {name for _, name in socket.if_nameindex()}
    if set(links) != kernel:
        raise LiveStateError(
            f"{sys_class_net} does not show this network namespace "
            f"(sysfs: {' '.join(sorted(links))}; kernel: {' '.join(sorted(kernel))}); "
            "mount a sysfs from inside it"
        )


def _execute(action: str, plan: Plan) -> bool:
    ok = True
    for item in plan:
        reason = _apply(item)
        if reason is not None:
            _say(reason)
        _say(f"{_title(action, item.device)}  {_OK if reason is None else _FAILED}")
        ok = ok and reason is None
    return ok


def _apply(item: Step | Failure) -> str | None:
    """Run a step; return why the device failed, or None."""
    if isinstance(item, Failure):
        return item.message
    if item.message:
        _say(item.message)
    reason = _run_step(item.commands, dict(item.said))
    if reason is None and item.resolv is not None:
        _update_resolv_conf(item.resolv)
    return reason


def _update_resolv_conf(change: ResolvConf, path: Path = RESOLV_CONF) -> None:
    """ifup-post: the device's servers and domain into resolv.conf, the old one kept as
    resolv.conf.save; ifdown-post (no servers): the saved one put back."""
    saved = path.with_name(path.name + ".save")
    if not change.servers:
        if saved.is_file():
            path.write_text(saved.read_text())
            saved.unlink()
        return
    current = path.read_text() if path.is_file() else ""
    new = resolv_conf(current, change.servers, change.domain)
    if new is not None:
        saved.write_text(current)
        path.write_text(new)


def _say(line: str) -> None:
    # Flushed at once: a restart may cut the SSH session that reads us.
    print(line, flush=True)


def _title(action: str, device: str) -> str:
    if action == "stop":
        return f"Shutting down interface {device}:"
    if device == LOOPBACK:
        return "Bringing up loopback interface:"
    return f"Bringing up interface {device}:"


def _run_step(commands: Sequence[Command], said: Mapping[Command, str]) -> str | None:
    """Run the commands in order; stop at the first that fails and say why (`said`: what
    initscripts print after the command's own words, as EL6 does)."""
    for command in commands:
        program = shutil.which(command[0], path=_TOOL_PATH)
        if program is None:
            return f"{command[0]} not found in {_TOOL_PATH}"
        done = subprocess.run([program, *command[1:]], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip()
            reason = f"{shlex.join(command)} failed with status {done.returncode}: {detail}"
            return f"{reason}\n{said[command]}" if command in said else reason
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
