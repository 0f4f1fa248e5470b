"""Debian (11, 12) with ifupdown: stanzas in /etc/network/interfaces and what it sources,
applied by ifdown/ifup; libvirt as one `libvirtd` systemd unit."""

from __future__ import annotations

from hvbridge.platforms.ifupdown import Ifupdown

DEBIAN = Ifupdown(name="debian")
