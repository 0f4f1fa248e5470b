"""Ubuntu server (20.04 and later): netplan rendered for systemd-networkd, applied by
`netplan apply`; libvirt as one `libvirtd` systemd unit."""

from __future__ import annotations

from hvbridge.platforms.netplan import Netplan

UBUNTU = Netplan(name="ubuntu")
