"""RHEL/Rocky/Alma/CentOS Stream 8: NetworkManager (profiles in keyfiles, or ifcfg files
read through ifcfg-rh: both are found and moved aside the same way); monolithic libvirtd."""

from __future__ import annotations

from hvbridge.platforms.networkmanager import NetworkManagerPlatform

EL8 = NetworkManagerPlatform(name="el8")
