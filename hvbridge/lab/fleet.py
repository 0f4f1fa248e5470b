"""Which platform each lab hypervisor emulates: `--platform el7` or a mix `el6:2,el7:2`.

Pure, so the CLI's errors and the lab's plan are tested without a lab.
"""

from __future__ import annotations

import re
from typing import Literal

from hvbridge.errors import InputError

LabPlatform = Literal["el6", "el7", "el8", "el9", "debian", "proxmox", "ubuntu"]
LAB_PLATFORMS: tuple[LabPlatform, ...] = (
    "el6", "el7", "el8", "el9", "debian", "proxmox", "ubuntu"
)  # fmt: skip
# Hosts whose network is NetworkManager's (real NetworkManager in the lab host).
NETWORKMANAGER_PLATFORMS: tuple[LabPlatform, ...] = ("el8", "el9")
# Hosts whose services systemd starts (the lab's systemctl stand-in).
SYSTEMD_PLATFORMS: tuple[LabPlatform, ...] = ("el7", "el8", "el9", "debian", "proxmox", "ubuntu")
# Hosts whose network is netplan for systemd-networkd (both real).
NETPLAN_PLATFORMS: tuple[LabPlatform, ...] = ("ubuntu",)
# Hosts whose network is in interfaces(5) files: applied by the real ifupdown (debian, with
# bridge-utils' hooks) or ifupdown2 (proxmox, unpacked from its .deb).
IFUPDOWN_PLATFORMS: tuple[LabPlatform, ...] = ("debian", "proxmox")
IFUPDOWN2_PLATFORMS: tuple[LabPlatform, ...] = ("proxmox",)
DEFAULT_PLATFORM: LabPlatform = "el6"
DEFAULT_HOSTS = 3
MAX_HOSTS = 1000
# The management NIC's name inside a hypervisor, as each platform names a first NIC:
# EL6's udev rules give ethN; EL7's predictable names give a virtio NIC in slot 3 `ens3`;
# el8/el9 and debian hosts keep `eth0` (as cloud images boot with net.ifnames=0); a
# proxmox host's onboard NIC is `eno1`; an ubuntu host's (a VM's virtio NIC) `enp1s0`.
NIC_NAMES: dict[LabPlatform, str] = {
    "el6": "eth0", "el7": "ens3", "el8": "eth0", "el9": "eth0", "debian": "eth0",
    "proxmox": "eno1", "ubuntu": "enp1s0",
}  # fmt: skip

# The most NICs a lab hypervisor has (`lab up --nics`).
MAX_NICS = 4


def nic_names(platform: LabPlatform, count: int) -> tuple[str, ...]:
    """The names of a hypervisor's `count` NICs, the management NIC first, as the platform
    numbers further NICs (EL7's next PCI slots ens4, ens5; proxmox's onboard eno2; ubuntu's
    next virtio NIC enp2s0)."""
    first = NIC_NAMES[platform]
    match = re.fullmatch(r"(?P<head>[a-z]+?)(?P<number>[0-9]+)(?P<tail>s0)?", first)
    assert match is not None, first
    start = int(match["number"])
    return tuple(f"{match['head']}{start + index}{match['tail'] or ''}" for index in range(count))


_PART = re.compile(r"(?P<name>[^:]+)(?::(?P<count>.*))?")


class PlatformSpecError(InputError, ValueError):
    """A `--platform`/`--hosts` pair that does not say one fleet."""


def parse_platforms(spec: str, hosts: int | None) -> tuple[LabPlatform, ...]:
    """Each hypervisor's platform, hv01 first.

    `el7` makes every host el7 (`hosts`, default 3, of them); `el6:2,el7:2` makes hv01-hv02
    el6 and hv03-hv04 el7, and `hosts`, when given, must be their sum.
    """
    parts = [part.strip() for part in spec.split(",")]
    if any(not part for part in parts):
        raise PlatformSpecError(f"--platform {spec!r}: an empty entry (use el7 or el6:2,el7:2)")
    matches = [_PART.fullmatch(part) for part in parts]
    counted = [m for m in matches if m is not None and m.group("count") is not None]
    if len(parts) == 1 and not counted:
        platform = _platform(parts[0], spec)
        count = DEFAULT_HOSTS if hosts is None else hosts
        _check_total(count, spec)
        return (platform,) * count
    if len(counted) != len(parts):
        raise PlatformSpecError(
            f"--platform {spec!r}: give every platform of a mix its count"
            " (el6:2,el7:2), or one platform for all hosts (el7)"
        )
    fleet: list[LabPlatform] = []
    for match in counted:
        platform = _platform(match.group("name").strip(), spec)
        fleet += [platform] * _count(match.group("count").strip(), spec)
    _check_total(len(fleet), spec)
    if hosts is not None and hosts != len(fleet):
        raise PlatformSpecError(
            f"--platform {spec} makes {len(fleet)} hosts but --hosts says {hosts}:"
            " leave out --hosts, or make the two agree"
        )
    return tuple(fleet)


def describe(platforms: tuple[str, ...]) -> str:
    """`el6:2,el7:2` for a fleet, in its order; `el7` when all are alike."""
    runs: list[tuple[str, int]] = []
    for platform in platforms:
        if runs and runs[-1][0] == platform:
            runs[-1] = (platform, runs[-1][1] + 1)
        else:
            runs.append((platform, 1))
    if len(runs) == 1:
        return runs[0][0]
    return ",".join(f"{name}:{count}" for name, count in runs)


def _platform(name: str, spec: str) -> LabPlatform:
    if name not in LAB_PLATFORMS:
        raise PlatformSpecError(
            f"--platform {spec!r}: unknown platform {name!r}"
            f" (the lab has {', '.join(LAB_PLATFORMS)})"
        )
    return name


def _count(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise PlatformSpecError(
            f"--platform {spec!r}: {text!r} is not a count of hosts (1 or more)"
        )
    return int(text)


def _check_total(total: int, spec: str) -> None:
    if not 1 <= total <= MAX_HOSTS:
        raise PlatformSpecError(
            f"--platform {spec!r} makes {total} hosts: a lab has 1 to {MAX_HOSTS}"
        )
