"""hvbridge.validators: the grammar of every inventory value."""

from __future__ import annotations

import pytest

from hvbridge import validators

# --- validators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["eth0", "br0", "eth0.100", "em1_2", "enp3s0f1", "a", "x" * 15, "bond-lan"]
)
def test_interface_name_accepts(name: str) -> None:
    assert validators.interface_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "x" * 16,
        "eth0/1",
        "eth0:1",
        "eth 0",
        "eth0\n",
        'eth"0',
        "eth'0",
        "$(x)",
        "`x`",
        "-eth0",
        "all",
        "default",
        "éth0",
        "eth0\x00",
    ],
)
def test_interface_name_refuses(name: str) -> None:
    with pytest.raises(ValueError, match=r"interface name|reserved"):
        validators.interface_name(name)


def test_bonding_masters_is_not_an_interface_name() -> None:
    with pytest.raises(ValueError) as caught:
        validators.interface_name("bonding_masters")
    assert str(caught.value) == (
        "'bonding_masters' is reserved by the kernel's bonding driver"
        " (/sys/class/net/bonding_masters)"
    )


def test_mac_is_canonical_per_consumer() -> None:
    assert validators.mac_address("44:37:e6:4a:62:ad") == "44:37:E6:4A:62:AD"
    assert validators.mac_for_libvirt("52:54:00:DA:C3:DC") == "52:54:00:da:c3:dc"


@pytest.mark.parametrize(
    ("mac", "why"),
    [
        ("01:00:5e:00:00:01", "multicast"),
        ("ff:ff:ff:ff:ff:ff", "multicast"),
        ("00:00:00:00:00:00", "all-zero"),
        ("44-37-E6-4A-62-AD", "not a MAC"),
        ("4437.E64A.62AD", "not a MAC"),
        ("44:37:E6:4A:62:AD:00", "not a MAC"),
        ("44:37:E6:4A:62:AD\n", "not a MAC"),
        ("44:37:E6:4A:62:GG", "not a MAC"),
    ],
)
def test_mac_refuses(mac: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        validators.mac_address(mac)


@pytest.mark.parametrize(
    "text", ["10.1", "010.0.0.1", "10.0.0.256", "10.0.0.1 ", "10.0.0.1\n", "0x0a.0.0.1"]
)
def test_ipv4_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not an IPv4 address"):
        validators.ipv4_address(text)


@pytest.mark.parametrize(
    "text", ["0.0.0.0", "127.0.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255"]
)
def test_host_address_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a host address"):
        validators.host_address(text)


@pytest.mark.parametrize(
    ("mask", "prefix"),
    [("255.255.255.0", 24), ("255.255.128.0", 17), ("128.0.0.0", 1), ("255.255.255.255", 32)],
)
def test_netmask(mask: str, prefix: int) -> None:
    assert validators.netmask_prefix(validators.netmask(mask)) == prefix


@pytest.mark.parametrize("mask", ["0.0.0.0", "255.0.255.0", "255.255.255.1", "24"])
def test_netmask_refuses(mask: str) -> None:
    with pytest.raises(ValueError, match=r"contiguous netmask|not an IPv4 address"):
        validators.netmask(mask)


@pytest.mark.parametrize("prefix", [0, 33, -1])
def test_prefix_refuses(prefix: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 32"):
        validators.prefix_length(prefix)


@pytest.mark.parametrize("name", ["v1", "web-01.prod", "a+b_c", "x" * 64])
def test_domain_name_accepts(name: str) -> None:
    assert validators.domain_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "v 1", "v1;id", "v1/x", "-v1", "v1'", "v1\n"])
def test_domain_name_refuses(name: str) -> None:
    with pytest.raises(ValueError, match="domain name"):
        validators.domain_name(name)


@pytest.mark.parametrize("name", ["System eth0", "eth0", "Wired connection 1", "LAN 10.0/24"])
def test_config_name_accepts(name: str) -> None:
    assert validators.config_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", " eth0", "eth0 ", 'a"b', "a'b", "a$b", "a`b", "a\\b", "a\nb", "a\tb", "a;b", "a#b", "é"],
)
def test_config_name_refuses(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid NAME"):
        validators.config_name(name)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("10.0.112.39", "10.0.112.39"),
        ("kvm01.example.com", "kvm01.example.com"),
        ("hv_01", "hv_01"),
        ("2001:DB8::1", "2001:db8::1"),
    ],
)
def test_ssh_host_accepts(text: str, canonical: str) -> None:
    assert validators.ssh_host(text) == canonical


@pytest.mark.parametrize(
    "text", ["", "-oProxyCommand=x", "a..b", "a b", "h;x", "[::1]", "fe80::1%eth0", "x" * 254]
)
def test_ssh_host_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a host name|not an IPv6 address"):
        validators.ssh_host(text)


@pytest.mark.parametrize("path", ["", "a\nb", "a\x00b"])
def test_local_path_refuses(path: str) -> None:
    with pytest.raises(ValueError, match="not a usable path"):
        validators.local_path(path)
