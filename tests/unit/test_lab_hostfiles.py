"""hvbridge.lab.hostfiles: what each lab host boots with."""

from __future__ import annotations

import ipaddress
import sys
import xml.etree.ElementTree as ET

import pytest

from hvbridge.lab.hostfiles import (
    LAB_ETC,
    HostFile,
    SshProfile,
    boot_script,
    default_network_xml,
    guest_xml,
    host_files,
    ifcfg,
    sshd_config,
)
from hvbridge.lab.initscripts import DeviceConfig
from hvbridge.lab.topology import JUMP_NAME, NAT_NET, LabHost, plan
from hvbridge.platforms.ifcfg import parse_ifcfg

LAB_SPACE = ipaddress.IPv4Network("198.18.0.0/15")
SCRIPTS = "/etc/sysconfig/network-scripts"
GUEST_MAC = "52:54:00:48:00:01"
EL6_ONLY_KEYWORDS = (
    "hostkeyalgorithms",
    "pubkeyacceptedalgorithms",
    "kexalgorithms",
    "ciphers",
    "macs",
)
NEWER_THAN_OPENSSH_5_3 = ("curve25519", "ecdh", "etm", "gcm", "chacha", "ed25519", "ecdsa")
SSH_KEY = ("-----BEGIN PRIVATE KEY-----\nx\n", "ssh-rsa AAAA lab\n")
AUTHORIZED = "ssh-ed25519 AAAA controller\n"


def _directives(text: str) -> list[tuple[str, str]]:
    """sshd_config as (lowercased keyword, value) pairs, the way sshd reads it."""
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, value = line.partition(" ")
        pairs.append((keyword.lower(), value.strip()))
    return pairs


def _values(text: str, keyword: str) -> list[str]:
    return [value for key, value in _directives(text) if key == keyword]


def _files(host: LabHost, *, libvirt: bool, profile: SshProfile = "el6") -> dict[str, HostFile]:
    files = host_files(
        host,
        profile=profile,
        libvirt=libvirt,
        authorized_key=AUTHORIZED,
        host_key=SSH_KEY,
        domain_type="qemu",
    )
    paths = [f.path for f in files]
    assert len(paths) == len(set(paths)), f"a path is written twice: {paths}"
    return {f.path: f for f in files}


# --- sshd_config -----------------------------------------------------------------------


def test_el6_sshd_offers_only_ssh_rsa_host_keys() -> None:
    text = sshd_config("el6")
    assert _values(text, "hostkey") == ["/etc/ssh/ssh_host_rsa_key"]
    assert _values(text, "hostkeyalgorithms") == ["ssh-rsa"]
    assert _values(text, "pubkeyacceptedalgorithms") == ["ssh-rsa"]


def test_el6_sshd_offers_only_sha1_kex() -> None:
    (kex,) = _values(sshd_config("el6"), "kexalgorithms")
    algorithms = kex.split(",")
    assert algorithms
    assert all(a.startswith("diffie-hellman-") and a.endswith("-sha1") for a in algorithms), kex


def test_el6_sshd_names_nothing_newer_than_openssh_5_3() -> None:
    lowered = sshd_config("el6").lower()
    assert [n for n in NEWER_THAN_OPENSSH_5_3 if n in lowered] == []
    (ciphers,) = _values(sshd_config("el6"), "ciphers")
    assert all(c.endswith(("-ctr", "-cbc")) for c in ciphers.split(",")), ciphers
    (macs,) = _values(sshd_config("el6"), "macs")
    assert all(m.startswith("hmac-") for m in macs.split(",")), macs


def test_modern_sshd_has_none_of_the_el6_restrictions() -> None:
    text = sshd_config("modern")
    keywords = {key for key, _ in _directives(text)}
    assert keywords.isdisjoint(EL6_ONLY_KEYWORDS)
    assert _values(text, "hostkey") == ["/etc/ssh/ssh_host_ed25519_key"]


@pytest.mark.parametrize("profile", ["el6", "modern"])
def test_sshd_is_key_only_and_each_keyword_appears_once(profile: SshProfile) -> None:
    text = sshd_config(profile)
    keywords = [key for key, _ in _directives(text)]
    assert len(keywords) == len(set(keywords)), keywords
    assert _values(text, "passwordauthentication") == ["no"]
    assert _values(text, "pubkeyauthentication") == ["yes"]
    assert _values(text, "port") == ["22"]


# --- ifcfg -----------------------------------------------------------------------------


@pytest.mark.parametrize("direct", [False, True])
def test_ifcfg_reads_back_through_the_parser_and_initscripts(direct: bool) -> None:
    host = plan(3, direct=direct).host("hv02")
    port = host.management
    text = ifcfg(port, str(host.gateway))
    source = f"{SCRIPTS}/ifcfg-eth0"

    fields = parse_ifcfg(text, source)
    assert fields["DEVICE"] == "eth0"
    assert fields["HWADDR"] == port.mac.upper()
    assert fields["BOOTPROTO"] == "static"
    assert fields["ONBOOT"] == "yes"
    assert fields["IPADDR"] == host.address
    assert fields["NETMASK"] == "255.255.128.0"
    assert fields["GATEWAY"] == str(host.gateway)

    config = DeviceConfig.from_text(source, text)
    assert config.errors == ()
    assert config.device == "eth0"
    assert config.hwaddr is not None
    assert config.hwaddr.lower() == port.mac.lower()
    assert config.bootproto == "static"
    assert config.address == ipaddress.IPv4Interface(f"{host.address}/17")
    assert config.gateway == host.gateway
    assert config.defroute
    assert not config.is_bridge
    assert config.bridge is None


def test_ifcfg_without_gateway_has_no_gateway_or_defroute() -> None:
    jump = plan(1, direct=False).jump
    assert jump is not None
    text = ifcfg(jump.ports[1], None)
    fields = parse_ifcfg(text, f"{SCRIPTS}/ifcfg-eth1")
    assert "GATEWAY" not in fields
    assert "DEFROUTE" not in fields
    config = DeviceConfig.from_text(f"{SCRIPTS}/ifcfg-eth1", text)
    assert config.errors == ()
    assert config.device == "eth1"
    assert config.address == ipaddress.IPv4Interface("198.18.128.1/17")
    assert config.gateway is None


# --- libvirt XML -----------------------------------------------------------------------


@pytest.mark.parametrize("domain_type", ["kvm", "qemu"])
def test_guest_xml(domain_type: str) -> None:
    root = ET.fromstring(guest_xml("v1", GUEST_MAC, domain_type))
    assert root.tag == "domain"
    assert root.get("type") == domain_type
    assert root.findtext("name") == "v1"
    interfaces = root.findall("devices/interface")
    assert len(interfaces) == 1
    (iface,) = interfaces
    assert iface.get("type") == "network"
    source = iface.find("source")
    mac = iface.find("mac")
    model = iface.find("model")
    rom = iface.find("rom")
    assert source is not None and source.get("network") == "default"
    assert mac is not None and mac.get("address") == GUEST_MAC
    assert model is not None and model.get("type") == "virtio"
    assert rom is not None and rom.get("enabled") == "no"
    assert root.findall(".//disk") == []


def test_default_network_xml_stays_inside_the_nat_net() -> None:
    root = ET.fromstring(default_network_xml())
    assert root.findtext("name") == "default"
    forward = root.find("forward")
    assert forward is not None and forward.get("mode") == "nat"
    ip = root.find("ip")
    dhcp_range = root.find("ip/dhcp/range")
    assert ip is not None and dhcp_range is not None
    gateway = ipaddress.IPv4Interface(f"{ip.get('address')}/{ip.get('netmask')}")
    assert gateway.network == NAT_NET
    assert str(NAT_NET) == "198.19.122.0/24"
    addresses = [
        ipaddress.IPv4Address(str(value))
        for value in (ip.get("address"), dhcp_range.get("start"), dhcp_range.get("end"))
    ]
    for address in addresses:
        assert address in NAT_NET
        assert address in LAB_SPACE
        assert address not in (NAT_NET.network_address, NAT_NET.broadcast_address)
    assert addresses[1] <= addresses[2]
    assert not addresses[1] <= addresses[0] <= addresses[2], "gateway inside the DHCP range"


# --- host_files ------------------------------------------------------------------------


def test_hypervisor_with_libvirt_gets_every_file() -> None:
    host = plan(3, direct=False).host("hv01")
    files = _files(host, libvirt=True)

    network = files["/etc/init.d/network"]
    assert network.mode == 0o755
    assert network.content.startswith("#!/bin/sh\n")
    assert f"exec {sys.executable} -m hvbridge.lab.network_service " in network.content

    libvirtd = files["/etc/init.d/libvirtd"]
    assert libvirtd.mode == 0o755
    assert "/usr/sbin/libvirtd" in libvirtd.content

    eth0 = parse_ifcfg(files[f"{SCRIPTS}/ifcfg-eth0"].content, "ifcfg-eth0")
    assert eth0["IPADDR"] == host.address
    assert eth0["GATEWAY"] == "198.18.128.1"

    authorized = files["/root/.ssh/authorized_keys"]
    assert (authorized.content, authorized.mode) == (AUTHORIZED, 0o600)
    # The machine's own dotfiles never run in a lab host's shells.
    for dotfile in ("/root/.bashrc", "/root/.bash_profile", "/root/.profile"):
        assert not files[dotfile].append
        assert "hvbridge lab host" in files[dotfile].content
    private = files["/etc/ssh/ssh_host_rsa_key"]
    assert (private.content, private.mode) == (SSH_KEY[0], 0o600)
    assert files["/etc/ssh/ssh_host_rsa_key.pub"].content == SSH_KEY[1]
    assert files["/etc/hostname"].content == "hv01\n"

    passwd, group = files["/etc/passwd"], files["/etc/group"]
    assert passwd.append and group.append
    assert [line.split(":")[0] for line in passwd.content.splitlines()] == ["ops", "libvirt-qemu"]
    assert {line.split(":")[0] for line in group.content.splitlines()} == {
        "ops",
        "libvirt-qemu",
        "libvirt",
    }
    appended = [f.path for f in files.values() if f.append]
    assert appended == ["/etc/passwd", "/etc/shadow", "/etc/group"]

    assert 'user = "root"' in files["/etc/libvirt/qemu.conf"].content
    assert "/etc/libvirt/libvirtd.conf" in files
    assert files[f"{LAB_ETC}/default-network.xml"].content == default_network_xml()
    v1 = ET.fromstring(files[f"{LAB_ETC}/v1.xml"].content)
    assert v1.get("type") == "qemu"
    mac = v1.find("devices/interface/mac")
    assert mac is not None and mac.get("address") == host.guest_mac


def test_modern_profile_uses_an_ed25519_host_key() -> None:
    files = _files(plan(1, direct=True).host("hv01"), libvirt=False, profile="modern")
    assert files["/etc/ssh/ssh_host_ed25519_key"].mode == 0o600
    assert "/etc/ssh/ssh_host_rsa_key" not in files
    assert "HostKeyAlgorithms" not in files["/etc/ssh/sshd_config"].content


def test_hypervisor_without_libvirt_gets_no_libvirt_files() -> None:
    files = _files(plan(3, direct=True).host("hv01"), libvirt=False)
    libvirt_paths = [p for p in files if "libvirt" in p or p.startswith(LAB_ETC + "/v1")]
    assert libvirt_paths == []
    assert f"{LAB_ETC}/default-network.xml" not in files
    # Only the lab's sudo operator; no libvirt users.
    assert [line.split(":")[0] for line in files["/etc/passwd"].content.splitlines()] == ["ops"]
    assert [line.split(":")[0] for line in files["/etc/group"].content.splitlines()] == ["ops"]
    assert files["/etc/sudoers.d/ops"].content == "ops ALL=(ALL) NOPASSWD: ALL\n"
    assert files["/etc/resolv.conf"].content.endswith("nameserver 127.0.0.1\n")
    assert "/etc/init.d/network" in files
    eth0 = parse_ifcfg(files[f"{SCRIPTS}/ifcfg-eth0"].content, "ifcfg-eth0")
    assert eth0["GATEWAY"] == "198.18.0.1"


def test_jump_host_gets_both_ifcfgs_and_no_gateway() -> None:
    jump = plan(3, direct=False).jump
    assert jump is not None and jump.name == JUMP_NAME
    files = _files(jump, libvirt=True)
    ifcfgs = sorted(p for p in files if p.startswith(f"{SCRIPTS}/ifcfg-"))
    assert ifcfgs == [f"{SCRIPTS}/ifcfg-eth0", f"{SCRIPTS}/ifcfg-eth1"]
    eth0 = parse_ifcfg(files[ifcfgs[0]].content, ifcfgs[0])
    eth1 = parse_ifcfg(files[ifcfgs[1]].content, ifcfgs[1])
    assert (eth0["IPADDR"], eth1["IPADDR"]) == ("198.18.0.2", "198.18.128.1")
    assert "GATEWAY" not in eth0
    assert "GATEWAY" not in eth1
    assert "/etc/init.d/libvirtd" not in files, "the jump host is not a hypervisor"


def test_only_the_first_port_of_a_multi_port_host_gets_the_gateway() -> None:
    jump = plan(1, direct=False).jump
    assert jump is not None
    gateway = ipaddress.IPv4Address("198.18.0.1")
    routed = LabHost("multi", jump.ports, gateway, False, None)
    files = _files(routed, libvirt=False)
    eth0 = parse_ifcfg(files[f"{SCRIPTS}/ifcfg-eth0"].content, "ifcfg-eth0")
    eth1 = parse_ifcfg(files[f"{SCRIPTS}/ifcfg-eth1"].content, "ifcfg-eth1")
    assert eth0["GATEWAY"] == "198.18.0.1"
    assert "GATEWAY" not in eth1


# --- boot_script -----------------------------------------------------------------------


def test_boot_script_starts_network_before_sshd_then_libvirt() -> None:
    host = plan(1, direct=False).host("hv01")
    lines = boot_script(host, libvirt=True).splitlines()
    assert lines[0] == "set -e"
    network = lines.index("service network start")
    sshd = next(i for i, line in enumerate(lines) if line.startswith("/usr/sbin/sshd"))
    libvirtd = lines.index("service libvirtd start")
    net_start = lines.index("virsh -q net-start default")
    define = lines.index(f"virsh -q define {LAB_ETC}/v1.xml")
    assert network < sshd < libvirtd < net_start
    assert libvirtd < define
    assert lines.index(f"virsh -q net-define {LAB_ETC}/default-network.xml") < net_start


@pytest.mark.parametrize(
    ("name", "libvirt"), [("hv01", False), (JUMP_NAME, True), (JUMP_NAME, False)]
)
def test_boot_script_without_libvirt_steps(name: str, libvirt: bool) -> None:
    host = plan(1, direct=False).host(name)
    text = boot_script(host, libvirt=libvirt)
    assert "libvirtd" not in text
    assert "virsh" not in text
    lines = text.splitlines()
    assert lines.index("service network start") < next(
        i for i, line in enumerate(lines) if line.startswith("/usr/sbin/sshd")
    )
