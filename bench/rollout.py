"""Fleet rollout benchmark: hvbridge against Ansible and two raw SSH floors, on one lab.

    python bench/rollout.py --hosts 50 --workers 20 --runs 3 [--platform el9] [--json] [--profile]

Brings up a lab of N hypervisors (`--direct --no-libvirt`) inside a private network
namespace, then, `--runs` times and resetting every host before each run, times the same
remote work (both ifcfg files written, `service network restart`, `brctl show` checked)
done by:

- hvbridge: `hvbridge run runbooks/bridge-network.yaml` (render, push, guarded restart,
  verify, facts);
- Ansible: ansible-core from PyPI in `bench/.venv-ansible`, `bench/ansible/`;
- floor (paramiko): plain threads over raw paramiko, one connection per host;
- floor (OpenSSH): `xargs -P W ssh`, one connection per host.

Wall time, controller CPU (user+sys of the tool's whole process tree, orphans included)
and peak RSS come from `wait4`. After every run each host is checked through its
namespaces (not SSH, not timed): the files equal what hvbridge renders, `brctl show`
puts eth0 under br0, the address is on br0 and not on eth0. A run that fails the check
is reported as failed and never enters a median.

`--platform el8|el9` (default el6) brings the lab up with that platform (real
NetworkManager in every host, eth0 on a keyfile profile) and times hvbridge alone: Ansible
and the floors do el6's work (ifcfg files, `service network restart`), which an el9 host
has no service for. Each host is reset to its keyfile profile before each run and checked
through its namespaces after it: NetworkManager's active profiles (br0 on br0,
br0-port-eth0 on eth0), `brctl show` puts eth0 under br0, the address is on br0 alone.

`--platform debian|ubuntu` (ifupdown; netplan with systemd-networkd) times hvbridge alone
too. Each host is reset to the network files the lab wrote and its network started as the
lab's first boot starts it; after a run its network files must be exactly what hvbridge
renders for it with what its preflight makes of the lab's files (expected_files), `brctl
show` must put the NIC under br0 and the address must be on br0 alone.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import ctypes
import dataclasses
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
HVBRIDGE = ROOT / ".venv" / "bin" / "hvbridge"
ANSIBLE_VENV = BENCH / ".venv-ansible"
ANSIBLE_DIR = BENCH / "ansible"
NETNS_MARK = "HVBRIDGE_BENCH_NETNS"
SCRIPTS = "/etc/sysconfig/network-scripts"
CONNECTIONS = "/etc/NetworkManager/system-connections"
PLATFORMS = ("el6", "el8", "el9", "debian", "ubuntu")
NM_PLATFORMS = ("el8", "el9")
# Hosts whose network is in files that hvbridge writes and rewrites (ifupdown's interfaces,
# netplan's YAML): each is reset to the lab's files byte for byte, and after a run its files
# are compared with what hvbridge renders for it from those files.
FILE_PLATFORMS = ("debian", "ubuntu")
# Only hvbridge runs there: Ansible's playbook and the floors do el6's work.
HVBRIDGE_ONLY = (*NM_PLATFORMS, *FILE_PLATFORMS)
TOOLS = ("hvbridge", "ansible", "floor-paramiko", "floor-openssh")
RATIO_NAMES = {
    "wall_median_s": "wall",
    "cpu_median_s": "CPU",
    "hosts_cpu_median_s": "hosts CPU",
    "peak_rss_mb": "RSS",
}
TOOL_TITLES = {
    "hvbridge": "hvbridge",
    "ansible": "Ansible",
    "floor-paramiko": "floor: paramiko threads",
    "floor-openssh": "floor: OpenSSH xargs -P",
}
# Parallel nsenter resets and checks: enough to keep both cores busy, few enough that
# the network service of each host is not starved.
HOST_OPS_PARALLEL = 16
PR_SET_CHILD_SUBREAPER = 36
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    address: str
    pid: int
    hwaddr: str
    ipaddr: str
    netmask: str
    gateway: str
    prefix_len: int
    # The management NIC, br0's port: its name is the platform's (lab.json).
    nic: str = "eth0"

    def files(self) -> dict[str, str]:
        """The two files as hvbridge renders them (templates/initscripts/ifcfg-*.j2)."""
        header = "# Written by hvbridge: edit the inventory, not this file.\n"
        br0 = (
            f"{header}DEVICE=br0\nTYPE=Bridge\nONBOOT=yes\nBOOTPROTO=static\n"
            f"IPADDR={self.ipaddr}\nNETMASK={self.netmask}\nGATEWAY={self.gateway}\n"
            "DEFROUTE=yes\nSTP=off\nDELAY=0\n"
        )
        eth0 = (
            f"{header}DEVICE=eth0\nTYPE=Ethernet\nHWADDR={self.hwaddr.upper()}\nONBOOT=yes\n"
            "NM_CONTROLLED=no\nBOOTPROTO=none\nBRIDGE=br0\n"
        )
        return {f"{SCRIPTS}/ifcfg-br0": br0, f"{SCRIPTS}/ifcfg-eth0": eth0}


@dataclasses.dataclass
class Run:
    tool: str
    index: int
    ok: bool
    wall: float
    cpu: float
    rss_mb: float
    exit_code: int
    ssh_connections: float
    hosts_cpu: float = 0.0
    error: str = ""
    # Logins on the jump host per hypervisor (--via-jump); None: no jump host.
    jump_logins: float | None = None


@dataclasses.dataclass
class Lab:
    directory: Path
    hosts: list[Host]
    originals: dict[str, str]
    platform: str = "el6"
    # The jump host every tool goes through (--via-jump); None: straight to each host.
    jump: Host | None = None
    # FILE_PLATFORMS: each host's network files as the lab made them (path -> content),
    # put back by the reset, and what they must be after a run (see expected_files).
    files: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    expected: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)


# --- namespaces and processes ---------------------------------------------------------


def in_private_netns() -> bool:
    if os.environ.get(NETNS_MARK):
        return True
    try:
        return os.readlink("/proc/self/ns/net") != os.readlink("/proc/1/ns/net")
    except PermissionError:
        # Without access to init's namespace: a namespace of our own has nothing but lo.
        devices = Path("/proc/self/net/dev").read_text().splitlines()[2:]
        return [line.split(":")[0].strip() for line in devices] == ["lo"]


def reexec_in_netns(argv: Sequence[str]) -> None:
    env = dict(os.environ, **{NETNS_MARK: "1"})
    command = ["unshare", "--net", "--mount", "--", str(PROJECT_PYTHON), __file__, *argv]
    os.execvpe("unshare", command, env)  # noqa: S606 (a fixed argv, no shell)


def become_subreaper() -> None:
    # Orphans of a tool (Ansible's ControlPersist masters) come back to us, so their CPU
    # is counted and none outlives the run.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def own_children() -> list[int]:
    me = str(os.getpid())
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces and parentheses: fields start after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == me:
            children.append(int(entry.name))
    return children


@dataclasses.dataclass
class Usage:
    exit_code: int
    wall: float
    cpu: float
    rss_kb: int


def measure(command: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> Usage:
    """Run a tool; wall time until it exits, CPU and peak RSS of its whole process tree."""
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(command), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    rss = usage.ru_maxrss
    for pid in own_children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        _, _, orphan = os.wait4(pid, 0)
        cpu += orphan.ru_utime + orphan.ru_stime
        rss = max(rss, orphan.ru_maxrss)
    return Usage(proc.returncode, wall, cpu, rss)


def hosts_cpu(hosts: Sequence[Host]) -> float:
    """CPU seconds used so far by every lab host: user+sys of each process under the
    host's PID 1, and of the children each reaped (sshd reaps its sessions, the host's
    PID 1 the orphans). Before and after a run, the difference is the remote work: the
    hosts share the machine's cores with the tool."""
    children: dict[int, list[int]] = {}
    used: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # utime stime cutime cstime: fields 14-17 of proc(5), 12-15 after the comm.
        used[int(entry.name)] = sum(int(f) for f in fields[11:15])
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [host.pid for host in hosts]
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0)
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def hosts_pss_mb(hosts: Sequence[Host]) -> float:
    """Proportional set size of every process of the lab hosts, MB: their memory, shared
    pages (sshd's libraries) counted once in all. Steadier than the machine's free memory,
    which other work on the machine moves."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    total, todo = 0, [host.pid for host in hosts]
    while todo:
        pid = todo.pop()
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            rollup = ""
        total += next(
            (int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0
        )
        todo += children.get(pid, [])
    return total / 1024


def in_host(host: Host, script: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", "-t", str(host.pid), "-m", "-u", "-n", "-p", "--", "sh", "-c", script],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def each_host(hosts: Sequence[Host], action: Callable[[Host], T]) -> dict[str, T]:
    with concurrent.futures.ThreadPoolExecutor(HOST_OPS_PARALLEL) as pool:
        return dict(zip((h.name for h in hosts), pool.map(action, hosts), strict=True))


# --- the lab ----------------------------------------------------------------------------


def hvbridge_cli(lab_dir: Path, *args: str) -> None:
    subprocess.run(
        [str(HVBRIDGE), "--lab-dir", str(lab_dir), *args],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def load_jump(lab_dir: Path) -> Host | None:
    """The lab's jump host (its address and PID 1), if it has one."""
    state = json.loads((lab_dir / "lab.json").read_text())
    entry = state["hosts"].get("jump")
    if entry is None:
        return None
    return Host("jump", entry["address"], int(entry["init_pid"]), "", "", "", "", 0)


def load_hosts(lab_dir: Path) -> list[Host]:
    import yaml  # the project's venv has it; the python that re-execs into it may not

    state = json.loads((lab_dir / "lab.json").read_text())
    inventory = yaml.safe_load((lab_dir / "inventory" / "hosts.yaml").read_text())
    hosts = []
    for name, entry in sorted(state["hosts"].items()):
        if not entry.get("hypervisor"):
            continue
        data = inventory[name]["data"]
        nic = entry["nics"][0][0] if entry.get("nics") else "eth0"
        bridge = data["bridges"]["br0"]
        netmask = bridge["netmask"]
        prefix_len = sum(bin(int(octet)).count("1") for octet in netmask.split("."))
        hosts.append(
            Host(
                name=name,
                address=entry["address"],
                pid=int(entry["init_pid"]),
                hwaddr=data["nics"][nic]["hwaddr"],
                ipaddr=bridge["ipaddr"],
                netmask=netmask,
                gateway=bridge["gateway"],
                prefix_len=prefix_len,
                nic=nic,
            )
        )
    return hosts


def host_data(lab_dir: Path) -> dict[str, dict[str, Any]]:
    """Each hypervisor's data in the lab's inventory: what hvbridge renders its files from."""
    import yaml

    inventory = yaml.safe_load((lab_dir / "inventory" / "hosts.yaml").read_text())
    return {name: entry["data"] for name, entry in inventory.items()}


RESET_SCRIPT = f"""
set -e
for f in /var/lib/hvbridge/runs/*/guard.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
done
service network stop >/dev/null 2>&1 || true
find {SCRIPTS} -mindepth 1 -delete
cat > {SCRIPTS}/ifcfg-eth0
chmod 0644 {SCRIPTS}/ifcfg-eth0
rm -rf /var/lib/hvbridge /var/lock/hvbridge.lock /root/.ansible
if ip link show br0 >/dev/null 2>&1; then ip link set br0 down; ip link del br0; fi
: > /var/log/sshd.log
service network start >/dev/null 2>&1
ip -4 -o addr show dev eth0
"""


# NetworkManager's hosts: eth0's keyfile profile back, alone; NetworkManager reads it again
# and activates it (it never moves an address: br0 goes with its profile).
NM_RESET_SCRIPT = f"""
set -e
for f in /var/lib/hvbridge/runs/*/guard.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
done
find {CONNECTIONS} -mindepth 1 -delete
cat > {CONNECTIONS}/eth0.nmconnection
chmod 0600 {CONNECTIONS}/eth0.nmconnection
rm -rf /var/lib/hvbridge /var/lock/hvbridge.lock /root/.ansible
nmcli connection reload
if ip link show br0 >/dev/null 2>&1; then nmcli device delete br0 >/dev/null 2>&1 || true; fi
nmcli connection up eth0 >/dev/null 2>&1 || true
: > /var/log/sshd.log
ip -4 -o addr show dev eth0
"""


# --- debian (ifupdown) and ubuntu (netplan + systemd-networkd): FILE_PLATFORMS ---------

# The files each platform's network is configured by, as shell words: what the reset puts
# back and the check compares, whole directories (a file hvbridge left there is seen).
NETWORK_FILES = {
    "debian": "/etc/network/interfaces /etc/network/interfaces.d/*",
    "ubuntu": "/etc/netplan/*",
}
# The directories emptied before the lab's files go back (dotfiles too: a temp file).
NETWORK_DIRS = {"debian": "/etc/network/interfaces.d", "ubuntu": "/etc/netplan"}
# As the lab writes them (hvbridge.lab.hostfiles): netplan wants its files 0600.
FILE_MODES = {"debian": "0644", "ubuntu": "0600"}
DUMP_MARK = "@@hvbridge-bench@@"


def dump_command(platform: str) -> str:
    """Shell printing every network file of the platform as `parse_dump` reads it."""
    return (
        f'm={DUMP_MARK}; for f in {NETWORK_FILES[platform]}; do [ -f "$f" ] || continue;'
        ' printf \'%s file %s\\n\' "$m" "$f"; cat -- "$f"; printf \'\\n%s end\\n\' "$m"; done'
    )


def parse_dump(output: str) -> dict[str, str]:
    """What `dump_command` printed: path -> content."""
    files: dict[str, str] = {}
    header, end = f"{DUMP_MARK} file ", f"\n{DUMP_MARK} end\n"
    rest = output
    while (start := rest.find(header)) >= 0:
        path, _, rest = rest[start + len(header) :].partition("\n")
        stop = rest.find(end)
        if stop < 0:
            raise ValueError(f"{path}: cut short in {output!r}")
        files[path] = rest[:stop]
        rest = rest[stop + len(end) :]
    return files


def expected_files(
    platform_name: str, host: str, data: dict[str, Any], lab_files: dict[str, str], said: str
) -> dict[str, str]:
    """The platform's network files once hvbridge has bridged a host that had `lab_files`
    (path -> content): hvbridge's own render of the host's inventory data, and what its
    preflight makes of the host (`said`: the output of the platform's preflight command on
    the host as the lab made it): the files that configured the NIC rewritten without its
    stanzas (ifupdown) or taken away (netplan), its DNS and IPv6 carried to the bridge.
    Taken before the first run, from the lab's files: a run whose files differ (rolled
    back, half written, from a host the reset left wrong) fails the check."""
    from hvbridge import platforms
    from hvbridge.inventory.models import HostData

    platform = platforms.get(platform_name)
    rendered = platform.render(ROOT / "templates", HostData.model_validate(data))
    before = platform.preflight(host, said, rendered, {})
    if before.problems:
        raise RuntimeError(f"{host}: hvbridge would refuse it: {'; '.join(before.problems)}")
    files = {path: text for path, text in lab_files.items() if path not in before.displaced}
    return {**files, **rendered, **before.rewritten}


def files_problem(found: dict[str, str], expected: dict[str, str]) -> str:
    """How the files on a host differ from the expected ones; empty when they do not."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    differ = sorted(p for p in set(found) & set(expected) if found[p] != expected[p])
    parts = [
        f"{what}: {', '.join(paths)}"
        for what, paths in (("missing", missing), ("not expected", extra), ("differ", differ))
        if paths
    ]
    if not parts:
        return ""
    return f"network files differ from hvbridge's rendering ({'; '.join(parts)})"


def files_reset_script(lab: Lab, host: Host) -> str:
    """Back to the host as the lab made it: hvbridge's bridge down and gone, the lab's
    files back byte for byte, hvbridge's state and lock gone, then the network started as
    the lab's first boot starts it (hvbridge.lab.ifupdown.BOOT: `ifup` of the `auto` and
    hotplug interfaces; hvbridge.lab.networkd.BOOT: `netplan generate`, then networkd),
    with none of the state the service keeps in /run (a first boot has none)."""
    import base64
    import shlex

    from hvbridge.lab import ifupdown, networkd
    from hvbridge.platforms import netplan

    if lab.platform == "debian":
        # With the files as they are (hvbridge's), as its revert stops the network.
        stop = "ifdown -a --exclude=lo >/dev/null 2>&1 || true"
        state = "/run/network"
        boot = ifupdown.BOOT
    else:
        stop = "systemctl stop systemd-networkd.service >/dev/null"
        # netplan's generated units, networkd's link state, hvbridge's revert state.
        state = f"/run/systemd/network /run/systemd/netif {netplan.STATE}"
        boot = networkd.BOOT
    nic = shlex.quote(host.nic)
    writes = "\n".join(
        f"printf %s {base64.b64encode(text.encode()).decode()} | base64 -d > {shlex.quote(path)}"
        f"\nchmod {FILE_MODES[lab.platform]} {shlex.quote(path)}"
        for path, text in lab.files[host.name].items()
    )
    cidr = f"{host.address}/{host.prefix_len}"
    return f"""
set -e
for f in /var/lib/hvbridge/runs/*/guard.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
done
{stop}
if ip link show br0 >/dev/null 2>&1; then ip link set br0 down; ip link del br0; fi
ip addr flush dev {nic}
# bridge-utils' hook gave the port no IPv6 link-local address (`addrgenmode none`): back to
# the kernel's default, which the lab's first boot had.
ip link set {nic} down addrgenmode eui64
find {NETWORK_DIRS[lab.platform]} -mindepth 1 -delete
{writes}
rm -rf /var/lib/hvbridge /var/lock/hvbridge.lock /root/.ansible {state}
: > /var/log/sshd.log
# Its words to stderr: what the reset's failure says.
{{ {boot}; }} >&2
# networkd configures the NIC after it is on the bus: wait for the address (10 s).
i=0
until ip -4 -o addr show dev {nic} | grep -q -F ' {cidr} '; do
    [ $i -lt 100 ] || break
    sleep 0.1; i=$((i + 1))
done
ip -4 -o addr show dev {nic}; echo @@
ip -4 route show default
"""


def file_expectations(lab: Lab) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Each host's network files as the lab made them, read before the first run, and
    what they must be after each run (expected_files)."""
    from hvbridge import platforms

    preflight = platforms.get(lab.platform).preflight_command
    data = host_data(lab.directory)

    def one(host: Host) -> tuple[dict[str, str], dict[str, str]]:
        dump = in_host(host, dump_command(lab.platform))
        said = in_host(host, preflight)
        if dump.returncode != 0 or said.returncode != 0:
            raise RuntimeError(f"{host.name}: cannot read its files: {dump.stderr}{said.stderr}")
        files = parse_dump(dump.stdout)
        if not files:
            raise RuntimeError(f"{host.name}: no network files ({NETWORK_FILES[lab.platform]})")
        return files, expected_files(lab.platform, host.name, data[host.name], files, said.stdout)

    both = each_host(lab.hosts, one)
    return {n: f for n, (f, _) in both.items()}, {n: e for n, (_, e) in both.items()}


def reset(lab: Lab) -> None:
    script = NM_RESET_SCRIPT if lab.platform in NM_PLATFORMS else RESET_SCRIPT

    def one(host: Host) -> str:
        if lab.platform in FILE_PLATFORMS:
            done = in_host(host, files_reset_script(lab, host))
        else:
            done = in_host(host, script, lab.originals[host.name])
        if done.returncode != 0:
            said = done.stderr.strip()[-500:]
            return f"{host.name}: reset failed (exit {done.returncode}): {said}"
        addrs, _, routes = done.stdout.partition("@@\n")
        if f" {host.address}/{host.prefix_len} " not in addrs:
            return f"{host.name}: {host.nic} has no {host.address} after reset: {done.stdout!r}"
        if lab.platform in FILE_PLATFORMS and f"via {host.gateway} dev {host.nic}" not in routes:
            return f"{host.name}: no default route via {host.nic} after reset: {routes!r}"
        return ""

    problems = [p for p in each_host(lab.hosts, one).values() if p]
    if lab.jump is not None:
        # Its log counts the tool's logins on it, as each host's does.
        done = in_host(lab.jump, ": > /var/log/sshd.log")
        if done.returncode != 0:
            problems.append(f"jump: reset failed: {done.stderr.strip()}")
    if problems:
        raise RuntimeError("reset failed:\n" + "\n".join(problems))


CHECK_SCRIPT = f"""
cat {SCRIPTS}/ifcfg-br0; echo @@
cat {SCRIPTS}/ifcfg-eth0; echo @@
brctl show; echo @@
ip -4 -o addr show; echo @@
grep -c 'Accepted publickey' /var/log/sshd.log
"""


def bridge_ports(brctl: str) -> dict[str, list[str]]:
    ports: dict[str, list[str]] = {}
    current = ""
    for line in brctl.splitlines()[1:]:
        fields = line.split()
        if not fields:
            continue
        if not line[0].isspace():
            current = fields[0]
            ports[current] = fields[3:]
        elif current:
            ports[current].extend(fields)
    return ports


NM_CHECK_SCRIPT = """
nmcli -t -f NAME,DEVICE connection show --active; echo @@
echo; echo @@
brctl show; echo @@
ip -4 -o addr show; echo @@
grep -c 'Accepted publickey' /var/log/sshd.log
"""


def files_check_script(platform: str) -> str:
    # The same five parts as CHECK_SCRIPT: every network file in the first, none second.
    return f"""
{dump_command(platform)}; echo @@
echo; echo @@
brctl show; echo @@
ip -4 -o addr show; echo @@
grep -c 'Accepted publickey' /var/log/sshd.log
"""


def jump_logins(lab: Lab) -> float | None:
    """Logins on the jump host since the reset, per hypervisor; None without a jump host."""
    if lab.jump is None:
        return None
    done = in_host(lab.jump, "grep -c 'Accepted publickey' /var/log/sshd.log")
    return int(done.stdout.strip() or 0) / len(lab.hosts)


def check(lab: Lab) -> tuple[list[str], float]:
    """Problems left on the hosts (empty: every host bridged) and SSH logins per host."""
    nm = lab.platform in NM_PLATFORMS
    if nm:
        script = NM_CHECK_SCRIPT
    elif lab.platform in FILE_PLATFORMS:
        script = files_check_script(lab.platform)
    else:
        script = CHECK_SCRIPT

    def one(host: Host) -> tuple[str, int]:
        done = in_host(host, script)
        parts = done.stdout.split("@@\n")
        if len(parts) != 5:
            return f"{host.name}: check failed: {done.stderr.strip()}", 0
        br0, eth0, brctl, addrs, logins = parts
        problems = []
        if nm:
            active = set(br0.split())
            if not {"br0:br0", "br0-port-eth0:eth0"} <= active:
                problems.append(f"NetworkManager's active profiles: {sorted(active)}")
        elif lab.platform in FILE_PLATFORMS:
            differ = files_problem(parse_dump(br0), lab.expected[host.name])
            if differ:
                problems.append(differ)
        elif [br0, eth0] != list(host.files().values()):
            problems.append("ifcfg files differ from hvbridge's rendering")
        if host.nic not in bridge_ports(brctl).get("br0", []):
            problems.append(f"br0 does not hold {host.nic}")
        cidr = f"{host.address}/{host.prefix_len}"
        on = {line.split()[1] for line in addrs.splitlines() if f" {cidr} " in line}
        if on != {"br0"}:
            problems.append(f"{cidr} is on {sorted(on) or 'nothing'}, not br0 alone")
        count = int(logins.strip() or 0)
        return (f"{host.name}: {'; '.join(problems)}" if problems else ""), count

    results = each_host(lab.hosts, one)
    problems = [p for p, _ in results.values() if p]
    logins = statistics.fmean(count for _, count in results.values())
    return problems, logins


# --- the tools --------------------------------------------------------------------------


def base_env(home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
    }


@dataclasses.dataclass
class Tool:
    command: list[str]
    env: dict[str, str]
    cwd: Path
    ok_exit: int


def hvbridge_tool(lab: Lab, work: Path, workers: int) -> Tool:
    return Tool(
        command=[
            str(HVBRIDGE),
            "run",
            "runbooks/bridge-network.yaml",
            "-i",
            str(lab.directory / "inventory"),
            "--workers",
            str(workers),
            "--state-dir",
            str(work / "state"),
            "--reports-dir",
            str(work / "reports"),
        ],
        env=base_env(work),
        cwd=ROOT,
        ok_exit=2,
    )


def ansible_tool(lab: Lab, work: Path, workers: int) -> Tool:
    work.mkdir(parents=True, exist_ok=True)
    key = lab.directory / "id_lab"
    # Through the jump host: the lab's ssh_config, whose hosts have `ProxyJump jump` and
    # the same key and known_hosts (ssh gives its -F to the ProxyJump ssh it starts).
    config = lab.directory / "ssh_config" if lab.jump is not None else "/dev/null"
    ssh_args = " ".join(
        [
            f"-F {config}",
            f"-o UserKnownHostsFile={lab.directory / 'known_hosts'}",
            "-o GlobalKnownHostsFile=/dev/null",
            "-o StrictHostKeyChecking=yes",
            "-o IdentitiesOnly=yes",
        ]
    )
    inventory = {
        "all": {
            "children": {
                "lab": {
                    "hosts": {
                        h.name: {
                            "ansible_host": h.name if lab.jump is not None else h.address,
                            "eth0_hwaddr": h.hwaddr,
                            "br0_ipaddr": h.ipaddr,
                            "br0_netmask": h.netmask,
                            "br0_gateway": h.gateway,
                        }
                        for h in lab.hosts
                    },
                    "vars": {
                        "ansible_user": "root",
                        "ansible_ssh_private_key_file": str(key),
                        "ansible_ssh_common_args": ssh_args,
                        "ansible_python_interpreter": "/usr/bin/python3",
                    },
                }
            }
        }
    }
    (work / "inventory.json").write_text(json.dumps(inventory, indent=1))
    # An empty config of its own: nothing from /etc/ansible, ~/.ansible.cfg or the cwd.
    (work / "ansible.cfg").write_text("")
    env = base_env(work / "home")
    env["PATH"] = f"{ANSIBLE_VENV / 'bin'}:{env['PATH']}"
    env.update(
        {
            "ANSIBLE_CONFIG": str(work / "ansible.cfg"),
            "ANSIBLE_HOME": str(work / "home" / ".ansible"),
            "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(work / "cp"),
            "ANSIBLE_INVENTORY_ENABLED": "yaml",
            "ANSIBLE_FORKS": str(workers),
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_GATHERING": "explicit",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_TIMEOUT": "30",
        }
    )
    return Tool(
        command=[
            str(ANSIBLE_VENV / "bin" / "ansible-playbook"),
            "-i",
            str(work / "inventory.json"),
            str(ANSIBLE_DIR / "bridge-network.yml"),
        ],
        env=env,
        cwd=work,
        ok_exit=0,
    )


def paramiko_floor_tool(lab: Lab, work: Path, workers: int) -> Tool:
    work.mkdir(parents=True, exist_ok=True)
    spec = {
        "key": str(lab.directory / "id_lab"),
        "known_hosts": str(lab.directory / "known_hosts"),
        "workers": workers,
        "jump": lab.jump.address if lab.jump is not None else None,
        "hosts": [{"name": h.name, "address": h.address, "files": h.files()} for h in lab.hosts],
    }
    (work / "spec.json").write_text(json.dumps(spec))
    return Tool(
        command=[str(PROJECT_PYTHON), __file__, "--floor-paramiko", str(work / "spec.json")],
        env=base_env(work),
        cwd=work,
        ok_exit=0,
    )


BRCTL_CHECK = "brctl show | grep -Eq '^br0[[:space:]].*[[:space:]]eth0$'"


def openssh_floor_tool(lab: Lab, work: Path, workers: int) -> Tool:
    scripts = work / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    for host in lab.hosts:
        lines = ["set -e"]
        for path, content in host.files().items():
            lines += [f"cat > {path} <<'HVBRIDGE_BENCH_EOF'", content + "HVBRIDGE_BENCH_EOF"]
        lines += ["service network restart", BRCTL_CHECK]
        (scripts / f"{host.name}.sh").write_text("\n".join(lines) + "\n")
    (work / "hosts").write_text("".join(f"{h.name}\n" for h in lab.hosts))
    ssh = (
        f"exec ssh -F {lab.directory / 'ssh_config'} -o ControlMaster=no -o ControlPath=none "
        f'"$1" sh -s < {scripts}/"$1".sh'
    )
    return Tool(
        command=["xargs", "-a", str(work / "hosts"), "-P", str(workers), "-n", "1",
                 "sh", "-c", ssh, "sh"],
        env=base_env(work),
        cwd=work,
        ok_exit=0,
    )  # fmt: skip


TOOL_BUILDERS: dict[str, Callable[[Lab, Path, int], Tool]] = {
    "hvbridge": hvbridge_tool,
    "ansible": ansible_tool,
    "floor-paramiko": paramiko_floor_tool,
    "floor-openssh": openssh_floor_tool,
}


def floor_paramiko(spec_path: Path) -> int:
    """The paramiko floor, run as its own process so that it is measured like the others."""
    import paramiko

    spec = json.loads(spec_path.read_text())
    # Read once and shared by every connection, as hvbridge does: parsing a 200-line
    # known_hosts file for each of 200 connections is seconds of CPU.
    known_hosts = paramiko.HostKeys(spec["known_hosts"])
    key = paramiko.PKey.from_path(spec["key"])

    def execute(client: paramiko.SSHClient, command: str) -> tuple[int, str]:
        _, stdout, stderr = client.exec_command(command, timeout=120)
        out = stdout.read().decode()
        stderr.read()
        return stdout.channel.recv_exit_status(), out

    def login(address: str, sock: Any) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        for key_type, host_key in (known_hosts.lookup(address) or {}).items():
            client.get_host_keys().add(address, key_type, host_key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            if sock is None:
                # Nagle off, as hvbridge has it (hvbridge.ssh.open_socket): otherwise
                # each request/answer exchange can wait ~40 ms for a delayed ACK.
                sock = socket.create_connection((address, 22), timeout=30)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.connect(
                address,
                sock=sock,
                username="root",
                pkey=key,
                look_for_keys=False,
                allow_agent=False,
                timeout=30,
            )
        except BaseException:
            client.close()
            raise
        return client

    def one(host: dict[str, Any]) -> str:
        # Through the jump host, a login to it per host, as OpenSSH's ProxyJump does.
        clients: list[paramiko.SSHClient] = []
        try:
            sock = None
            if spec["jump"]:
                clients.append(login(spec["jump"], None))
                transport = clients[-1].get_transport()
                assert transport is not None
                sock = transport.open_channel(
                    "direct-tcpip", (host["address"], 22), ("127.0.0.1", 0), timeout=30
                )
            clients.append(login(host["address"], sock))
            client = clients[-1]
            with client.open_sftp() as sftp:
                for path, content in host["files"].items():
                    with sftp.open(path, "w") as remote:
                        remote.write(content)
            rc, _ = execute(client, "service network restart")
            if rc != 0:
                return f"{host['name']}: service network restart exited {rc}"
            rc, out = execute(client, "brctl show")
            if rc != 0 or "eth0" not in bridge_ports(out).get("br0", []):
                return f"{host['name']}: br0 does not hold eth0: {out!r}"
            return ""
        except Exception as error:
            return f"{host['name']}: {type(error).__name__}: {error}"
        finally:
            for opened in reversed(clients):
                opened.close()

    with concurrent.futures.ThreadPoolExecutor(spec["workers"]) as pool:
        problems = [p for p in pool.map(one, spec["hosts"]) if p]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


# --- running and reporting --------------------------------------------------------------


def timed_run(lab: Lab, tool_name: str, index: int, workers: int, work: Path) -> Run:
    reset(lab)
    run_dir = work / f"{tool_name}-{index}"
    tool = TOOL_BUILDERS[tool_name](lab, run_dir, workers)
    run_dir.mkdir(parents=True, exist_ok=True)
    before = hosts_cpu(lab.hosts)
    usage = measure(tool.command, tool.env, tool.cwd, run_dir / "output.log")
    # What a tool left running on the hosts (a guard's sleep) is counted when it ends.
    remote = hosts_cpu(lab.hosts) - before
    problems, logins = check(lab)
    on_jump = jump_logins(lab)
    error = ""
    if usage.exit_code != tool.ok_exit:
        tail = (run_dir / "output.log").read_text(errors="replace")[-2000:]
        error = f"exit {usage.exit_code} (expected {tool.ok_exit}): ...{tail}"
    if problems:
        error += f"\n{len(problems)} host(s) not bridged: " + "; ".join(problems[:5])
    return Run(
        tool=tool_name,
        index=index,
        ok=not error,
        wall=usage.wall,
        cpu=usage.cpu,
        rss_mb=usage.rss_kb / 1024,
        exit_code=usage.exit_code,
        ssh_connections=logins,
        hosts_cpu=remote,
        error=error.strip(),
        jump_logins=on_jump,
    )


def hvbridge_steps(work: Path, runs: list[Run]) -> dict[str, float]:
    """Median seconds per hvbridge step over every host of every successful run."""
    seconds: dict[str, list[float]] = {}
    for run in runs:
        if run.tool != "hvbridge" or not run.ok:
            continue
        for events in (work / f"hvbridge-{run.index}" / "state").glob("runs/*/events.jsonl"):
            for line in events.read_text().splitlines():
                event = json.loads(line)
                if event.get("event") == "step_finished":
                    seconds.setdefault(event["step"], []).append(event["seconds"])
    return {step: round(statistics.median(values), 3) for step, values in seconds.items()}


def profile(lab: Lab, work: Path, workers: int) -> dict[str, str]:
    """One hvbridge run under py-spy for a flame graph, one more for raw stacks with idle."""
    py_spy = ANSIBLE_VENV / "bin" / "py-spy"
    outputs = {}
    n = len(lab.hosts)
    for kind, extra, target in (
        ("svg", ["--format", "flamegraph"], BENCH / f"profile-{n}.svg"),
        ("raw", ["--format", "raw", "--idle"], BENCH / f"profile-{n}.txt"),
    ):
        reset(lab)
        tool = hvbridge_tool(lab, work / f"profile-{kind}", workers)
        command = [str(py_spy), "record", "--subprocesses", "--rate", "200", *extra,
                   "-o", str(target), "--", *tool.command]  # fmt: skip
        log = work / f"profile-{kind}.log"
        usage = measure(command, tool.env, tool.cwd, log)
        problems, _ = check(lab)
        # py-spy exits 0 whatever its child did: hvbridge's own last line says its exit.
        exited_2 = "; exit 2\n" in log.read_text(errors="replace")
        state = "ok" if exited_2 and not problems else "FAILED"
        outputs[kind] = f"{target} ({state}, {usage.wall:.1f}s under py-spy)"
    return outputs


def summarise(runs: list[Run]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for tool in TOOLS:
        mine = [r for r in runs if r.tool == tool]
        ok = [r for r in mine if r.ok]
        summary[tool] = {
            "runs": len(mine),
            "ok": len(ok),
            "wall_median_s": round(statistics.median(r.wall for r in ok), 2) if ok else None,
            "cpu_median_s": round(statistics.median(r.cpu for r in ok), 2) if ok else None,
            "hosts_cpu_median_s": (
                round(statistics.median(r.hosts_cpu for r in ok), 2) if ok else None
            ),
            "peak_rss_mb": round(max(r.rss_mb for r in ok), 1) if ok else None,
            "ssh_logins_per_host": (
                round(statistics.median(r.ssh_connections for r in ok), 1) if ok else None
            ),
            "jump_logins_per_host": (
                round(statistics.median(r.jump_logins for r in ok if r.jump_logins is not None), 3)
                if ok and ok[0].jump_logins is not None
                else None
            ),
        }
    return summary


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    def ratio(key: str, other: str) -> float | None:
        mine, theirs = summary["hvbridge"][key], summary[other][key]
        return round(mine / theirs, 2) if mine is not None and theirs else None

    return {
        f"hvbridge/{other}": {
            key: ratio(key, other)
            for key in ("wall_median_s", "cpu_median_s", "hosts_cpu_median_s", "peak_rss_mb")
        }
        for other in ("ansible", "floor-paramiko", "floor-openssh")
    }


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    ansible = subprocess.run(
        [str(ANSIBLE_VENV / "bin" / "python"), "-c",
         "import importlib.metadata as m; print(m.version('ansible-core'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    openssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False)
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "paramiko": importlib.metadata.version("paramiko"),
        "ansible-core": ansible,
        "openssh": openssh.stderr.strip().split(",")[0],
    }


def print_table(report: dict[str, Any]) -> None:
    m = report["machine"]
    via = " through the jump host" if report.get("via_jump") else " direct"
    print(
        f"\nN={report['hosts']} {report.get('platform', 'el6')} hosts{via},"
        f" W={report['workers']} workers, "
        f"{report['runs']} runs each (median; peak RSS is the largest of the runs)"
    )
    print(
        f"machine: {m['nproc']} x {m['cpu']}, kernel {m['kernel']}, Python {m['python']}, "
        f"paramiko {m['paramiko']}, ansible-core {m['ansible-core']}, {m['openssh']}\n"
    )
    header = (
        f"{'tool':<26}{'ok':>6}{'wall s':>9}{'CPU s':>9}{'hosts CPU s':>13}{'RSS MB':>9}"
        f"{'logins/host':>13}{'jump logins/host':>18}"
    )
    print(header)
    print("-" * len(header))

    def cell(value: float | None, width: int) -> str:
        return f"{value:>{width}.2f}" if value is not None else f"{'failed':>{width}}"

    for tool, s in report["summary"].items():
        if not s["runs"]:
            continue
        ok_runs = f"{s['ok']}/{s['runs']}"
        print(
            f"{TOOL_TITLES[tool]:<26}{ok_runs:>6}"
            f"{cell(s['wall_median_s'], 9)}{cell(s['cpu_median_s'], 9)}"
            f"{cell(s['hosts_cpu_median_s'], 13)}{cell(s['peak_rss_mb'], 9)}"
            f"{cell(s['ssh_logins_per_host'], 13)}"
            + (
                f"{s['jump_logins_per_host']:>18.3f}"
                if s.get("jump_logins_per_host") is not None
                else f"{'-':>18}"
            )
        )
    print()
    for name, values in report["ratios"].items():
        if not report["summary"][name.split("/", 1)[1]]["runs"]:
            continue
        parts = [
            f"{RATIO_NAMES[key]} {value:.2f}x" if value is not None else f"{RATIO_NAMES[key]} n/a"
            for key, value in values.items()
        ]
        print(f"{name:<28}" + ", ".join(parts))
    if report["hvbridge_steps"]:
        print("\nhvbridge, median seconds per host and step:")
        for step, seconds in report["hvbridge_steps"].items():
            print(f"  {step:<28}{seconds:.3f}")
    for run in report["failed_runs"]:
        print(f"\nFAILED: {run['tool']} run {run['index']}: {run['error']}")
    for kind, where in report.get("profile", {}).items():
        print(f"profile ({kind}): {where}")
    print(
        f"\nlab: up in {report['lab_up_s']}s; {report['hosts']} hosts up: their processes"
        f" {report['lab_pss_mb']} MB (PSS), the machine's used memory +"
        f"{report['lab_memory_mb']} MB; down: exit {report.get('lab_down_exit')} in"
        f" {report.get('lab_down_s')}s"
    )


def lab_memory_mb() -> float:
    """Memory in use on the machine (MemTotal - MemAvailable), MB: taken before lab up and
    with the lab up, the difference is what the lab's hosts hold (sshd, PID 1s, tmpfs)."""
    info = {
        line.split(":")[0]: int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
    }
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def ensure_ansible_venv() -> None:
    if (ANSIBLE_VENV / "bin" / "ansible-playbook").exists() and (
        ANSIBLE_VENV / "bin" / "py-spy"
    ).exists():
        return
    print(f"creating {ANSIBLE_VENV} (ansible-core, py-spy from PyPI)", file=sys.stderr)
    subprocess.run([str(PROJECT_PYTHON), "-m", "venv", str(ANSIBLE_VENV)], check=True)
    subprocess.run(
        [str(ANSIBLE_VENV / "bin" / "pip"), "install", "--quiet", "ansible-core", "py-spy"],
        check=True,
    )


def bench(args: argparse.Namespace) -> dict[str, Any]:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    work = Path(tempfile.mkdtemp(prefix="hvbridge-bench-"))
    lab_dir = work / "lab"
    tools = args.tools or list(TOOLS)
    runs: list[Run] = []
    report: dict[str, Any] = {}
    memory_before = lab_memory_mb()
    lab_up = memory = pss = lab_down = 0.0
    try:
        started = time.perf_counter()
        # --via-jump: the lab's jump host in front of the hosts (the lab's default).
        direct = [] if args.via_jump else ["--direct"]
        hvbridge_cli(lab_dir, "lab", "up", "--hosts", str(args.hosts), *direct,
                     "--no-libvirt", "--platform", args.platform)  # fmt: skip
        lab_up = time.perf_counter() - started
        print(f"lab up: {args.hosts} {args.platform} hosts in {lab_up:.1f}s",
              file=sys.stderr)  # fmt: skip
        hosts = load_hosts(lab_dir)
        jump = load_jump(lab_dir) if args.via_jump else None
        memory = lab_memory_mb()
        pss = hosts_pss_mb([*hosts, *([jump] if jump else [])])
        print(f"lab memory: hosts' processes {pss:.0f} MB (PSS); the machine's used memory"
              f" {memory_before:.0f} -> {memory:.0f} MB", file=sys.stderr)  # fmt: skip
        lab = Lab(lab_dir, hosts, {}, args.platform, jump)
        if args.platform in FILE_PLATFORMS:
            lab.files, lab.expected = file_expectations(lab)
        else:
            start = (
                f"{CONNECTIONS}/eth0.nmconnection"
                if args.platform in NM_PLATFORMS
                else f"{SCRIPTS}/ifcfg-eth0"
            )
            lab.originals = each_host(hosts, lambda h: in_host(h, f"cat {start}").stdout)
        become_subreaper()
        for index in range(1, args.runs + 1):
            for tool in tools:
                run = timed_run(lab, tool, index, args.workers, work)
                runs.append(run)
                state = "ok" if run.ok else "FAILED"
                print(
                    f"run {index} {tool}: {state} wall {run.wall:.2f}s cpu {run.cpu:.2f}s "
                    f"hosts cpu {run.hosts_cpu:.2f}s rss {run.rss_mb:.1f}MB"
                    f" logins/host {run.ssh_connections:.1f}",
                    file=sys.stderr,
                )
        summary = summarise(runs)
        report = {
            "hosts": args.hosts,
            "platform": args.platform,
            "via_jump": args.via_jump,
            "lab_up_s": round(lab_up, 1),
            "lab_memory_mb": round(memory - memory_before),
            "lab_pss_mb": round(pss),
            "workers": args.workers,
            "runs": args.runs,
            "machine": machine(),
            "summary": summary,
            "ratios": ratios(summary),
            "hvbridge_steps": hvbridge_steps(work, runs),
            "failed_runs": [dataclasses.asdict(r) for r in runs if not r.ok],
            "all_runs": [dataclasses.asdict(r) for r in runs],
        }
        if args.profile:
            report["profile"] = profile(lab, work, args.workers)
    finally:
        started = time.perf_counter()
        down = subprocess.run([str(HVBRIDGE), "--lab-dir", str(lab_dir), "lab", "down"],
                              cwd=ROOT, check=False, stdout=subprocess.DEVNULL)  # fmt: skip
        lab_down = time.perf_counter() - started
        print(f"lab down: exit {down.returncode} in {lab_down:.1f}s", file=sys.stderr)
        if report:
            report["lab_down_s"] = round(lab_down, 1)
            report["lab_down_exit"] = down.returncode
        if args.keep_work:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="also profile hvbridge: bench/profile-N.svg"
    )
    parser.add_argument("--tools", nargs="+", choices=TOOLS, help="only these (default: all)")
    parser.add_argument(
        "--platform", choices=PLATFORMS, default="el6", help="the lab hosts' platform"
    )
    parser.add_argument(
        "--keep-work", action="store_true", help="keep the logs, hvbridge state and reports"
    )
    parser.add_argument(
        "--via-jump",
        action="store_true",
        help="every tool reaches the hosts through the lab's jump host (default: direct)",
    )
    parser.add_argument("--floor-paramiko", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_paramiko:
        return floor_paramiko(args.floor_paramiko)
    if args.platform in HVBRIDGE_ONLY and set(args.tools or TOOLS) != {"hvbridge"}:
        # Ansible's playbook and the floors write el6's ifcfg files and run `service
        # network restart`: an el8/el9, debian or ubuntu host has no such service, their
        # work is not that platform's.
        parser.error(
            f"--platform {args.platform}: only --tools hvbridge (the others do el6's work)"
        )
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces and the lab)")
    if not in_private_netns():
        ensure_ansible_venv()
        reexec_in_netns(argv)

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    report = bench(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0 if not report["failed_runs"] else 1


if __name__ == "__main__":
    sys.exit(main())
