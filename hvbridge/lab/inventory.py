"""The Nornir inventory and ssh_config a lab writes for its hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hvbridge.lab.hostfiles import SshProfile, host_profile
from hvbridge.lab.topology import JUMP_NAME, LabHost, Topology

LAB_GROUP = "lab"


def hypervisor_data(host: LabHost, *, libvirt: bool) -> dict[str, Any]:
    """The seed's target state for this host: br0 takes its NIC's (eth0's, ens3's) address."""
    port = host.management
    data: dict[str, Any] = {
        "nics": {port.name: {"hwaddr": port.mac.upper()}},
        "bridges": {
            "br0": {
                "ports": [port.name],
                "bootproto": "static",
                "ipaddr": str(port.address.ip),
                "netmask": str(port.address.netmask),
                "gateway": str(host.gateway),
                "defroute": True,
            }
        },
    }
    if libvirt and host.guest_mac:
        data["guests"] = {"v1": {"interfaces": [{"bridge": "br0", "mac": host.guest_mac}]}}
    return data


def inventory_files(
    topology: Topology, *, libvirt: bool, key: Path, known_hosts: Path
) -> dict[str, dict[str, Any]]:
    # The group says the lab's first platform; a host of another says its own, so that an
    # all-el6 lab's inventory reads as it always has.
    group_platform = topology.hypervisors[0].platform
    hosts: dict[str, dict[str, Any]] = {}
    for host in topology.hypervisors:
        entry: dict[str, Any] = {"hostname": host.address, "groups": [LAB_GROUP]}
        if host.platform != group_platform:
            entry["platform"] = host.platform
        entry["data"] = hypervisor_data(host, libvirt=libvirt)
        hosts[host.name] = entry
    extras: dict[str, Any] = {"key_file": str(key), "known_hosts": str(known_hosts)}
    jump = topology.jump
    if jump is not None:
        extras["jump"] = [f"root@{jump.address}:22"]
    groups = {
        LAB_GROUP: {
            "username": "root",
            "port": 22,
            "platform": group_platform,
            "connection_options": {"hvbridge": {"extras": extras}},
        }
    }
    defaults: dict[str, Any] = {"data": {}}
    return {"hosts.yaml": hosts, "groups.yaml": groups, "defaults.yaml": defaults}


def write_inventory(directory: Path, files: dict[str, dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_text(yaml.safe_dump(content, sort_keys=False))


# What OpenSSH's client needs to reach an el6-profile sshd; per host, as an el7 host of
# the same lab speaks the modern algorithms (and has an ed25519 host key).
EL6_CLIENT = [
    "    HostKeyAlgorithms ssh-rsa",
    # Only ssh-rsa: OpenSSH 9 would sign with rsa-sha2-512 first, which an EL6 sshd
    # (and the el6 profile) refuses, and it does not retry with another algorithm.
    "    PubkeyAcceptedAlgorithms ssh-rsa",
    "    KexAlgorithms +diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1",
]


def ssh_config(topology: Topology, *, profile: SshProfile, key: Path, known_hosts: Path) -> str:
    blocks = []
    for host in topology.hosts:
        lines = [f"Host {host.name}", f"    HostName {host.address}"]
        if host.name != JUMP_NAME and topology.jump is not None:
            lines.append(f"    ProxyJump {JUMP_NAME}")
        if host_profile(profile, host, el7_hosts=topology.has_el7) == "el6":
            lines += EL6_CLIENT
        blocks.append("\n".join(lines))
    common = [
        "Host *",
        "    User root",
        f"    IdentityFile {key}",
        "    IdentitiesOnly yes",
        f"    UserKnownHostsFile {known_hosts}",
        "    GlobalKnownHostsFile /dev/null",
        "    StrictHostKeyChecking yes",
        "    BatchMode yes",
        "    ConnectTimeout 10",
    ]
    blocks.append("\n".join(common))
    return "# written by `hvbridge lab up`\n" + "\n\n".join(blocks) + "\n"
