"""CentOS/RHEL 6: initscripts run by SysV `service`, OpenSSH 5.3."""

from __future__ import annotations

from hvbridge.platforms.initscripts import Initscripts

EL6 = Initscripts(
    name="el6",
    services="sysv",
    # OpenSSH 5.3 verifies only `ssh-rsa` signatures; paramiko would try the rsa-sha2
    # ones first and be refused.
    ssh_disabled_algorithms={"pubkeys": ["rsa-sha2-512", "rsa-sha2-256"]},
)
