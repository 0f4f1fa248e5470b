"""The VM lab's boot files: Debian's kernel and a busybox initramfs, in a cache outside the
repository (`scripts/install` fills it; `hvbridge lab up --kernel debian` only reads it).

This machine's kernel has no bonding, 802.1Q or modules; Debian's has them as modules. The
cache holds what QEMU boots (hvbridge.lab.vm):

    vmlinux           the uncompressed kernel (QEMU boots its ELF through PVH: no
                      decompression under software emulation)
    initramfs.cpio    busybox, the modules that mount the root (virtio, 9p, overlay) and
                      /init, which mounts this machine's / read-only over 9p under a tmpfs
                      overlay and hands over to busybox init
    modules/VERSION/  the kernel's /lib/modules/VERSION with busybox depmod's modules.dep
    busybox           the static busybox (depmod, modprobe and init inside the VM)
    release           VERSION, written last: the cache is complete when it exists

Imports nothing outside the standard library: scripts/install runs it with the system
python3 before hvbridge's venv exists.
"""

from __future__ import annotations

import argparse
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path("/var/cache/hvbridge/vm")
CACHE_ENV = "HVBRIDGE_VM_CACHE"
FILL_COMMAND = "scripts/install (as root, with network: it fills the VM lab's cache)"
KERNEL_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
# What /init loads, in this order's closure, to mount its root and the shares.
ROOT_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")
XZ_MAGIC = b"\xfd7zXZ\x00"
ELF_MAGIC = b"\x7fELF"


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


@dataclass(frozen=True)
class VmImage:
    """A complete cache."""

    root: Path
    release: str

    @property
    def vmlinux(self) -> Path:
        return self.root / "vmlinux"

    @property
    def initramfs(self) -> Path:
        return self.root / "initramfs.cpio"

    @property
    def modules(self) -> Path:
        return self.root / "modules"

    @property
    def busybox(self) -> Path:
        return self.root / "busybox"


def load(root: Path) -> VmImage | None:
    """The cache at `root`, or None when it is missing or was left half-built."""
    release = root / "release"
    if not release.is_file():
        return None
    image = VmImage(root, release.read_text().strip())
    needed = (image.vmlinux, image.initramfs, image.busybox, image.modules / image.release)
    return image if all(path.exists() for path in needed) else None


# -- pure pieces ----------------------------------------------------------


def extract_vmlinux(bzimage: bytes) -> bytes:
    """The ELF kernel inside a bzImage whose payload is xz (Debian's CONFIG_KERNEL_XZ)."""
    start = bzimage.find(XZ_MAGIC)
    while start != -1:
        try:
            elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(bzimage[start:])
        except lzma.LZMAError:
            elf = b""
        if elf.startswith(ELF_MAGIC):
            return elf
        start = bzimage.find(XZ_MAGIC, start + 1)
    raise ValueError("no xz-compressed ELF kernel in the bzImage")


def parse_modules_dep(text: str) -> dict[str, list[str]]:
    """modules.dep: module path -> the paths it needs."""
    deps: dict[str, list[str]] = {}
    for line in text.splitlines():
        if ":" in line:
            path, _, needs = line.partition(":")
            deps[path.strip()] = needs.split()
    return deps


def module_name(path: str) -> str:
    return Path(path).name.removesuffix(".ko").replace("-", "_")


def load_order(deps: dict[str, list[str]], wanted: Iterable[str]) -> list[str]:
    """The module paths to insmod for `wanted` (names), each after what it needs."""
    by_name = {module_name(path): path for path in deps}
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        for need in deps[path]:
            visit(need)
        order.append(path)

    for name in wanted:
        if name not in by_name:
            raise ValueError(f"module {name} is not in modules.dep")
        visit(by_name[name])
    return order


def init_script(modules: Sequence[str]) -> str:
    """The initramfs's /init (busybox sh). The mount tags are hvbridge.lab.vm's."""
    insmods = "\n".join(f"insmod /modules/{Path(path).name}" for path in modules)
    return f"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t devtmpfs dev /dev
{insmods}
fail() {{ echo "hvbridge-vm: $*"; poweroff -f; }}
mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 root /lower || fail "no root share"
mount -t tmpfs -o mode=755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot \\
    || fail "no overlay"
mount -t tmpfs -o mode=755 run /newroot/run
mkdir -p /newroot/run/hvbridge-vm/bin /newroot/run/hvbridge-vm/share /newroot/lib/modules
cp /bin/busybox /newroot/run/hvbridge-vm/bin/busybox
mount -t 9p -o trans=virtio,version=9p2000.L,ro modules /newroot/lib/modules \\
    || fail "no modules share"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 share /newroot/run/hvbridge-vm/share \\
    || fail "no share"
cat > /newroot/etc/inittab <<'EOF'
::sysinit:/run/hvbridge-vm/bin/busybox sh /run/hvbridge-vm/share/boot.sh
::once:/run/hvbridge-vm/bin/busybox sh /run/hvbridge-vm/share/agent.sh
EOF
umount /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /run/hvbridge-vm/bin/busybox init
"""


def cpio_newc(entries: Sequence[tuple[str, int, bytes]]) -> bytes:
    """An uncompressed newc archive (what the kernel unpacks as its initramfs) of
    (path, mode, data) entries; a symlink's data is its target."""
    out = bytearray()

    def add(name: str, mode: int, data: bytes, ino: int) -> None:
        encoded = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
        out.extend(b"070701" + b"".join(b"%08X" % value for value in fields))
        out.extend(encoded)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data) in enumerate(entries, start=1):
        add(name, mode, data, ino)
    add("TRAILER!!!", 0, b"", 0)
    return bytes(out)


DIR, FILE, EXEC = 0o040755, 0o100644, 0o100755


def initramfs(busybox: bytes, modules: Sequence[tuple[str, bytes]], init: str) -> bytes:
    entries: list[tuple[str, int, bytes]] = [
        ("bin", DIR, b""),
        ("bin/busybox", EXEC, busybox),
        ("modules", DIR, b""),
        *((f"modules/{name}", FILE, data) for name, data in modules),
        ("init", EXEC, init.encode()),
    ]
    return cpio_newc(entries)


# -- building the cache ---------------------------------------------------


def _run(argv: Sequence[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _download(packages: Sequence[str], into: Path) -> None:
    _run(["apt-get", "download", "-qq", *packages], cwd=into)


def build(cache: Path, debs: Path) -> VmImage:
    """Fill `cache` from the packages downloaded into `debs` (it is built beside `cache`
    and renamed into place, so that a failure leaves no half-built cache)."""
    unpacked = debs / "unpacked"
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    vmlinuz = sorted((unpacked / "boot").glob("vmlinuz-*"))
    if not vmlinuz:
        raise SystemExit(f"no kernel in the packages downloaded to {debs}")
    release = vmlinuz[-1].name.removeprefix("vmlinuz-")
    busybox = unpacked / "bin" / "busybox"
    modules = unpacked / "lib" / "modules"
    _run([str(busybox), "depmod", "-b", str(unpacked), release])
    tree = modules / release
    deps = parse_modules_dep((tree / "modules.dep").read_text())
    order = load_order(deps, ROOT_MODULES)
    building = cache.with_name(cache.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    (building / "vmlinux").write_bytes(extract_vmlinux(vmlinuz[-1].read_bytes()))
    shutil.copy2(busybox, building / "busybox")
    root_modules = [(Path(path).name, (tree / path).read_bytes()) for path in order]
    (building / "initramfs.cpio").write_bytes(
        initramfs(busybox.read_bytes(), root_modules, init_script(order))
    )
    shutil.move(str(modules), str(building / "modules"))
    (building / "release").write_text(release + "\n")
    shutil.rmtree(cache, ignore_errors=True)
    building.rename(cache)
    image = load(cache)
    assert image is not None
    return image


def fill(cache: Path) -> VmImage:
    """The cache, downloaded and built when it is not complete yet."""
    image = load(cache)
    if image is not None:
        return image
    cache.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache.parent) as tmp:
        debs = Path(tmp)
        if _has_user("_apt"):
            # apt downloads as _apt where it can.
            shutil.chown(debs, user="_apt")
        _download([KERNEL_PACKAGE, BUSYBOX_PACKAGE], debs)
        meta = next(debs.glob(f"{KERNEL_PACKAGE}_*.deb"))
        # linux-image-amd64 only depends on the versioned image, which holds the kernel.
        depends = _run(["dpkg-deb", "-f", str(meta), "Depends"]).split(",")[0].split()[0]
        _download([depends], debs)
        meta.unlink()
        return build(cache, debs)


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m hvbridge.lab.vmimage",
        description="Fill the VM lab's cache (Debian's kernel, a busybox initramfs).",
    )
    parser.add_argument("--cache", type=Path, default=cache_dir())
    args = parser.parse_args(argv)
    image = fill(args.cache)
    print(f"VM lab cache: {image.root} (Debian kernel {image.release})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
