"""CentOS/RHEL 7: the same initscripts, run by systemd (`network.service`); its
OpenSSH 7.4 accepts rsa-sha2 signatures. NetworkManager is installed by default and reads
the same ifcfg files: a host where it runs is refused unless it leaves them alone."""

from __future__ import annotations

from hvbridge.platforms.initscripts import Initscripts

EL7 = Initscripts(name="el7", services="systemd", networkmanager_aware=True, type_bond=True)
