"""What an el7 lab host is made of, and what a mixed lab writes: ens3, EL7's systemctl and
service, libvirtd out of /etc/init.d, per-host platforms in the inventory, sshd profiles."""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest
from nornir.plugins.inventory.simple import SimpleInventory

from hvbridge.lab.hostfiles import (
    HostFile,
    SshProfile,
    boot_script,
    host_files,
    host_overlays,
    host_profile,
    sshd_config,
)
from hvbridge.lab.inventory import inventory_files, ssh_config, write_inventory
from hvbridge.lab.topology import JUMP_NAME, Topology, plan
from hvbridge.lab.units import LIBVIRTD, NETWORK
from hvbridge.platforms.ifcfg import parse_ifcfg

SCRIPTS = "/etc/sysconfig/network-scripts"
KEY = Path("/var/lib/hvbridge-lab/id_lab")
KNOWN_HOSTS = Path("/var/lib/hvbridge-lab/known_hosts")


def _mixed() -> Topology:
    return plan(3, direct=False, platforms=("el6", "el7", "el7"))


def _files(topology: Topology, name: str) -> dict[str, HostFile]:
    host = topology.host(name)
    files = host_files(
        host,
        profile=host_profile("modern", host, el7_hosts=topology.has_el7),
        libvirt=True,
        authorized_key="ssh-ed25519 AAAA controller\n",
        host_key=("key\n", "ssh-ed25519 AAAA hv\n"),
        domain_type="qemu",
    )
    return {f.path: f for f in files}


def test_el7_hypervisors_have_ens3_and_the_rest_keeps_its_names() -> None:
    topology = _mixed()
    assert [h.platform for h in topology.hypervisors] == ["el6", "el7", "el7"]
    assert [h.management.name for h in topology.hypervisors] == ["eth0", "ens3", "ens3"]
    assert [p.name for p in topology.host(JUMP_NAME).ports] == ["eth0", "eth1"]
    # Only the names differ: addresses and MACs are those of an all-el6 lab.
    el6 = plan(3, direct=False)
    assert [h.management.address for h in topology.hypervisors] == [
        h.management.address for h in el6.hypervisors
    ]
    with pytest.raises(ValueError, match="2 platforms for 3 hosts"):
        plan(3, direct=False, platforms=("el6", "el7"))


def test_an_el7_host_boots_with_systemd_s_tools_over_the_same_scripts() -> None:
    files = _files(_mixed(), "hv02")
    ifcfg = parse_ifcfg(files[f"{SCRIPTS}/ifcfg-ens3"].content, "ifcfg-ens3")
    assert ifcfg["DEVICE"] == "ens3"
    assert f"{SCRIPTS}/ifcfg-eth0" not in files
    network = files[NETWORK.script]
    assert network.mode == 0o755
    assert "Restarting network (via systemctl): " in network.content
    assert "-m hvbridge.lab.network_service" in network.content
    # EL7 has no /etc/init.d/libvirtd: `service libvirtd` must go to systemctl.
    assert "/etc/init.d/libvirtd" not in files
    assert "libvirtd -d" in files[LIBVIRTD.script].content
    assert "-m hvbridge.lab.systemctl systemctl" in files["/usr/bin/systemctl"].content
    assert "-m hvbridge.lab.systemctl journalctl" in files["/usr/bin/journalctl"].content
    assert "Redirecting to /bin/systemctl" in files["/usr/sbin/service"].content
    boot = files["/etc/hvbridge-lab/boot.sh"].content.splitlines()
    assert "systemctl start network.service" in boot
    assert "systemctl start libvirtd.service" in boot
    assert host_overlays(_mixed().host("hv02")) == ["/usr/bin", "/usr/sbin"]


def test_an_el6_host_of_a_mixed_lab_is_the_el6_host_it_always_was() -> None:
    topology = _mixed()
    files = _files(topology, "hv01")
    assert f"{SCRIPTS}/ifcfg-eth0" in files
    assert "/usr/bin/systemctl" not in files and "/usr/sbin/service" not in files
    assert "via systemctl" not in files["/etc/init.d/network"].content
    assert "/etc/init.d/libvirtd" in files
    assert boot_script(topology.host("hv01"), libvirt=True) == boot_script(
        plan(3, direct=False).host("hv01"), libvirt=True
    )
    assert host_overlays(topology.host("hv01")) == []


def _inventory(tmp_path: Path, topology: Topology) -> SimpleInventory:
    write_inventory(
        tmp_path,
        inventory_files(topology, libvirt=True, key=KEY, known_hosts=KNOWN_HOSTS),
    )
    return SimpleInventory(
        host_file=str(tmp_path / "hosts.yaml"),
        group_file=str(tmp_path / "groups.yaml"),
        defaults_file=str(tmp_path / "defaults.yaml"),
    )


def test_the_inventory_says_each_host_s_platform_and_nic(tmp_path: Path) -> None:
    files = inventory_files(_mixed(), libvirt=True, key=KEY, known_hosts=KNOWN_HOSTS)
    assert files["groups.yaml"]["lab"]["platform"] == "el6"
    assert "platform" not in files["hosts.yaml"]["hv01"]
    assert files["hosts.yaml"]["hv02"]["platform"] == "el7"
    inventory = _inventory(tmp_path, _mixed()).load()
    assert [inventory.hosts[n].platform for n in ("hv01", "hv02", "hv03")] == ["el6", "el7", "el7"]
    hv02 = inventory.hosts["hv02"].data
    assert list(hv02["nics"]) == ["ens3"]
    assert hv02["bridges"]["br0"]["ports"] == ["ens3"]
    assert inventory.hosts["hv01"].data["bridges"]["br0"]["ports"] == ["eth0"]


def test_an_all_el7_lab_says_el7_once_in_its_group(tmp_path: Path) -> None:
    topology = plan(2, direct=True, platforms=("el7", "el7"))
    files = inventory_files(topology, libvirt=False, key=KEY, known_hosts=KNOWN_HOSTS)
    assert files["groups.yaml"]["lab"]["platform"] == "el7"
    assert all("platform" not in host for host in files["hosts.yaml"].values())


@pytest.mark.parametrize(
    ("lab", "name", "expected"),
    [
        ("el6", "hv01", "el6"),
        ("el6", "hv02", "el7"),
        # hvbridge offers the target's algorithms on every hop: ssh-rsa and rsa-sha2 both.
        ("el6", JUMP_NAME, "el7"),
        ("modern", "hv01", "modern"),
        ("modern", "hv02", "el7"),
        ("modern", JUMP_NAME, "modern"),
    ],
)
def test_each_host_s_sshd_profile(lab: SshProfile, name: str, expected: str) -> None:
    topology = _mixed()
    assert host_profile(lab, topology.host(name), el7_hosts=True) == expected


def test_a_jump_in_front_of_el6_hosts_only_keeps_the_el6_profile() -> None:
    jump = plan(2, direct=False).host(JUMP_NAME)
    assert host_profile("el6", jump, el7_hosts=False) == "el6"


def test_el7_sshd_is_modern_and_still_takes_ssh_rsa() -> None:
    text = sshd_config("el7")
    assert "HostKey /etc/ssh/ssh_host_ed25519_key" in text
    assert "PubkeyAcceptedAlgorithms +ssh-rsa" in text
    assert "HostKeyAlgorithms" not in text


def test_ssh_config_asks_for_ssh_rsa_only_where_the_host_is_el6(tmp_path: Path) -> None:
    text = ssh_config(_mixed(), profile="el6", key=KEY, known_hosts=KNOWN_HOSTS)
    config = paramiko.SSHConfig.from_text(text)
    assert config.lookup("hv01")["hostkeyalgorithms"] == "ssh-rsa"
    assert "hostkeyalgorithms" not in config.lookup("hv02")
    assert "hostkeyalgorithms" not in config.lookup(JUMP_NAME)
    el6_only = ssh_config(plan(2, direct=False), profile="el6", key=KEY, known_hosts=KNOWN_HOSTS)
    assert paramiko.SSHConfig.from_text(el6_only).lookup(JUMP_NAME)["hostkeyalgorithms"] == (
        "ssh-rsa"
    )
