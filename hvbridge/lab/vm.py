"""`hvbridge lab up --kernel debian`: the whole lab inside one QEMU VM on Debian's kernel.

This machine's kernel has no bonding and no 802.1Q; Debian's has (hvbridge.lab.vmimage
caches it). The VM boots under software emulation with no NIC at all: it shares this
machine's / read-only over 9p (a tmpfs overlay on top), so the same python, hvbridge and
lab packages run inside, and the lab's own `lab up` builds the namespaced lab there.

The host talks to the VM through one more 9p share, LAB_DIR/vm/share on the host and
/run/hvbridge-vm/share in the VM: the agent there (hvbridge.lab.vmagent) runs the commands
the host puts in its spool and streams their output back. `lab status`, `lab ssh HOST --
CMD`, `lab down` and `lab exec -- CMD` forward through it; the controller (`hvbridge run`)
runs inside the VM too, on the same paths, since the lab's switches exist only in the VM's
network.

Inside the VM, LAB_DIR is the overlay's: the inner lab's keys, state, inventory and sockets
stay in the VM's memory and go with it. Files for the VM that change while it runs go
through the share (`VmLab.inside`): the overlay shows the host's other files as they were.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from hvbridge.errors import HostError
from hvbridge.lab import vmimage
from hvbridge.lab.preflight import PreflightError
from hvbridge.lab.state import LabPaths, LabState, load
from hvbridge.lab.vmagent import inside_vm
from hvbridge.lab.vmimage import VmImage

QEMU = "qemu-system-x86_64"
QBOOT = Path("/usr/share/qemu/qboot.rom")
KERNELS = ("debian",)
MEMORY_MB = 2048
CPUS = 2
BOOT_TIMEOUT = 600.0
SSH_CONNECT_TIMEOUT = 120
STOP_TIMEOUT = 30.0
POLL = 0.05
# Mount points inside the VM (the initramfs's /init makes them: hvbridge.lab.vmimage).
VM_BIN = "/run/hvbridge-vm/bin"
VM_SHARE = "/run/hvbridge-vm/share"
VM_SPOOL = f"{VM_SHARE}/spool"
# Environment a forwarded command keeps; the rest of this process's stays outside.
FORWARDED_ENV = ("PATH", "HOME", "LANG", "TERM", "COLUMNS", "NO_COLOR", "FORCE_COLOR")
FORWARDED_PREFIXES = ("HVBRIDGE_", "LC_", "PYTHON", "VIRTUAL_ENV")
# Loaded at boot: bonds and VLANs for the lab; bridge and veth so that nothing waits for
# the kernel to ask modprobe. max_bonds=0: no bond0 appears by itself.
BOOT_MODULES = (("bonding", "max_bonds=0"), ("8021q", ""), ("bridge", ""), ("veth", ""))


class VmLabError(HostError, RuntimeError):
    pass


@dataclass(frozen=True)
class VmState:
    pid: int
    release: str
    cache: str
    boot_seconds: float


@dataclass(frozen=True)
class VmPaths:
    """LAB_DIR/vm: the host's files for the VM (state, console) and the shared spool."""

    lab_dir: Path

    @property
    def root(self) -> Path:
        return self.lab_dir / "vm"

    @property
    def state(self) -> Path:
        return self.root / "vm.json"

    @property
    def console(self) -> Path:
        return self.root / "console.log"

    @property
    def share(self) -> Path:
        return self.root / "share"

    @property
    def spool(self) -> Path:
        return self.share / "spool"


def qemu_argv(image: VmImage, paths: VmPaths, *, memory_mb: int = MEMORY_MB) -> list[str]:
    """The VM: software emulation (no usable KVM here), no NIC, the serial console to a
    file, this machine's / read-only, the kernel's modules, and the share."""

    def share(tag: str, path: Path, *options: str) -> list[str]:
        fsdev = ",".join((f"local,id={tag},path={path}", *options))
        return ["-fsdev", fsdev, "-device", f"virtio-9p-pci,fsdev={tag},mount_tag={tag}"]

    return [
        QEMU,
        "-name",
        "hvbridge-lab",
        "-accel",
        "tcg,thread=multi",
        "-cpu",
        "qemu64",
        "-M",
        "q35",
        "-smp",
        str(CPUS),
        "-m",
        str(memory_mb),
        "-bios",
        str(QBOOT),
        "-nic",
        "none",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        f"file:{paths.console}",
        "-no-reboot",
        "-kernel",
        str(image.vmlinux),
        "-initrd",
        str(image.initramfs),
        "-append",
        "console=ttyS0 mitigations=off panic=-1 quiet",
        *share("root", Path("/"), "security_model=none", "readonly=on", "multidevs=remap"),
        *share("modules", image.modules, "security_model=none", "readonly=on"),
        *share("share", paths.share, "security_model=passthrough"),
    ]


def boot_script() -> str:
    """Busybox init's sysinit inside the VM: the kernel's file systems and the modules.
    LAB_DIR inside the VM is the overlay's (its writes stay in the VM's tmpfs, and the
    inner lab's `down` removes it there, never the host's files)."""
    bb = f"{VM_BIN}/busybox"
    modprobes = "\n".join(f"{bb} modprobe {name} {args}".rstrip() for name, args in BOOT_MODULES)
    return f"""set -e
{bb} mount -t proc proc /proc
{bb} mount -t sysfs sys /sys
{bb} mount -t cgroup2 cgroup2 /sys/fs/cgroup
{bb} mkdir -p /dev/pts /dev/shm
{bb} mount -t devpts devpts /dev/pts
{bb} mount -t tmpfs shm /dev/shm
{bb} hostname hvbridge-vm
{bb} ip link set lo up
# The kernel asks /sbin/modprobe for modules; this machine may have no kmod.
[ -e /sbin/modprobe ] || {bb} ln -s {bb} /sbin/modprobe
{modprobes}
"""


def agent_script() -> str:
    agent = Path(__file__).with_name("vmagent.py")
    return (
        f"exec {shlex.quote(sys.executable)} {shlex.quote(str(agent))}"
        f" {VM_SPOOL} >/dev/console 2>&1\n"
    )


def forwarded_env(environ: dict[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in environ.items()
        if key in FORWARDED_ENV or key.startswith(FORWARDED_PREFIXES)
    }


def _alive(pid: int) -> bool:
    """`pid` is still this lab's QEMU (not a process that got its number since)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(argv) and Path(argv[0].decode()).name == QEMU and b"hvbridge-lab" in argv


class VmLab:
    def __init__(self, lab_dir: Path) -> None:
        self.paths = VmPaths(lab_dir.resolve())

    def inside(self, path: Path) -> Path:
        """Where a file under LAB_DIR/vm/share is seen inside the VM (the only place both
        sides see the same files as they change)."""
        return Path(VM_SHARE) / path.resolve().relative_to(self.paths.share)

    def state(self) -> VmState | None:
        try:
            return VmState(**json.loads(self.paths.state.read_text()))
        except FileNotFoundError:
            return None

    def is_up(self) -> bool:
        """A VM lab was started here (it may have died: `lab down` still cleans it). Inside
        the VM, the lab is the ordinary one, whatever LAB_DIR/vm the overlay shows."""
        return self.paths.root.is_dir() and not inside_vm()

    # -- up ---------------------------------------------------------------

    def up(self, lab_up: Sequence[str], *, project: Path) -> int:
        """Boot the VM and run `hvbridge lab up LAB_UP...` inside it; its exit status."""
        image = self._preflight()
        if self.is_up() or (self.paths.lab_dir / "lab.json").exists():
            raise VmLabError(
                f"a lab is already up in {self.paths.lab_dir}: run `hvbridge lab down` first"
            )
        self.paths.spool.mkdir(parents=True)
        (self.paths.share / "boot.sh").write_text(boot_script())
        (self.paths.share / "agent.sh").write_text(agent_script())
        started = time.monotonic()
        with self.paths.console.open("wb") as console:
            qemu = subprocess.Popen(
                qemu_argv(image, self.paths),
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=console,
                start_new_session=True,
            )
        self._save(VmState(qemu.pid, image.release, str(image.root), 0.0))
        self._wait_ready(qemu, started)
        booted = round(time.monotonic() - started, 1)
        self._save(VmState(qemu.pid, image.release, str(image.root), booted))
        print(f"VM lab: Debian kernel {image.release} booted in {booted} s (qemu pid {qemu.pid})")
        code = self.hvbridge(["lab", "up", *lab_up], project=project)
        if code == 0:
            # The inner lab's state and inventory, for this side to read (`lab ssh`, tests).
            inner = self.paths.lab_dir
            copy = ["cp", "-a", str(inner / "lab.json"), str(inner / "inventory")]
            self.execute(["mkdir", "-p", f"{VM_SHARE}/lab"])
            code = self.execute([*copy, f"{VM_SHARE}/lab"])
        if code != 0:
            # As the ordinary `lab up` does when it fails: nothing stays up.
            self.down()
        return code

    def lab_state(self) -> LabState:
        """The inner lab's state, as its `lab up` left it."""
        state = load(LabPaths(self.paths.share / "lab"))
        if state is None:
            raise VmLabError(f"the VM lab in {self.paths.lab_dir} has no lab up inside")
        return state

    def ssh(self, host: str, command: Sequence[str]) -> int:
        """OpenSSH to a lab host from inside the VM. Its ConnectTimeout is raised: under
        software emulation a login through the jump host takes seconds, many on a busy
        machine."""
        state = self.lab_state()
        if host not in state.hosts:
            raise VmLabError(f"no lab host {host!r}; hosts: {', '.join(state.hosts)}")
        config = str(self.paths.lab_dir / "ssh_config")
        timeout = f"ConnectTimeout={SSH_CONNECT_TIMEOUT}"
        return self.execute(["ssh", "-F", config, "-o", timeout, host, *command])

    def _preflight(self) -> VmImage:
        missing = [
            f"{need} (apt-get install {pkg})"
            for need, pkg in ((QEMU, "qemu-system-x86"), (str(QBOOT), "qemu-system-data"))
            if shutil.which(need) is None and not Path(need).exists()
        ]
        if missing:
            raise PreflightError(f"the VM lab needs {', '.join(missing)}")
        cache = vmimage.cache_dir()
        image = vmimage.load(cache)
        if image is None:
            raise PreflightError(
                f"the VM lab's cache {cache} is empty or incomplete (Debian's kernel and the"
                f" initramfs): run {vmimage.FILL_COMMAND}"
            )
        return image

    def _save(self, state: VmState) -> None:
        tmp = self.paths.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state)))
        tmp.rename(self.paths.state)

    def _wait_ready(self, qemu: subprocess.Popen[bytes], started: float) -> None:
        ready = self.paths.spool / "ready"
        while not ready.exists():
            if qemu.poll() is not None or time.monotonic() - started > BOOT_TIMEOUT:
                why = "QEMU exited" if qemu.poll() is not None else f"not up in {BOOT_TIMEOUT} s"
                self.down()
                raise VmLabError(f"the VM lab did not boot ({why}); console:\n{self._tail()}")
            time.sleep(0.2)

    def _tail(self, lines: int = 15) -> str:
        try:
            text = self.paths.console.read_text(errors="replace")
        except FileNotFoundError:
            return "(no console output)"
        return "\n".join(text.splitlines()[-lines:])

    # -- forwarding -------------------------------------------------------

    def hvbridge(self, args: Sequence[str], *, project: Path) -> int:
        """`hvbridge ARGS` inside the VM, on this lab dir and project."""
        argv = [sys.executable, "-m", "hvbridge.cli", "--project", str(project.resolve())]
        return self.execute([*argv, "--lab-dir", str(self.paths.lab_dir), *args])

    def execute(self, argv: Sequence[str], *, cwd: Path | None = None) -> int:
        """Run `argv` in the VM (its root network namespace: the lab's controller side),
        its output streamed to this process's; its exit status."""
        state = self.state()
        if state is None or not _alive(state.pid):
            raise VmLabError(
                f"the VM lab in {self.paths.lab_dir} is not running: `hvbridge lab down`"
                " cleans it up"
            )
        ident = uuid.uuid4().hex
        spool = self.paths.spool
        request = {
            "argv": list(argv),
            "cwd": str(cwd or Path.cwd()),
            "env": forwarded_env(dict(os.environ)),
        }
        tmp = spool / "requests" / f".{ident}.tmp"
        tmp.write_text(json.dumps(request))
        tmp.rename(spool / "requests" / f"{ident}.json")
        out = spool / "out"
        rc = out / f"{ident}.rc"
        streams = [
            _Follow(out / f"{ident}.stdout", sys.stdout.buffer),
            _Follow(out / f"{ident}.stderr", sys.stderr.buffer),
        ]
        try:
            while not rc.exists():
                if not _alive(state.pid):
                    raise VmLabError("the VM lab's QEMU exited while a command ran")
                for stream in streams:
                    stream.pump()
                time.sleep(POLL)
        except KeyboardInterrupt:
            (spool / "kill" / ident).touch()
            raise
        for stream in streams:
            stream.pump()
        code = int(rc.read_text())
        for path in (rc, *(stream.path for stream in streams)):
            path.unlink(missing_ok=True)
        return code

    def status(self, *, project: Path) -> int:
        """The VM's line, then the inner lab's `lab status`; its exit status."""
        state = self.state()
        if state is None or not _alive(state.pid):
            print(f"VM lab: QEMU is not running (`hvbridge lab down` cleans up {self.paths.root})")
            return 1
        print(
            f"VM lab: qemu pid {state.pid}, Debian kernel {state.release},"
            f" booted in {state.boot_seconds} s"
        )
        return self.hvbridge(["lab", "status"], project=project)

    # -- down -------------------------------------------------------------

    def down(self) -> None:
        """Stop the inner lab (when the VM still answers), QEMU, and remove LAB_DIR."""
        state = self.state()
        if state is not None and _alive(state.pid):
            if (self.paths.spool / "ready").exists():
                lab_dir = str(self.paths.lab_dir)
                self.execute(
                    [sys.executable, "-m", "hvbridge.cli", "--lab-dir", lab_dir, "lab", "down"]
                )
            _stop(state.pid)
        if self.paths.lab_dir.exists():
            shutil.rmtree(self.paths.lab_dir)
        print(f"lab down: stopped the VM lab and removed {self.paths.lab_dir}")


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            _reap(pid)
            time.sleep(0.1)


def _reap(pid: int) -> None:
    """QEMU is our child when the same process started it (tests, `lab up` and `down` in
    one process): collect it, or it stays a zombie that still looks alive."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


class _Follow:
    """Copies what a file gains to a stream, as the command in the VM writes it."""

    def __init__(self, path: Path, sink: BinaryIO) -> None:
        self.path = path
        self.sink = sink
        self.offset = 0

    def pump(self) -> None:
        try:
            with self.path.open("rb") as src:
                src.seek(self.offset)
                data = src.read()
        except FileNotFoundError:
            return
        if data:
            self.offset += len(data)
            self.sink.write(data)
            self.sink.flush()
