"""What the lab needs from this machine, checked before anything is created."""

from __future__ import annotations

import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from hvbridge.errors import InputError

# (what must exist, the Debian package that provides it)
BASE_NEEDS: tuple[tuple[str, str], ...] = (
    ("ip", "iproute2"),
    ("brctl", "bridge-utils"),
    ("unshare", "util-linux"),
    ("nsenter", "util-linux"),
    ("mount", "mount"),
    ("/usr/sbin/sshd", "openssh-server"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("service", "init-system-helpers"),
    ("ping", "iputils-ping"),
    ("sudo", "sudo"),
)
LIBVIRT_NEEDS: tuple[tuple[str, str], ...] = (
    ("/usr/sbin/libvirtd", "libvirt-daemon"),
    (
        "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so",
        "libvirt-daemon-driver-qemu",
    ),
    ("virsh", "libvirt-clients"),
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("iptables", "iptables"),
    ("dnsmasq", "dnsmasq-base"),
)
# Real NetworkManager with a private system bus (hvbridge.lab.networkmanager).
NETWORKMANAGER_NEEDS: tuple[tuple[str, str], ...] = (
    ("/usr/sbin/NetworkManager", "network-manager"),
    ("nmcli", "network-manager"),
    ("nm-online", "network-manager"),
    ("dbus-daemon", "dbus"),
    ("busctl", "systemd"),
)
# The real ifupdown (hvbridge.lab.ifupdown), with bridge-utils' hooks and ifenslave's (a
# bond's `bond-slaves`, on a kernel with bonding: the VM lab's).
IFUPDOWN_NEEDS: tuple[tuple[str, str], ...] = (
    ("/sbin/ifup", "ifupdown"),
    ("/sbin/ifquery", "ifupdown"),
    ("/etc/network/if-pre-up.d/bridge", "bridge-utils"),
    ("/etc/network/if-pre-up.d/ifenslave", "ifenslave"),
)
# Real systemd-networkd and netplan (hvbridge.lab.networkd).
NETPLAN_NEEDS: tuple[tuple[str, str], ...] = (
    ("netplan", "netplan.io"),
    ("/lib/systemd/systemd-networkd", "systemd"),
    ("networkctl", "systemd"),
    ("busctl", "systemd"),
    ("dbus-daemon", "dbus"),
)
# ifupdown2, unpacked by scripts/install from its .deb, never installed (it would replace
# ifupdown): hvbridge.lab.ifupdown2.
IFUPDOWN2_ROOT = "/opt/hvbridge-lab/ifupdown2"
IFUPDOWN2_UNPACKED = f"{IFUPDOWN2_ROOT}/usr/share/ifupdown2/__main__.py"
# Every Debian package the lab (and so the test suite) can need.
ALL_PACKAGES = sorted(
    {
        pkg
        for _, pkg in BASE_NEEDS
        + LIBVIRT_NEEDS
        + NETWORKMANAGER_NEEDS
        + IFUPDOWN_NEEDS
        + NETPLAN_NEEDS
    }
)

KVM_GET_API_VERSION = 0xAE00


class PreflightError(InputError):
    pass


@dataclass(frozen=True)
class Missing:
    what: str
    package: str


def _present(what: str) -> bool:
    if what.startswith("/"):
        return Path(what).exists()
    return shutil.which(what) is not None or any(
        Path(d, what).exists() for d in ("/usr/sbin", "/sbin")
    )


def missing(
    *, libvirt: bool, networkmanager: bool = False, ifupdown: bool = False, netplan: bool = False
) -> list[Missing]:
    needs = BASE_NEEDS + (LIBVIRT_NEEDS if libvirt else ())
    needs += NETWORKMANAGER_NEEDS if networkmanager else ()
    needs += IFUPDOWN_NEEDS if ifupdown else ()
    needs += NETPLAN_NEEDS if netplan else ()
    return [Missing(what, pkg) for what, pkg in needs if not _present(what)]


def check(
    *,
    libvirt: bool,
    networkmanager: bool = False,
    ifupdown: bool = False,
    ifupdown2: bool = False,
    netplan: bool = False,
) -> None:
    """`networkmanager`: some host runs real NetworkManager; `ifupdown`: the real ifupdown;
    `ifupdown2`: ifupdown2 unpacked."""
    problems: list[str] = []
    if ifupdown2 and not Path(IFUPDOWN2_UNPACKED).exists():
        problems.append(
            f"missing on this machine: ifupdown2 unpacked ({IFUPDOWN2_UNPACKED}): run"
            " scripts/install (it unpacks the .deb; installing it would replace ifupdown)"
        )
    if os.geteuid() != 0:
        problems.append("the lab needs root (namespaces, veths and bridges): run it as root")
    absent = missing(
        libvirt=libvirt, networkmanager=networkmanager, ifupdown=ifupdown, netplan=netplan
    )
    if absent:
        names = ", ".join(f"{m.what} ({m.package})" for m in absent)
        packages = " ".join(sorted({m.package for m in absent}))
        problems.append(
            f"missing on this machine: {names}\n"
            f"  install with: apt-get update && apt-get install -y {packages}"
        )
    if problems:
        raise PreflightError("cannot build the lab:\n- " + "\n- ".join(problems))


def kvm_usable() -> bool:
    """True when /dev/kvm opens and answers; guests then use KVM, else TCG."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, KVM_GET_API_VERSION) == 12
    except OSError:
        return False
    finally:
        os.close(fd)
