"""What debian, proxmox and ubuntu lab hosts are made of: the NIC static in its platform's
file (a stanza in /etc/network/interfaces, or cloud-init's netplan file), beside another
NIC's, brought up at boot by the real ifupdown, ifupdown2 or netplan and systemd-networkd;
libvirtd under the lab's systemctl; a modern sshd."""

from __future__ import annotations

import yaml

from hvbridge.lab import ifupdown, networkd
from hvbridge.lab.fleet import MAX_NICS
from hvbridge.lab.hostfiles import HostFile, boot_script, host_files, host_overlays, host_profile
from hvbridge.lab.preflight import IFUPDOWN2_ROOT
from hvbridge.lab.topology import Topology, plan
from hvbridge.lab.units import UNITS
from hvbridge.platforms.ifupdown import UP
from hvbridge.platforms.interfaces import parse_stanzas, sources


def _mixed() -> Topology:
    return plan(2, direct=False, platforms=("el6", "debian"))


def _files(topology: Topology, name: str) -> dict[str, HostFile]:
    host = topology.host(name)
    files = host_files(
        host,
        profile=host_profile("el6", host, el7_hosts=topology.has_el7),
        libvirt=True,
        authorized_key="ssh-ed25519 AAAA controller\n",
        host_key=("key\n", "ssh-ed25519 AAAA hv\n"),
        domain_type="qemu",
    )
    return {f.path: f for f in files}


def test_a_debian_host_starts_on_a_static_eth0_stanza_beside_another_nic_s() -> None:
    topology = _mixed()
    host = topology.host("hv02")
    files = _files(topology, "hv02")
    text = files[ifupdown.INTERFACES].content
    stanzas = {(s.word, s.args): dict(s.options) for s in parse_stanzas(ifupdown.INTERFACES, text)}
    assert stanzas[("iface", ("eth0", "inet", "static"))] == {
        "address": host.management.address.with_prefixlen,
        "gateway": str(host.gateway),
        "dns-nameservers": ifupdown.NAMESERVER,
        "dns-search": ifupdown.SEARCH,
    }
    assert ("allow-hotplug", ("eth0",)) in stanzas
    assert ifupdown.FOREIGN_STANZA in text
    assert sources({ifupdown.INTERFACES: text}, "/etc/network/interfaces.d/hvbridge")
    assert not any("network-scripts" in path or "NetworkManager/system" in path for path in files)
    assert "/usr/bin/systemctl" in files
    # The el6 host beside it keeps its ifcfg file and no interfaces file of its own.
    el6 = _files(topology, "hv01")
    assert ifupdown.INTERFACES not in el6
    assert "/etc/sysconfig/network-scripts/ifcfg-eth0" in el6


def test_boot_brings_the_network_up_with_ifupdown_then_libvirtd_under_systemctl() -> None:
    topology = _mixed()
    lines = boot_script(topology.host("hv02"), libvirt=True).splitlines()
    assert lines[2] == f"mkdir -p /run/network && {{ {UP}; }}"
    assert "systemctl start libvirtd.service" in lines
    assert host_profile("el6", topology.host("hv02"), el7_hosts=topology.has_el7) == "modern"
    assert topology.has_ifupdown and not plan(1, direct=False).has_ifupdown


def test_a_proxmox_host_has_ifupdown2_linked_into_its_own_usr_and_starts_on_eno1() -> None:
    topology = plan(1, direct=False, platforms=("proxmox",))
    host = topology.host("hv01")
    assert host.management.name == "eno1"
    text = _files(topology, "hv01")[ifupdown.INTERFACES].content
    assert "auto eno1\niface eno1 inet static\n" in text and ifupdown.FOREIGN_STANZA in text
    assert "/usr/share" in host_overlays(host) and "/usr/sbin" in host_overlays(host)
    boot = boot_script(host, libvirt=True).splitlines()[2]
    assert boot.startswith(f"ln -sfn {IFUPDOWN2_ROOT}/usr/share/ifupdown2 /usr/share/ifupdown2")
    assert "ln -sf /usr/share/ifupdown2/ifupdown2 /usr/sbin/ifreload" in boot
    assert boot.endswith(" && ifreload -a")
    assert topology.has_ifupdown2 and not topology.has_ifupdown


def test_an_ubuntu_host_starts_on_cloud_init_s_netplan_file_with_networkd() -> None:
    topology = plan(1, direct=False, platforms=("ubuntu",))
    host = topology.host("hv01")
    assert host.management.name == "enp1s0"
    files = _files(topology, "hv01")
    old = yaml.safe_load(files[networkd.NETPLAN_FILE].content)["network"]["ethernets"]["enp1s0"]
    assert old["addresses"] == [host.management.address.with_prefixlen]
    assert old["nameservers"] == {"addresses": [networkd.NAMESERVER], "search": [networkd.SEARCH]}
    assert files[networkd.NETPLAN_FILE].mode == 0o600
    assert files[networkd.FOREIGN_FILE].content == networkd.FOREIGN
    assert files[networkd.UDEVADM_PATH].mode == 0o755
    assert ifupdown.INTERFACES not in files
    assert boot_script(host, libvirt=True).splitlines()[2] == (
        "netplan generate && systemctl start systemd-networkd.service"
    )
    assert UNITS["systemd-networkd.service"].script == networkd.SCRIPT_PATH
    assert topology.has_netplan and not topology.has_ifupdown


def test_the_foreign_stanza_names_no_nic_of_a_host_with_the_most_nics() -> None:
    # A NIC of the data switch (`lab up --nics`) starts unconfigured: the stanza hvbridge
    # must leave alone is for a NIC no lab host has, or boot would configure it.
    topology = plan(1, direct=False, platforms=("debian",), nics=MAX_NICS)
    (host,) = topology.hypervisors
    foreign = {s.name for s in parse_stanzas(ifupdown.INTERFACES, ifupdown.FOREIGN_STANZA)}
    assert foreign == {"eth9"}
    assert [name for name, _, _ in host.nics] == [f"eth{n}" for n in range(MAX_NICS)]
    text = _files(topology, "hv01")[ifupdown.INTERFACES].content
    configured = {s.name for s in parse_stanzas(ifupdown.INTERFACES, text) if s.word == "iface"}
    assert configured == {"lo", "eth0", "eth9"}
