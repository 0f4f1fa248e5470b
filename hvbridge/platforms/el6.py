"""CentOS/RHEL 6: initscripts run by SysV `service`, OpenSSH 5.3, kernel 2.6.32."""

from __future__ import annotations

from hvbridge.platforms.initscripts import Initscripts

EL6 = Initscripts(
    name="el6",
    services="sysv",
    # OpenSSH 5.3 verifies only `ssh-rsa` signatures; paramiko would try the rsa-sha2
    # ones first and be refused.
    ssh_disabled_algorithms={"pubkeys": ["rsa-sha2-512", "rsa-sha2-256"]},
    # initscripts 9.03's ifup-post writes DNS1 and DNS2 to resolv.conf, never DNS3.
    dns_servers=2,
    # 2.6.32's bonding driver: the encap hashes came with Linux 3.14.
    hash_policies=frozenset({"layer2", "layer2+3", "layer3+4"}),
)
