"""What an el8/el9 lab host is made of: eth0 on a keyfile profile NetworkManager reads,
real NetworkManager started at boot through the lab's systemctl, libvirt's units as each
platform runs them; and NetworkManager as an el7 host has it (installed, not started)."""

from __future__ import annotations

from hvbridge.lab import networkmanager
from hvbridge.lab.hostfiles import (
    HostFile,
    boot_script,
    host_empty_dirs,
    host_files,
    host_overlays,
    host_profile,
)
from hvbridge.lab.topology import Topology, plan
from hvbridge.lab.units import NETWORKMANAGER, UNITS, VIRTNETWORKD, VIRTQEMUD
from hvbridge.platforms.nmcli import parse_keyfile

CONNECTIONS = "/etc/NetworkManager/system-connections"


def _mixed() -> Topology:
    return plan(4, direct=False, platforms=("el6", "el7", "el8", "el9"))


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


def test_el8_and_el9_hosts_start_on_a_keyfile_profile_with_their_static_address() -> None:
    topology = _mixed()
    for name in ("hv03", "hv04"):
        host = topology.host(name)
        files = _files(topology, name)
        profile = files[f"{CONNECTIONS}/eth0.nmconnection"]
        assert profile.mode == 0o600, "NetworkManager ignores a keyfile others may read"
        keyfile = parse_keyfile(profile.content, profile.path)
        assert (keyfile.id, keyfile.type, keyfile.interface_name) == ("eth0", "ethernet", "eth0")
        assert keyfile.mac == host.management.mac.upper()
        # The install's DNS, which the rollout carries to the bridge's profile.
        assert "\n[ipv4]\nmethod=manual\n" in profile.content
        assert "\ndns=198.18.0.53;\ndns-search=lab.example;\n" in profile.content
        assert f"address1={host.management.address.with_prefixlen},198.18.128.1\n" in (
            profile.content
        )
        assert not any(path.startswith("/etc/sysconfig/network-scripts/") for path in files)
        assert "/etc/init.d/network" not in files
        assert files[networkmanager.CONF_PATH].content == networkmanager.NM_CONF
        assert host_overlays(host) == ["/usr/bin", "/usr/sbin"]
        # Its NetworkManager reads none of this machine's own profiles.
        assert host_empty_dirs(host) == [CONNECTIONS]
        # OpenSSH 8.0/8.7 speak the modern algorithms, even in an el6-profile lab.
        assert host_profile("el6", host, el7_hosts=True) == "modern"
    assert host_empty_dirs(topology.host("hv01")) == []


def test_networkmanager_s_conf_keeps_it_to_keyfiles_and_away_from_dns() -> None:
    conf = networkmanager.NM_CONF
    for line in ("plugins=keyfile", "no-auto-default=*", "dns=none", "rc-manager=unmanaged"):
        assert f"\n{line}\n" in conf


def test_boot_starts_networkmanager_then_libvirt_as_each_platform_runs_it() -> None:
    topology = _mixed()
    el8 = boot_script(topology.host("hv03"), libvirt=True).splitlines()
    el9 = boot_script(topology.host("hv04"), libvirt=True).splitlines()
    assert el8[2] == el9[2] == "systemctl start NetworkManager.service"
    assert "systemctl start libvirtd.service" in el8
    assert "systemctl start virtqemud.service virtnetworkd.service" in el9
    files = _files(topology, "hv04")
    assert VIRTNETWORKD.script in files and VIRTQEMUD.script in files


def test_an_el7_host_has_networkmanager_installed_and_not_started() -> None:
    topology = _mixed()
    files = _files(topology, "hv02")
    assert NETWORKMANAGER.script in files and networkmanager.CONF_PATH in files
    assert "NetworkManager" not in boot_script(topology.host("hv02"), libvirt=True)
    assert NETWORKMANAGER.pidfile == networkmanager.PIDFILE
    assert UNITS["NetworkManager.service"] is NETWORKMANAGER


def test_the_networkmanager_script_starts_it_with_sys_read_only_and_waits() -> None:
    script = networkmanager.init_script()
    assert "dbus-daemon --system --fork" in script
    assert "unshare --mount --propagation private" in script
    assert "mount -o remount,bind,ro /sys && exec /usr/sbin/NetworkManager --debug" in script
    assert f"--config-dir={networkmanager.CONF_DIR}'" in script
    assert "nm-online -s -q -t 15" in script
    assert f"PIDFILE={networkmanager.PIDFILE}\n" in script
