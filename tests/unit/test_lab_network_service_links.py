"""The lab's `service network` reads this namespace's devices from sysfs, and only devices."""

from __future__ import annotations

import socket
from pathlib import Path

from hvbridge.lab.network_service import read_links


def _fake_sysfs(root: Path) -> Path:
    """A /sys/class/net with this namespace's devices (so the namespace check passes)."""
    net = root / "net"
    for index, name in socket.if_nameindex():
        device = net / name
        device.mkdir(parents=True)
        (device / "address").write_text("00:00:00:00:00:00\n")
        (device / "flags").write_text("0x1009\n")
        (device / "ifindex").write_text(f"{index}\n")
    return net


def test_bonding_masters_is_not_a_device(tmp_path: Path) -> None:
    # Debian's kernel with bonding loaded puts this file in every namespace's sysfs.
    net = _fake_sysfs(tmp_path)
    (net / "bonding_masters").write_text("\n")

    links = read_links(net)

    assert set(links) == {name for _, name in socket.if_nameindex()}
    assert "bonding_masters" not in links
