"""`lab up`, `lab down` and `lab status`: build, remove and look at a lab."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from hvbridge.errors import HostError
from hvbridge.lab import preflight
from hvbridge.lab.fleet import LabPlatform, describe
from hvbridge.lab.hostfiles import (
    SshProfile,
    host_empty_dirs,
    host_files,
    host_key_type,
    host_overlays,
    host_profile,
)
from hvbridge.lab.inventory import inventory_files, ssh_config, write_inventory
from hvbridge.lab.state import HostRecord, LabPaths, LabState, load, save
from hvbridge.lab.topology import (
    CONTROLLER_ADDR,
    CONTROLLER_DATA_ADDR,
    DATA_MTU,
    DATA_NET,
    DATA_NET6,
    DATA_SWITCH,
    INNER_NET6,
    LINK_PREFIX,
    OUTER_NET,
    OUTER_NET6,
    OUTER_SWITCH,
    LabHost,
    Topology,
    gateway6,
    plan,
)
from hvbridge.lab.vmagent import inside_vm
from hvbridge.ssh import Connection, Endpoint, SSHError, SSHOptions

INIT_MODULE = "hvbridge.lab.init"
READY_TIMEOUT = 30.0
BOOT_TIMEOUT = 120.0
T = TypeVar("T")
R = TypeVar("R")


class LabError(HostError, RuntimeError):
    pass


@dataclass(frozen=True)
class HostStatus:
    name: str
    address: str
    mac: str
    running: bool
    ssh: str
    platform: str = "el6"


def _parallel(func: Callable[[T], R], items: Iterable[T], workers: int = 16) -> list[R]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def _run(argv: list[str], *, timeout: float = 60.0, stdin: str | None = None) -> str:
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def nsenter(pid: int) -> list[str]:
    return ["nsenter", "--target", str(pid), "--mount", "--uts", "--net", "--pid", "--"]


def _keygen(path: Path, key_type: str, comment: str) -> tuple[str, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    bits = ["-b", "2048"] if key_type == "rsa" else []
    _run(["ssh-keygen", "-q", "-t", key_type, *bits, "-N", "", "-C", comment, "-f", str(path)])
    return path.read_text(), path.with_suffix(".pub").read_text()


def _ssh_timeout() -> float:
    """Seconds for a lab host's SSH handshake or a probe: an SSH login through the jump
    host takes seconds under the VM lab's emulation (hvbridge.lab.vm), more when busy."""
    return 120.0 if inside_vm() else 10.0


def _links() -> set[str]:
    """Link names of this network namespace (sysfs may show another namespace's)."""
    out = _run(["ip", "-o", "link", "show"])
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


class Lab:
    def __init__(self, state_dir: Path) -> None:
        self.paths = LabPaths(state_dir.resolve())

    # -- up ---------------------------------------------------------------

    def up(
        self,
        *,
        hosts: int,
        direct: bool,
        libvirt: bool,
        profile: SshProfile,
        platforms: Sequence[LabPlatform] = (),
        nics: int = 1,
        log: Callable[[str], None] = print,
    ) -> LabState:
        """`platforms`: each hypervisor's, hv01 first (default: all el6); `nics`: how many
        NICs each hypervisor has (the further ones on the data switch)."""
        topology = plan(hosts, direct=direct, platforms=platforms, nics=nics)
        preflight.check(
            libvirt=libvirt,
            networkmanager=topology.has_networkmanager,
            ifupdown=topology.has_ifupdown,
            ifupdown2=topology.has_ifupdown2,
            netplan=topology.has_netplan,
        )
        if load(self.paths) is not None:
            raise LabError(
                f"a lab is already up in {self.paths.root}: run `hvbridge lab down` first"
            )
        leftovers = sorted(set(topology.switches) & _links())
        if leftovers:
            raise LabError(
                f"switch {', '.join(leftovers)} already exists (another lab in this network"
                " namespace?): run `hvbridge lab down` for it first"
            )
        started = time.monotonic()
        state = LabState(
            hosts_count=hosts,
            direct=direct,
            libvirt=libvirt,
            profile=profile,
            domain_type="kvm" if preflight.kvm_usable() else "qemu",
            switches=list(topology.switches),
            links=[peer for host in topology.hosts for peer in host.peers],
            nics=nics,
        )
        self.paths.root.mkdir(parents=True, exist_ok=True)
        save(self.paths, state)
        try:
            self._build(topology, state, log)
        except BaseException:
            log("lab up failed; removing what was made")
            try:
                self.down(log=lambda _msg: None)
            except LabError as exc:
                log(f"cleanup incomplete: {exc} (run `hvbridge lab down` again)")
            raise
        mix = describe(tuple(h.platform for h in topology.hypervisors))
        log(f"lab up: {hosts} hypervisors ({mix}) in {time.monotonic() - started:.1f}s")
        return state

    def _build(self, topology: Topology, state: LabState, log: Callable[[str], None]) -> None:
        user_key_type = "rsa" if state.profile == "el6" else "ed25519"
        _, user_pub = _keygen(self.paths.key, user_key_type, "hvbridge-lab")
        lab_profile: SshProfile = state.profile  # type: ignore[assignment]
        profiles = {
            h.name: host_profile(lab_profile, h, el7_hosts=topology.has_el7) for h in topology.hosts
        }
        host_keys = _parallel(
            lambda h: _keygen(
                self.paths.host_dir(h.name) / "ssh_host_key",
                host_key_type(profiles[h.name]),
                h.name,
            ),
            topology.hosts,
        )
        for host, host_key in zip(topology.hosts, host_keys, strict=True):
            files = host_files(
                host,
                profile=profiles[host.name],
                libvirt=state.libvirt,
                authorized_key=user_pub,
                host_key=host_key,
                domain_type=state.domain_type,
            )
            config = {
                "hostname": host.name,
                "files": [asdict(f) for f in files],
                "overlays": host_overlays(host),
                "empty": host_empty_dirs(host),
            }
            self.paths.init_config(host.name).write_text(json.dumps(config))
        log(f"starting {len(topology.hosts)} hosts")
        self._start_hosts(topology, state)
        self._wire(topology, state)
        log("booting hosts (network, sshd" + (", libvirtd)" if state.libvirt else ")"))
        failures = [f for f in _parallel(lambda h: self._boot(h, state), topology.hosts) if f]
        if failures:
            raise LabError("hosts failed to boot:\n" + "\n".join(failures))
        jump = topology.jump
        if jump is not None:
            # The jump host is the hypervisors' IPv6 gateway on the inner switch (after its
            # boot, whose network start would flush it).
            pid = state.hosts[jump.name].init_pid
            assert pid is not None
            inner6 = ["ip", "addr", "add", str(gateway6(INNER_NET6)), "dev", jump.ports[1].name]
            _run([*nsenter(pid), *inner6, "nodad"])
        self._write_access(topology, state, host_keys)
        self._wait_for_ssh(topology, state)

    def _start_hosts(self, topology: Topology, state: LabState) -> None:
        procs = {}
        for host in topology.hosts:
            log_file = (self.paths.host_dir(host.name) / "init.log").open("w")
            argv = [
                "unshare", "--net", "--mount", "--uts", "--pid", "--fork", "--mount-proc",
                "--propagation", "private", "--",
                sys.executable, "-m", INIT_MODULE, str(self.paths.init_config(host.name)),
            ]  # fmt: skip
            procs[host.name] = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=log_file, text=True, start_new_session=True
            )
            log_file.close()
        for host in topology.hosts:
            proc = procs[host.name]
            assert proc.stdout is not None
            init_pid = _child_of(proc.pid, READY_TIMEOUT)
            state.hosts[host.name] = HostRecord(
                name=host.name,
                address=host.address,
                mac=host.management.mac,
                hypervisor=host.is_hypervisor,
                guest_mac=host.guest_mac if state.libvirt else None,
                init_pid=init_pid,
                platform=host.platform,
                nics=[list(nic) for nic in host.nics],
                ssh_profile=host_profile(
                    state.profile,  # type: ignore[arg-type]
                    host,
                    el7_hosts=topology.has_el7,
                ),
            )
            save(self.paths, state)
            if proc.stdout.readline().strip() != "ready":
                log_text = (self.paths.host_dir(host.name) / "init.log").read_text()
                raise LabError(f"{host.name}: namespace init failed:\n{log_text}")
            proc.stdout.close()

    def _wire(self, topology: Topology, state: LabState) -> None:
        cmds = []
        for switch in topology.switches:
            cmds += [f"link add {switch} type bridge", f"link set {switch} up"]
        cmds.append(f"addr add {CONTROLLER_ADDR}/{OUTER_NET.prefixlen} dev {OUTER_SWITCH}")
        # The controller is the hypervisors' IPv6 gateway on the outer switch (`nodad`: the
        # address is usable at once, and nothing else on a lab switch claims ::1).
        cmds.append(f"addr add {gateway6(OUTER_NET6)} dev {OUTER_SWITCH} nodad")
        if DATA_SWITCH in topology.switches:
            cmds += [
                f"link set {DATA_SWITCH} mtu {DATA_MTU}",
                f"addr add {CONTROLLER_DATA_ADDR}/{DATA_NET.prefixlen} dev {DATA_SWITCH}",
                f"addr add {gateway6(DATA_NET6)} dev {DATA_SWITCH} nodad",
            ]
        for host in topology.hosts:
            pid = state.hosts[host.name].init_pid
            for port in host.ports:
                cmds += [
                    f"link add {port.peer} type veth peer name {port.name} address {port.mac}"
                    f" netns {pid}",
                    f"link set {port.peer} master {port.switch} up",
                ]
            for nic in host.data_nics:
                cmds += [
                    f"link add {nic.peer} mtu {nic.mtu} type veth peer name {nic.name}"
                    f" mtu {nic.mtu} address {nic.mac} netns {pid}",
                    f"link set {nic.peer} master {nic.switch} up",
                ]
        _run(["ip", "-batch", "-"], stdin="\n".join(cmds) + "\n")
        # A bridge takes the smallest MTU of its ports: set again once they are in.
        if DATA_SWITCH in topology.switches:
            _run(["ip", "link", "set", DATA_SWITCH, "mtu", str(DATA_MTU)])

    def _boot(self, host: LabHost, state: LabState) -> str | None:
        pid = state.hosts[host.name].init_pid
        assert pid is not None
        proc = subprocess.run(
            [*nsenter(pid), "sh", "/etc/hvbridge-lab/boot.sh"],
            capture_output=True,
            text=True,
            timeout=BOOT_TIMEOUT,
        )
        if proc.returncode == 0:
            return None
        return f"{host.name}: {(proc.stdout + proc.stderr).strip()}"

    def _write_access(
        self, topology: Topology, state: LabState, host_keys: list[tuple[str, str]]
    ) -> None:
        lines = []
        for host, (_, public) in zip(topology.hosts, host_keys, strict=True):
            key_type, key_b64 = public.split()[:2]
            lines.append(f"{host.address} {key_type} {key_b64}")
        self.paths.known_hosts.write_text("\n".join(lines) + "\n")
        self.paths.ssh_config.write_text(
            ssh_config(
                topology,
                profile=state.profile,  # type: ignore[arg-type]
                key=self.paths.key,
                known_hosts=self.paths.known_hosts,
            )
        )
        write_inventory(
            self.paths.inventory,
            inventory_files(
                topology, libvirt=state.libvirt, key=self.paths.key,
                known_hosts=self.paths.known_hosts,
            ),
        )  # fmt: skip

    def _wait_for_ssh(self, topology: Topology, state: LabState) -> None:
        deadline = time.monotonic() + 30
        pending = list(topology.hosts)
        while pending:
            answers = _parallel(lambda h: self.probe(h.name, state), pending)
            pending = [h for h, ok in zip(pending, answers, strict=True) if not ok.startswith("ok")]
            if pending and time.monotonic() > deadline:
                details = "; ".join(f"{h.name}: {self.probe(h.name, state)}" for h in pending)
                raise LabError(f"hosts do not answer SSH: {details}")
            if pending:
                time.sleep(0.5)

    # -- access -----------------------------------------------------------

    def ssh_options(self, name: str, state: LabState) -> SSHOptions:
        jump: tuple[Endpoint, ...] = ()
        if not state.direct and name != "jump" and "jump" in state.hosts:
            jump = (Endpoint(state.hosts["jump"].address),)
        profile = state.hosts[name].ssh_profile or state.profile
        return SSHOptions(
            known_hosts=self.paths.known_hosts,
            key_filename=self.paths.key,
            jump=jump,
            platform="el6" if profile == "el6" else "modern",
            connect_timeout=_ssh_timeout(),
        )

    def connect(self, name: str, state: LabState | None = None) -> Connection:
        state = state or self.require_state()
        if name not in state.hosts:
            raise LabError(f"no lab host {name!r}; hosts: {', '.join(state.hosts)}")
        conn = Connection(Endpoint(state.hosts[name].address), self.ssh_options(name, state))
        conn.open()
        return conn

    def probe(self, name: str, state: LabState) -> str:
        try:
            with self.connect(name, state) as conn:
                result = conn.run("hostname", timeout=_ssh_timeout())
        except SSHError as exc:
            return f"no: {exc}"
        if result.exit_status != 0 or result.stdout.strip() != name:
            return f"no: hostname said {result.stdout.strip()!r} ({result.exit_status})"
        return "ok"

    def require_state(self) -> LabState:
        state = load(self.paths)
        if state is None:
            raise LabError(f"no lab is up in {self.paths.root} (run `hvbridge lab up`)")
        return state

    def status(self) -> list[HostStatus]:
        state = self.require_state()

        def one(rec: HostRecord) -> HostStatus:
            running = rec.init_pid is not None and _is_our_init(rec.init_pid, self.paths)
            ssh = self.probe(rec.name, state) if running else "no: host is not running"
            # The jump host is infrastructure, of no platform hvbridge manages.
            platform = rec.platform if rec.hypervisor else "-"
            return HostStatus(rec.name, rec.address, rec.mac, running, ssh, platform)

        return _parallel(one, list(state.hosts.values()))

    # -- down -------------------------------------------------------------

    def down(self, *, log: Callable[[str], None] = print) -> None:
        state = load(self.paths)
        pids = {rec.init_pid for rec in state.hosts.values() if rec.init_pid} if state else set()
        pids |= set(_find_inits(self.paths))
        ours = [pid for pid in pids if _is_our_init(pid, self.paths)]
        for pid in ours:
            os.kill(pid, signal.SIGKILL)
        _wait_gone(ours)
        present = _links()
        planned = set(state.switches + state.links) if state else set()
        doomed = sorted(n for n in present if n in planned or n.startswith(LINK_PREFIX))
        for link in doomed:
            subprocess.run(["ip", "link", "del", link], capture_output=True, check=False)
        if self.paths.root.exists():
            shutil.rmtree(self.paths.root)
        log(
            f"lab down: stopped {len(ours)} processes, removed links {doomed} and {self.paths.root}"
        )


def _child_of(pid: int, timeout: float) -> int:
    """The namespace's PID 1: the only child of the `unshare --fork` process."""
    deadline = time.monotonic() + timeout
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    while time.monotonic() < deadline:
        try:
            children = children_file.read_text().split()
        except FileNotFoundError as exc:
            raise LabError(f"unshare (pid {pid}) exited before starting the host") from exc
        if children:
            return int(children[0])
        time.sleep(0.01)
    raise LabError(f"unshare (pid {pid}) started no host within {timeout}s")


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def _is_our_init(pid: int, paths: LabPaths) -> bool:
    argv = _cmdline(pid)
    if not _alive(pid):
        return False
    return INIT_MODULE in argv and any(a.startswith(str(paths.root) + "/") for a in argv)


def _find_inits(paths: LabPaths) -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _is_our_init(int(p), paths)]


def _alive(pid: int) -> bool:
    """Running, not a zombie: a killed `unshare` stays a zombie until its parent reaps it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return
        time.sleep(0.05)
    raise LabError(f"lab processes did not stop: {pids}")
