"""RHEL/Rocky/Alma/CentOS Stream 9: NetworkManager keyfiles; libvirt's modular daemons
(`virtqemud` for the domains, `virtnetworkd` for the NAT network) in place of libvirtd."""

from __future__ import annotations

from hvbridge.platforms.networkmanager import NetworkManagerPlatform

EL9 = NetworkManagerPlatform(name="el9", libvirt_units=("virtqemud", "virtnetworkd"))
