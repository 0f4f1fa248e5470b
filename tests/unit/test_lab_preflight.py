"""hvbridge.lab.preflight: what the lab needs from this machine, said before it starts."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable

import pytest

from hvbridge.lab import preflight
from hvbridge.lab.preflight import (
    ALL_PACKAGES,
    BASE_NEEDS,
    IFUPDOWN_NEEDS,
    LIBVIRT_NEEDS,
    NETPLAN_NEEDS,
    NETWORKMANAGER_NEEDS,
    Missing,
    PreflightError,
    check,
    missing,
)

# /work/shared/DESIGN.md, "The lab".
DESIGN_PACKAGES = (
    "openssh-server",
    "bridge-utils",
    "iproute2",
    "libvirt-daemon",
    "libvirt-daemon-driver-qemu",
    "libvirt-clients",
    "qemu-system-x86",
    "iptables",
    "dnsmasq-base",
)
LIBVIRT_PACKAGES = {pkg for _, pkg in LIBVIRT_NEEDS}


def _absent(names: Iterable[str]) -> Callable[[str], bool]:
    gone = set(names)
    return lambda what: what not in gone


@pytest.fixture
def as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)


def _install_line(message: str) -> list[str]:
    match = re.search(r"apt-get install -y (.+)$", message, re.MULTILINE)
    assert match, message
    return match.group(1).split()


def test_not_root_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(preflight, "_present", lambda what: True)
    with pytest.raises(PreflightError, match="root") as info:
        check(libvirt=True)
    assert "apt-get" not in str(info.value)


def test_root_with_everything_present_passes(
    as_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "_present", lambda what: True)
    check(libvirt=True)
    assert missing(libvirt=True) == []


def test_missing_tools_are_named_with_their_packages(
    as_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "_present", _absent({"brctl", "virsh"}))
    assert missing(libvirt=True) == [
        Missing("brctl", "bridge-utils"),
        Missing("virsh", "libvirt-clients"),
    ]
    with pytest.raises(PreflightError) as info:
        check(libvirt=True)
    message = str(info.value)
    assert "brctl (bridge-utils)" in message
    assert "virsh (libvirt-clients)" in message
    assert "root" not in message
    assert _install_line(message) == ["bridge-utils", "libvirt-clients"]


def test_install_line_names_each_package_once(
    as_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "_present", _absent({"ssh", "ssh-keygen", "unshare"}))
    with pytest.raises(PreflightError) as info:
        check(libvirt=False)
    assert _install_line(str(info.value)) == ["openssh-client", "util-linux"]


def test_without_libvirt_no_libvirt_package_is_required(
    as_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "_present", lambda what: False)
    assert {m.package for m in missing(libvirt=False)} == {pkg for _, pkg in BASE_NEEDS}
    with pytest.raises(PreflightError) as info:
        check(libvirt=False)
    packages = set(_install_line(str(info.value)))
    assert packages.isdisjoint(LIBVIRT_PACKAGES)
    assert "virsh" not in str(info.value)


def test_libvirt_missing_only_matters_with_libvirt(
    as_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "_present", _absent({"virsh", "dnsmasq"}))
    check(libvirt=False)
    with pytest.raises(PreflightError) as info:
        check(libvirt=True)
    assert _install_line(str(info.value)) == ["dnsmasq-base", "libvirt-clients"]


def test_all_packages_cover_the_design() -> None:
    assert set(DESIGN_PACKAGES) <= set(ALL_PACKAGES)
    assert sorted(set(ALL_PACKAGES)) == list(ALL_PACKAGES), "sorted, each package once"
    assert set(ALL_PACKAGES) == {
        pkg
        for _, pkg in BASE_NEEDS
        + LIBVIRT_NEEDS
        + NETWORKMANAGER_NEEDS
        + IFUPDOWN_NEEDS
        + NETPLAN_NEEDS
    }


def test_networkmanager_missing_only_matters_for_networkmanager_hosts(
    as_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "_present", _absent({"nmcli", "dbus-daemon"}))
    check(libvirt=False)
    with pytest.raises(PreflightError) as info:
        check(libvirt=False, networkmanager=True)
    assert _install_line(str(info.value)) == ["dbus", "network-manager"]
    assert "nmcli (network-manager)" in str(info.value)
