"""The Nornir inventory and ssh_config a lab writes for its hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hvbridge.lab.hostfiles import SshProfile
from hvbridge.lab.topology import JUMP_NAME, LabHost, Topology

LAB_GROUP = "lab"


def hypervisor_data(host: LabHost, *, libvirt: bool) -> dict[str, Any]:
    """The seed's target state for this host: br0 takes eth0's address."""
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
    hosts = {
        host.name: {
            "hostname": host.address,
            "groups": [LAB_GROUP],
            "data": hypervisor_data(host, libvirt=libvirt),
        }
        for host in topology.hypervisors
    }
    extras: dict[str, Any] = {"key_file": str(key), "known_hosts": str(known_hosts)}
    jump = topology.jump
    if jump is not None:
        extras["jump"] = [f"root@{jump.address}:22"]
    groups = {
        LAB_GROUP: {
            "username": "root",
            "port": 22,
            "platform": "el6",
            "connection_options": {"hvbridge": {"extras": extras}},
        }
    }
    defaults: dict[str, Any] = {"data": {}}
    return {"hosts.yaml": hosts, "groups.yaml": groups, "defaults.yaml": defaults}


def write_inventory(directory: Path, files: dict[str, dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_text(yaml.safe_dump(content, sort_keys=False))


def ssh_config(topology: Topology, *, profile: SshProfile, key: Path, known_hosts: Path) -> str:
    blocks = []
    for host in topology.hosts:
        lines = [f"Host {host.name}", f"    HostName {host.address}"]
        if host.name != JUMP_NAME and topology.jump is not None:
            lines.append(f"    ProxyJump {JUMP_NAME}")
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
    if profile == "el6":
        common += [
            "    HostKeyAlgorithms ssh-rsa",
            # Only ssh-rsa: OpenSSH 9 would sign with rsa-sha2-512 first, which an EL6 sshd
            # (and the el6 profile) refuses, and it does not retry with another algorithm.
            "    PubkeyAcceptedAlgorithms ssh-rsa",
            "    KexAlgorithms +diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1",
        ]
    blocks.append("\n".join(common))
    return "# written by `hvbridge lab up`\n" + "\n\n".join(blocks) + "\n"
