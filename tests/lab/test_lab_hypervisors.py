"""Three hypervisors (el6, then el7) with libvirt behind a jump host, used as the seed uses one."""

from __future__ import annotations

import ipaddress
import re
import socket
import xml.etree.ElementTree as ET

import pytest
import yaml
from nornir.core.inventory import Host
from nornir.plugins.inventory.simple import SimpleInventory

from hvbridge.lab.hostfiles import ROOT_BASHRC, ROOT_PROFILE
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.lab.topology import INNER_NET
from hvbridge.ssh import Connection, Endpoint, HostKeyError, SSHOptions

from .conftest import HostPlatform, LabFactory

SEED_BR0 = """DEVICE="br0"
ONBOOT="yes"
TYPE="Bridge"
BOOTPROTO=static
IPADDR={ip}
NETMASK={netmask}
GATEWAY={gateway}
DEFROUTE=yes
"""
SEED_NIC = """DEVICE="{nic}"
NM_CONTROLLED="no"
ONBOOT="yes"
TYPE=Ethernet
BOOTPROTO=none
BRIDGE="br0"
NAME="System {nic}"
HWADDR={hwaddr}
"""
SCRIPTS = "/etc/sysconfig/network-scripts"
# What `service libvirtd status` says of a running libvirtd: el6's init script, el7's
# redirect to systemctl.
LIBVIRTD_RUNNING = {
    "el6": r"\Alibvirtd \(pid +\d+\) is running",
    "el7": r"Active: active \(running\)",
}


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=3, direct=False, libvirt=True, profile="modern")


def brctl_ports(output: str) -> dict[str, list[str]]:
    """`brctl show` as bridge -> interfaces, continuation lines included."""
    bridges: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines()[1:]:
        fields = line.split()
        if not fields:
            continue
        if not line[0].isspace():
            current = fields[0]
            bridges[current] = fields[3:4]
        else:
            bridges[current].append(fields[0])
    return bridges


def ipv4_of(conn: Connection, device: str) -> list[str]:
    out = conn.run(f"ip -4 -o addr show dev {device}").stdout
    return re.findall(r"inet (\S+)", out)


def said_by_network(conn: Connection, platform: HostPlatform) -> str:
    """What the network service printed that its command did not show (el7: the unit's
    journal, where systemctl leaves the init script's words)."""
    diagnostics = platform.seam.restart_diagnostics
    return conn.run(diagnostics).stdout if diagnostics else ""


def write_remote(conn: Connection, path: str, text: str) -> None:
    with conn.sftp().open(path, "w") as handle:
        handle.write(text)


def test_every_hypervisor_answers_through_the_jump_host_with_checked_keys(
    lab: tuple[Lab, LabState], platform: HostPlatform
) -> None:
    the_lab, state = lab
    nic = platform.nic
    hypervisors = [rec for rec in state.hosts.values() if rec.hypervisor]
    assert [rec.name for rec in hypervisors] == ["hv01", "hv02", "hv03"]
    for rec in hypervisors:
        options = the_lab.ssh_options(rec.name, state)
        assert options.jump == (Endpoint(state.hosts["jump"].address),)
        assert ipaddress.IPv4Address(rec.address) in INNER_NET
        with the_lab.connect(rec.name, state) as conn:
            assert conn.run("hostname").stdout.strip() == rec.name
            link = conn.run(f"cat /sys/class/net/{nic}/address").stdout.strip()
            assert link == rec.mac
            ifcfg = conn.run(f"cat {platform.ifcfg()}").stdout
            assert f"IPADDR={rec.address}" in ifcfg
            assert f"HWADDR={rec.mac.upper()}" in ifcfg
            assert ipv4_of(conn, nic) == [f"{rec.address}/17"]
            assert f"default via 198.18.128.1 dev {nic}" in conn.run("ip route").stdout
            # root's dotfiles are the host's own: bash sources ~/.bashrc for every
            # command sshd runs, and the machine's must not run inside the lab.
            assert conn.run("cat ~/.bashrc ~/.bash_profile").stdout == ROOT_BASHRC + ROOT_PROFILE
            assert conn.run("echo ${PYENV_ROOT:-unset}").stdout.strip() == "unset"
    assert all(row.ssh == "ok" for row in the_lab.status())


def test_hypervisors_are_not_reachable_without_the_jump_host(lab: tuple[Lab, LabState]) -> None:
    _, state = lab
    with pytest.raises(OSError), socket.create_connection((state.hosts["hv01"].address, 22), 2):
        pass


def test_a_host_key_missing_from_known_hosts_is_refused(
    lab: tuple[Lab, LabState], tmp_path: object
) -> None:
    the_lab, state = lab
    partial = the_lab.paths.root / "known_hosts.partial"
    lines = the_lab.paths.known_hosts.read_text().splitlines()
    partial.write_text(
        "\n".join(line for line in lines if not line.startswith(state.hosts["hv02"].address + " "))
    )
    options = the_lab.ssh_options("hv02", state)
    options = SSHOptions(known_hosts=partial, key_filename=options.key_filename, jump=options.jump)
    with pytest.raises(HostKeyError, match="host key unknown"):
        Connection(Endpoint(state.hosts["hv02"].address), options).open()


def test_lab_inventory_loads_in_nornir(lab: tuple[Lab, LabState], platform: HostPlatform) -> None:
    the_lab, state = lab
    directory = the_lab.paths.inventory
    inventory = SimpleInventory(
        host_file=str(directory / "hosts.yaml"),
        group_file=str(directory / "groups.yaml"),
        defaults_file=str(directory / "defaults.yaml"),
    ).load()
    host: Host = inventory.hosts["hv02"]
    assert host.hostname == state.hosts["hv02"].address
    assert host.platform == platform.name
    extras = host.get_connection_parameters("hvbridge").extras or {}
    assert extras["jump"] == [f"root@{state.hosts['jump'].address}:22"]
    assert extras["known_hosts"] == str(the_lab.paths.known_hosts)
    assert host.data["nics"][platform.nic]["hwaddr"] == state.hosts["hv02"].mac.upper()
    assert host.data["guests"]["v1"]["interfaces"][0]["mac"] == state.hosts["hv02"].guest_mac
    assert "jump" not in yaml.safe_load((directory / "hosts.yaml").read_text())


def test_seed_files_and_network_restart_move_the_address_to_br0(
    lab: tuple[Lab, LabState], platform: HostPlatform
) -> None:
    the_lab, state = lab
    nic = platform.nic
    rec = state.hosts["hv01"]
    with the_lab.connect("hv01", state) as conn:
        write_remote(
            conn,
            f"{SCRIPTS}/ifcfg-br0",
            SEED_BR0.format(ip=rec.address, netmask="255.255.128.0", gateway="198.18.128.1"),
        )
        write_remote(conn, platform.ifcfg(), SEED_NIC.format(nic=nic, hwaddr=rec.mac.upper()))
        # Detached, as an operator would: the restart briefly drops the NIC's address. The
        # seed's own command: on el7 it redirects to systemctl.
        conn.run("nohup service network restart > /root/restart.log 2>&1 < /dev/null &")
    # A new connection to the same address proves the host is still reachable.
    with the_lab.connect("hv01", state) as conn:
        conn.run(
            "for i in $(seq 50); do pgrep -f network_service >/dev/null || break; sleep 0.1; done"
        )
        log = conn.run("cat /root/restart.log").stdout + said_by_network(conn, platform)
        assert "Bringing up interface br0" in log
        bridges = brctl_ports(conn.run("brctl show").stdout)
        assert bridges["br0"] == [nic]
        assert ipv4_of(conn, "br0") == [f"{rec.address}/17"]
        assert ipv4_of(conn, nic) == []
        assert "default via 198.18.128.1 dev br0" in conn.run("ip route").stdout


def test_hwaddr_that_does_not_match_the_nic_is_refused(
    lab: tuple[Lab, LabState], platform: HostPlatform
) -> None:
    the_lab, state = lab
    nic = platform.nic
    rec = state.hosts["hv02"]
    with the_lab.connect("hv02", state) as conn:
        write_remote(
            conn,
            f"{SCRIPTS}/ifcfg-br0",
            SEED_BR0.format(ip=rec.address, netmask="255.255.128.0", gateway="198.18.128.1"),
        )
        seed = SEED_NIC.format(nic=nic, hwaddr="44:37:E6:4A:62:AD")
        write_remote(conn, platform.ifcfg(), seed)
        result = conn.run("service network restart")
        assert result.exit_status != 0
        said = result.stdout + said_by_network(conn, platform)
        assert f"Device {nic} has different MAC address than expected, ignoring." in said
        assert ipv4_of(conn, nic) == [f"{rec.address}/17"]
        assert nic not in brctl_ports(conn.run("brctl show").stdout).get("br0", [])
    with the_lab.connect("hv02", state) as conn:
        assert conn.run("hostname").stdout.strip() == "hv02"


def test_guest_moved_to_br0_shows_its_tap_under_the_bridge(
    lab: tuple[Lab, LabState], platform: HostPlatform
) -> None:
    the_lab, state = lab
    with the_lab.connect("hv03", state) as conn:
        nets = conn.run("virsh net-list --all").stdout
        assert re.search(r"^\s*default\s+active\s+yes\s+yes", nets, re.M), nets
        assert re.search(r"^\s*-\s+v1\s+shut off", conn.run("virsh list --all").stdout, re.M)
        assert "virbr0" in brctl_ports(conn.run("brctl show").stdout)
        assert conn.run("service libvirtd status").exit_status == 0
        # The bridge itself, as the seed's step 1 makes it (the host keeps its NIC here).
        assert conn.run("brctl addbr br0 && ip link set br0 up").ok
        domain = ET.fromstring(conn.run("virsh dumpxml --inactive v1").stdout)
        iface = domain.find("devices/interface")
        assert iface is not None and iface.get("type") == "network"
        iface.set("type", "bridge")
        source = iface.find("source")
        assert source is not None
        source.attrib.clear()
        source.set("bridge", "br0")
        write_remote(conn, "/root/v1.xml", ET.tostring(domain, encoding="unicode"))
        assert conn.run("virsh define /root/v1.xml").ok
        started = conn.run("virsh start v1")
        assert started.ok, started.stderr
        try:
            bridges = brctl_ports(conn.run("brctl show").stdout)
            assert bridges["br0"] == ["vnet0"]
        finally:
            conn.run("virsh destroy v1")
        restarted = conn.run("service libvirtd restart")
        assert restarted.ok, restarted.stdout + restarted.stderr
        status = conn.run("service libvirtd status").stdout
        assert re.search(LIBVIRTD_RUNNING[platform.name], status), status
        assert re.search(r"^\s*default\s+active", conn.run("virsh net-list").stdout, re.M)
