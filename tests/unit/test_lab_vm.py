"""The VM lab's pure pieces (hvbridge.lab.vm, vmimage, vmagent) and its refusals, without
booting anything."""

from __future__ import annotations

import lzma
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hvbridge.cli import main
from hvbridge.lab import vm, vmagent, vmimage
from hvbridge.lab.vm import VmLab, VmPaths, VmState, boot_script, forwarded_env, qemu_argv
from hvbridge.lab.vmimage import VmImage


def test_qemu_has_no_nic_and_shares_root_read_only(tmp_path: Path) -> None:
    image = VmImage(tmp_path / "cache", "6.1.0-57-amd64")
    argv = qemu_argv(image, VmPaths(tmp_path / "lab"))
    assert argv[argv.index("-nic") + 1] == "none"
    assert argv[argv.index("-accel") + 1] == "tcg,thread=multi"
    assert argv[argv.index("-kernel") + 1] == str(tmp_path / "cache" / "vmlinux")
    assert "mitigations=off" in argv[argv.index("-append") + 1].split()
    fsdevs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-fsdev"]
    assert fsdevs == [
        "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap",
        f"local,id=modules,path={tmp_path}/cache/modules,security_model=none,readonly=on",
        f"local,id=share,path={tmp_path}/lab/vm/share,security_model=passthrough",
    ]
    assert not any("netdev" in arg or "hostfwd" in arg for arg in argv)


def test_boot_loads_bonding_without_a_bond_and_8021q() -> None:
    script = boot_script()
    assert "/run/hvbridge-vm/bin/busybox modprobe bonding max_bonds=0\n" in script
    assert "/run/hvbridge-vm/bin/busybox modprobe 8021q\n" in script


def test_forwarded_environment_keeps_only_what_hvbridge_needs() -> None:
    env = {
        "PATH": "/usr/bin",
        "HVBRIDGE_LAB_DIR": "/x",
        "LC_ALL": "C",
        "SSH_AUTH_SOCK": "/tmp/agent",
        "AWS_SECRET_ACCESS_KEY": "nope",
    }
    assert forwarded_env(env) == {"PATH": "/usr/bin", "HVBRIDGE_LAB_DIR": "/x", "LC_ALL": "C"}


def test_modules_load_after_what_they_need() -> None:
    deps = vmimage.parse_modules_dep(
        "kernel/fs/9p/9p.ko: kernel/fs/netfs/netfs.ko kernel/net/9p/9pnet.ko\n"
        "kernel/net/9p/9pnet.ko:\n"
        "kernel/fs/netfs/netfs.ko: kernel/fs/fscache/fscache.ko\n"
        "kernel/fs/fscache/fscache.ko:\n"
        "kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko\n"
    )
    assert vmimage.load_order(deps, ["9pnet_virtio", "9p"]) == [
        "kernel/net/9p/9pnet.ko",
        "kernel/net/9p/9pnet_virtio.ko",
        "kernel/fs/fscache/fscache.ko",
        "kernel/fs/netfs/netfs.ko",
        "kernel/fs/9p/9p.ko",
    ]
    with pytest.raises(ValueError, match=r"module bonding is not in modules\.dep"):
        vmimage.load_order(deps, ["bonding"])


def test_vmlinux_is_the_xz_payload_of_the_bzimage() -> None:
    elf = b"\x7fELF" + bytes(range(200))
    # A false magic before the real payload, as a setup header may hold.
    bzimage = b"MZ" + vmimage.XZ_MAGIC + b"junk" + lzma.compress(elf) + b"\0" * 64
    assert vmimage.extract_vmlinux(bzimage) == elf
    with pytest.raises(ValueError, match="no xz-compressed ELF kernel"):
        vmimage.extract_vmlinux(b"MZ" + lzma.compress(b"not an elf"))


def test_initramfs_is_a_newc_archive_with_init_last() -> None:
    archive = vmimage.initramfs(b"BB", [("9p.ko", b"KO")], "#!/bin/busybox sh\n")
    names = []
    offset = 0
    while True:
        header = archive[offset : offset + 110]
        assert header[:6] == b"070701"
        fields = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
        size, namesize = fields[6], fields[11]
        name = archive[offset + 110 : offset + 110 + namesize - 1].decode()
        offset += 110 + namesize
        offset += -offset % 4
        data = archive[offset : offset + size]
        offset += size + (-size % 4)
        if name == "TRAILER!!!":
            break
        names.append((name, oct(fields[1]), data))
    assert offset == len(archive)
    assert names == [
        ("bin", "0o40755", b""),
        ("bin/busybox", "0o100755", b"BB"),
        ("modules", "0o40755", b""),
        ("modules/9p.ko", "0o100644", b"KO"),
        ("init", "0o100755", b"#!/bin/busybox sh\n"),
    ]


def test_init_mounts_root_read_only_under_an_overlay() -> None:
    init = vmimage.init_script(["kernel/net/9p/9pnet.ko", "kernel/fs/9p/9p.ko"])
    assert "insmod /modules/9pnet.ko\ninsmod /modules/9p.ko\n" in init
    assert "mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 root /lower" in init
    assert "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot" in init
    assert init.rstrip().endswith("exec switch_root /newroot /run/hvbridge-vm/bin/busybox init")


def test_an_incomplete_cache_is_no_cache(tmp_path: Path) -> None:
    (tmp_path / "vmlinux").write_bytes(b"")
    assert vmimage.load(tmp_path) is None
    for name in ("initramfs.cpio", "busybox"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "modules" / "6.1.0-57-amd64").mkdir(parents=True)
    assert vmimage.load(tmp_path) is None
    (tmp_path / "release").write_text("6.1.0-57-amd64\n")
    assert vmimage.load(tmp_path) == VmImage(tmp_path, "6.1.0-57-amd64")


def test_lab_up_kernel_debian_refuses_an_empty_cache_naming_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(vmimage.CACHE_ENV, str(tmp_path / "cache"))
    lab_dir = tmp_path / "lab"
    result = CliRunner().invoke(
        main, ["--lab-dir", str(lab_dir), "lab", "up", "--kernel", "debian", "--hosts", "1"]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"error: the VM lab's cache {tmp_path}/cache is empty or incomplete (Debian's kernel"
        " and the initramfs): run scripts/install (as root, with network: it fills the VM"
        " lab's cache)\n"
    )
    assert not lab_dir.exists()


def test_lab_exec_without_a_vm_lab_says_what_it_is_for(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--lab-dir", str(tmp_path), "lab", "exec", "--", "true"])
    assert result.exit_code == 1
    assert result.output == (
        f"error: no VM lab in {tmp_path}: `lab exec` runs commands in the VM of"
        " `hvbridge lab up --kernel debian`\n"
    )


def test_agent_runs_a_request_and_streams_its_output_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The agent and the host side over a spool directory, both in this process (the VM's
    side of the share is a plain directory here, and no QEMU runs)."""
    lab = VmLab(tmp_path)
    spool = lab.paths.spool
    threading.Thread(target=vmagent.main, args=(spool,), daemon=True).start()
    while not (spool / "ready").exists():
        time.sleep(0.01)
    lab._save(VmState(pid=1, release="6.1.0-57-amd64", cache="/c", boot_seconds=1.0))
    monkeypatch.setattr(vm, "_alive", lambda pid: pid == 1)
    monkeypatch.setenv("HVBRIDGE_LAB_DIR", "/lab")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/agent")
    script = (
        "import os, sys; print(os.getcwd(), os.environ['HVBRIDGE_VM_INSIDE'],"
        " os.environ['HVBRIDGE_LAB_DIR'], os.environ.get('SSH_AUTH_SOCK'));"
        " print('to stderr', file=sys.stderr); sys.exit(3)"
    )

    assert lab.execute([sys.executable, "-c", script], cwd=tmp_path) == 3

    out, err = capfd.readouterr()
    assert (out, err) == (f"{tmp_path} 1 /lab None\n", "to stderr\n")
    # Nothing of the command stays in the spool.
    assert sorted(p.name for p in spool.rglob("*") if p.is_file()) == ["ready"]


def test_agent_reports_a_command_it_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    lab = VmLab(tmp_path)
    spool = lab.paths.spool
    threading.Thread(target=vmagent.main, args=(spool,), daemon=True).start()
    while not (spool / "ready").exists():
        time.sleep(0.01)
    lab._save(VmState(pid=1, release="6.1.0-57-amd64", cache="/c", boot_seconds=1.0))
    monkeypatch.setattr(vm, "_alive", lambda pid: pid == 1)

    assert lab.execute([str(tmp_path / "absent")], cwd=tmp_path) == 127

    assert capfd.readouterr().err.startswith(f"vm agent: cannot run ['{tmp_path}/absent']: ")
