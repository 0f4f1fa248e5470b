"""Per-platform rollout and rollback wall times on 3-host labs, side by side in one run.

    python bench/platforms.py [--platforms el6 debian proxmox ubuntu] [--hosts 3]
                              [--timeout 20] [--json]

Run as root from the project root (`scripts/install` done). The script re-execs itself
inside `unshare --net --mount` (as `scripts/test` and `bench/rollout.py` do: the labs never
touch this machine's network). For each platform, one lab of `--hosts` hypervisors behind
the jump host (`hvbridge lab up --platform P --no-libvirt`), then through the CLI:

- **rollback**: `runbooks/bridge-network.yaml` with the guard's timeout `--timeout` and
  every host's bridge given another address of its subnet, so that no host can be reached
  again: each host's guard reverts it by itself (as the cut-off lab tests do). Must exit
  8 (every host rolled back). It runs first, so that the hosts are as the lab made them
  for the rollout after it.
- **rollout**: `runbooks/bridge-network.yaml` as the lab's inventory says. Must exit 2
  (every host changed).

Wall time is from the CLI's start until it exits. A run with another exit code is
reported as failed, with its last lines. The lab is always taken down.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
RUNBOOK = ROOT / "runbooks" / "bridge-network.yaml"
NETNS_MARK = "HVBRIDGE_BENCH_PLATFORMS_NETNS"
PLATFORMS = ("el6", "debian", "proxmox", "ubuntu")
# Exit codes (hvbridge.status): every host changed; every host rolled back.
CHANGED, ROLLED_BACK = 2, 8


@dataclass
class Measure:
    platform: str
    lab_up_s: float
    rollout_s: float
    rollout_exit: int
    rollback_s: float
    rollback_exit: int
    failed: str = ""


def hvbridge(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    argv = [str(PYTHON), "-m", "hvbridge.cli", "--project", str(ROOT), *args]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    return time.monotonic() - started, done


def tail(done: subprocess.CompletedProcess[str], lines: int = 8) -> str:
    return "\n".join((done.stdout + done.stderr).strip().splitlines()[-lines:])


def cut_off_inventory(lab: Path, target: Path) -> None:
    """The lab's inventory with each host's bridge on an address of its subnet that no
    host has: the controller, which connects to the old one, never gets back in."""
    target.mkdir()
    for name in ("groups.yaml", "defaults.yaml", "hosts.yaml"):
        shutil.copy(lab / "inventory" / name, target / name)
    hosts = yaml.safe_load((target / "hosts.yaml").read_text())
    taken = {str(h["data"]["bridges"]["br0"]["ipaddr"]) for h in hosts.values()}
    for index, host in enumerate(hosts.values()):
        bridge = host["data"]["bridges"]["br0"]
        moved = str(ipaddress.IPv4Address(bridge["ipaddr"]) + 200 + index)
        if moved in taken:
            raise SystemExit(f"bench: {moved} is a lab host's address already")
        bridge["ipaddr"] = moved
    (target / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))


def with_timeout(target: Path, seconds: int) -> Path:
    steps = yaml.safe_load(RUNBOOK.read_text())
    for step in steps:
        if step["task"] == "network.apply":
            step["args"] = {"timeout": seconds}
    target.write_text(yaml.safe_dump(steps, sort_keys=False))
    return target


def measure(platform: str, hosts: int, timeout: int, work: Path) -> Measure:
    lab = work / "lab"
    state = ["--state-dir", str(work / "state"), "--reports-dir", str(work / "reports")]
    up_s, up = hvbridge("--lab-dir", str(lab), "lab", "up", "--platform", platform,
                        "--hosts", str(hosts), "--no-libvirt")  # fmt: skip
    result = Measure(platform, round(up_s, 2), 0.0, -1, 0.0, -1)
    try:
        if up.returncode != 0:
            result.failed = f"lab up: exit {up.returncode}\n{tail(up)}"
            return result
        cut = work / "cut-off"
        cut_off_inventory(lab, cut)
        runbook = with_timeout(work / "net.yaml", timeout)
        back_s, back = hvbridge("run", str(runbook), "-i", str(cut), *state)
        result.rollback_s, result.rollback_exit = round(back_s, 2), back.returncode
        if back.returncode != ROLLED_BACK:
            result.failed = f"rollback: exit {back.returncode}, not {ROLLED_BACK}\n{tail(back)}"
            return result
        out_s, out = hvbridge("run", str(RUNBOOK), "-i", str(lab / "inventory"), *state)
        result.rollout_s, result.rollout_exit = round(out_s, 2), out.returncode
        if out.returncode != CHANGED:
            result.failed = f"rollout: exit {out.returncode}, not {CHANGED}\n{tail(out)}"
        return result
    finally:
        _, down = hvbridge("--lab-dir", str(lab), "lab", "down")
        if down.returncode != 0:
            result.failed += f"\nlab down: exit {down.returncode}\n{tail(down)}"


def table(results: Sequence[Measure], hosts: int, timeout: int) -> str:
    rows = [
        f"| platform | rollout, {hosts} hosts: wall s | cut-off rollback, {hosts} hosts"
        f" (guard {timeout} s): wall s | lab up s | ok |",
        "|---|---:|---:|---:|---|",
    ]
    for m in results:
        ok = "yes" if not m.failed else "FAILED"
        rows.append(
            f"| {m.platform} | {m.rollout_s:.2f} (exit {m.rollout_exit}) | {m.rollback_s:.2f}"
            f" (exit {m.rollback_exit}) | {m.lab_up_s:.2f} | {ok} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--platforms", nargs="+", default=list(PLATFORMS), choices=PLATFORMS)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=20, help="the guard's, seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not os.environ.get(NETNS_MARK):
        env = dict(os.environ, **{NETNS_MARK: "1"})
        command = ["unshare", "--net", "--mount", "--propagation", "private", "--", "sh",
                   "-c", 'ip link set lo up && exec "$@"', "sh", str(PYTHON), __file__,
                   *argv]  # fmt: skip
        os.execvpe("unshare", command, env)  # noqa: S606 (a fixed argv, no shell input)
    results = []
    for platform in args.platforms:
        with tempfile.TemporaryDirectory(prefix=f"hvbridge-bench-{platform}-") as work:
            print(f"bench: {platform} ...", file=sys.stderr, flush=True)
            results.append(measure(platform, args.hosts, args.timeout, Path(work)))
            if results[-1].failed:
                print(f"bench: {platform}: {results[-1].failed}", file=sys.stderr)
    load = Path("/proc/loadavg").read_text().split()[:3]
    if args.json:
        print(json.dumps({"load": load, "results": [asdict(m) for m in results]}, indent=2))
    else:
        print(table(results, args.hosts, args.timeout))
        print(f"\nload average at the end (1, 5, 15 min): {' '.join(load)}")
    return 1 if any(m.failed for m in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
