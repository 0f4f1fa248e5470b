"""The files a lab host boots with: pure functions from its topology entry.

Every hypervisor starts in the seed's state before bridging: its NIC (eth0 on el6, ens3
on el7) configured by its ifcfg file, libvirt's NAT network `default` active, guest `v1`
on it. An el7 host also gets EL7's `systemctl`, `journalctl` and `service` (stand-ins,
in its own copy-on-write /usr/bin and /usr/sbin), and NetworkManager installed but not
started (hvbridge.lab.networkmanager).
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from typing import Literal

from hvbridge.lab import ifupdown, ifupdown2, networkd, networkmanager
from hvbridge.lab.fleet import (
    IFUPDOWN2_PLATFORMS,
    IFUPDOWN_PLATFORMS,
    NETPLAN_PLATFORMS,
    NETWORKMANAGER_PLATFORMS,
    SYSTEMD_PLATFORMS,
)
from hvbridge.lab.topology import NAT_NET, LabHost, Port
from hvbridge.lab.units import LIBVIRT_UNITS, VIRTNETWORKD_INITSCRIPT, VIRTNETWORKD_SCRIPT

# el7 is never chosen: it is what an el7 host's sshd (and a jump host in front of el7
# hosts under the el6 profile) offers.
SshProfile = Literal["modern", "el6", "el7"]
SSH_PROFILES: tuple[SshProfile, ...] = ("modern", "el6")
LAB_ETC = "/etc/hvbridge-lab"

# What EL6's OpenSSH 5.3 offers, and nothing newer.
EL6_KEX = (
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
)
EL6_SSHD = f"""\
HostKeyAlgorithms ssh-rsa
PubkeyAcceptedAlgorithms ssh-rsa
KexAlgorithms {",".join(EL6_KEX)}
Ciphers aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,aes192-cbc,aes256-cbc,3des-cbc
MACs hmac-sha1,hmac-md5,hmac-sha1-96
"""

# EL7's OpenSSH 7.4 accepts, besides the modern algorithms, what it still shares with EL6's.
EL7_SSHD = """\
PubkeyAcceptedAlgorithms +ssh-rsa
KexAlgorithms +diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1
"""

RESOLV_CONF = "# hvbridge lab: no DNS, names are in /etc/hosts\nnameserver 127.0.0.1\n"
# root's dotfiles as an EL6 host ships them. /root is a copy-on-write view of the
# machine's, whose dotfiles must not run in the lab: bash sources ~/.bashrc for every
# command sshd runs, and a machine's (pyenv init, here) cost ~90 ms of CPU per command.
ROOT_BASHRC = """\
# .bashrc (hvbridge lab host: root's own, as EL6 ships it)
alias rm='rm -i'
alias cp='cp -i'
alias mv='mv -i'
"""
ROOT_PROFILE = """\
# .bash_profile (hvbridge lab host: root's own, as EL6 ships it)
if [ -f ~/.bashrc ]; then
    . ~/.bashrc
fi
"""

# A non-root operator with passwordless sudo, as many sites log in; the same key as root.
OPS_USER = "ops"
OPS_UID = 1500
OPS_HOME = "/var/lib/hvbridge-lab/ops"
OPS_PASSWD = f"{OPS_USER}:x:{OPS_UID}:{OPS_UID}:hvbridge lab operator:{OPS_HOME}:/bin/sh\n"
OPS_SHADOW = f"{OPS_USER}:*:20000:0:99999:7:::\n"
OPS_GROUP = f"{OPS_USER}:x:{OPS_UID}:\n"
OPS_SUDOERS = f"{OPS_USER} ALL=(ALL) NOPASSWD: ALL\n"

# The users libvirt's Debian packaging creates; libvirtd looks them up at start
# even when qemu.conf says to run guests as root.
LIBVIRT_PASSWD = "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n"  # noqa: S105
LIBVIRT_GROUP = "libvirt-qemu:x:64055:\nlibvirt:x:64056:\n"


@dataclass(frozen=True)
class HostFile:
    path: str
    content: str
    mode: int = 0o644
    append: bool = False
    owner: int = 0  # uid and gid


def host_key_type(profile: SshProfile) -> str:
    return "rsa" if profile == "el6" else "ed25519"


def sshd_config(profile: SshProfile) -> str:
    key = host_key_type(profile)
    text = f"""\
# hvbridge lab sshd ({profile} profile)
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_{key}_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
AuthorizedKeysFile .ssh/authorized_keys
AllowTcpForwarding yes
MaxStartups 200:30:400
MaxSessions 32
Subsystem sftp internal-sftp
"""
    return text + {"el6": EL6_SSHD, "el7": EL7_SSHD}.get(profile, "")


def ifcfg(port: Port, gateway: str | None) -> str:
    lines = [
        f"DEVICE={port.name}",
        f"HWADDR={port.mac.upper()}",
        "TYPE=Ethernet",
        "ONBOOT=yes",
        "NM_CONTROLLED=no",
        "BOOTPROTO=static",
        f"IPADDR={port.address.ip}",
        f"NETMASK={port.address.netmask}",
    ]
    if gateway:
        lines += [f"GATEWAY={gateway}", "DEFROUTE=yes"]
    return "\n".join(lines) + "\n"


def host_profile(profile: SshProfile, host: LabHost, *, el7_hosts: bool) -> SshProfile:
    """The sshd profile of one host of a lab whose profile is `profile`.

    EL7's OpenSSH 7.4 speaks the modern algorithms and still EL6's ssh-rsa. Under the el6
    profile a jump host in front of el7 hosts does too: hvbridge offers the target host's
    algorithms on every hop, ssh-rsa for an el6 host and rsa-sha2 for an el7 one.
    """
    if host.platform in NETWORKMANAGER_PLATFORMS + IFUPDOWN_PLATFORMS + NETPLAN_PLATFORMS:
        # OpenSSH 8.0 (EL8), 8.7 (EL9), 9.2 (Debian 12) and later: the modern algorithms.
        return "modern"
    if host.platform == "el7" or (not host.is_hypervisor and el7_hosts and profile == "el6"):
        return "el7"
    return profile


def network_initscript(python: str) -> str:
    return f"""#!/bin/sh
# chkconfig: 2345 10 90
# description: EL6-style network service of the hvbridge lab (see docs/lab-network-service.md)
exec {python} -m hvbridge.lab.network_service "$@"
"""


SYSTEMCTL = "/bin/systemctl"
# An el7 host has its own copy-on-write view of these too, to hold EL7's systemctl,
# journalctl and service where EL7 has them (whether or not this machine has its own).
EL7_OVERLAID = ("/usr/bin", "/usr/sbin")


def el7_network_initscript(python: str, systemctl: str = SYSTEMCTL) -> str:
    """EL7's /etc/init.d/network: start, stop and restart hand over to systemctl, as
    EL7's /etc/init.d/functions does (`systemctl_redirect`), unless systemd runs it."""
    return f"""#!/bin/sh
# chkconfig: 2345 10 90
# description: EL7-style network service of the hvbridge lab (see docs/lab-network-service.md)
if [ -z "$SYSTEMCTL_SKIP_REDIRECT" ]; then
    case "$1" in
        start) s="Starting network (via systemctl): " ;;
        stop) s="Stopping network (via systemctl): " ;;
        restart|try-restart|condrestart) s="Restarting network (via systemctl): " ;;
        *) s= ;;
    esac
    if [ -n "$s" ]; then
        printf '%s ' "$s"
        {systemctl} "$1" network.service
        rc=$?
        if [ $rc -eq 0 ]; then echo '[  OK  ]'; else echo '[FAILED]'; fi
        exit $rc
    fi
fi
exec {python} -m hvbridge.lab.network_service "$@"
"""


def el7_service_script(servicedir: str = "/etc/init.d", systemctl: str = SYSTEMCTL) -> str:
    """EL7's /usr/sbin/service: a script in /etc/init.d runs itself (and redirects itself,
    above); any other service is handed to systemctl with EL7's message."""
    return f"""#!/bin/sh
# service of an el7 hvbridge lab host, as EL7's initscripts ship it
USAGE="Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]"
case "$1" in
    ""|-h|--help) echo "$USAGE" >&2; exit 1 ;;
esac
SERVICE=$1
shift
ACTION=$1
[ $# -gt 0 ] && shift
cd /
if [ -f {servicedir}/"$SERVICE" ]; then
    exec env -i PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin \\
        TERM="${{TERM:-dumb}}" \\
        ${{SYSTEMCTL_IGNORE_DEPENDENCIES:+SYSTEMCTL_IGNORE_DEPENDENCIES=1}} \\
        ${{SYSTEMCTL_SKIP_REDIRECT:+SYSTEMCTL_SKIP_REDIRECT=1}} \\
        {servicedir}/"$SERVICE" $ACTION "$@"
fi
case "$ACTION" in
    start|stop|restart|try-restart|reload|force-reload|status|condrestart)
        echo "Redirecting to /bin/systemctl $ACTION${{*:+ $*}} $SERVICE.service" >&2
        exec {systemctl} "$ACTION" "$@" "$SERVICE.service" ;;
esac
echo "The service command supports only basic LSB actions (start, stop, restart, try-restart," \\
    "reload, force-reload, status). For other actions, please try to use systemctl." >&2
exit 2
"""


def systemd_tool(python: str, program: str) -> str:
    return f"""#!/bin/sh
# {program} of an el7 hvbridge lab host (see hvbridge/lab/systemctl.py)
exec {python} -m hvbridge.lab.systemctl {program} "$@"
"""


LIBVIRTD_INITSCRIPT = """#!/bin/sh
# chkconfig: 345 97 03
# description: libvirtd of the hvbridge lab, started the way EL6's init script does
PIDFILE=/run/libvirtd.pid
SOCK=/run/libvirt/libvirt-sock

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
    if running; then echo "libvirtd (pid $(cat "$PIDFILE")) is already running"; return 0; fi
    mkdir -p /var/log/libvirt /var/lib/libvirt /run/libvirt
    rm -f "$SOCK"
    printf 'Starting libvirtd daemon: '
    /usr/sbin/libvirtd -d -p "$PIDFILE" || { echo '[FAILED]'; return 1; }
    i=0
    while [ ! -S "$SOCK" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    if [ -S "$SOCK" ]; then echo '[  OK  ]'; return 0; fi
    echo '[FAILED]'; return 1
}

stop() {
    if ! running; then echo "libvirtd is stopped"; rm -f "$PIDFILE"; return 0; fi
    printf 'Stopping libvirtd daemon: '
    pid=$(cat "$PIDFILE")
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
    rm -f "$PIDFILE"
    echo '[  OK  ]'
}

case "$1" in
    start) start ;;
    stop) stop ;;
    restart|reload|force-reload) stop; start ;;
    status)
        if running; then echo "libvirtd (pid $(cat "$PIDFILE")) is running..."; exit 0; fi
        echo "libvirtd is stopped"; exit 3 ;;
    *) echo "Usage: $0 {start|stop|status|restart}"; exit 2 ;;
esac
"""

QEMU_CONF = """\
# hvbridge lab: guests run as root inside the host's namespaces, without
# cgroups (the host has none of its own) and with qemu's output in a file.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""

LIBVIRTD_CONF = """\
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
"""


def default_network_xml() -> str:
    gateway = NAT_NET.network_address + 1
    return f"""<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='{gateway}' netmask='{NAT_NET.netmask}'>
    <dhcp>
      <range start='{gateway + 1}' end='{NAT_NET.broadcast_address - 1}'/>
    </dhcp>
  </ip>
</network>
"""


def guest_xml(name: str, mac: str, domain_type: str) -> str:
    # No disk and no boot ROM: SeaBIOS finds nothing to boot and halts, so an
    # idle guest costs about 1% of a core instead of iPXE's busy loop.
    return f"""<domain type='{domain_type}'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
    <bios rebootTimeout='-1'/>
  </os>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='network'>
      <mac address='{mac}'/>
      <source network='default'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
  </devices>
</domain>
"""


def boot_script(host: LabHost, *, libvirt: bool) -> str:
    # systemd starts an el7/el8/el9 host's services; init scripts an el6 host's.
    systemd = host.platform in SYSTEMD_PLATFORMS
    if host.platform in NETWORKMANAGER_PLATFORMS:
        network = "systemctl start NetworkManager.service"
    elif host.platform in NETPLAN_PLATFORMS:
        network = networkd.BOOT
    elif host.platform in IFUPDOWN2_PLATFORMS:
        network = ifupdown2.BOOT
    elif host.platform in IFUPDOWN_PLATFORMS:
        network = ifupdown.BOOT
    else:
        network = "systemctl start network.service" if systemd else "service network start"
    lines = ["set -e", "ip link set lo up", network, "/usr/sbin/sshd -E /var/log/sshd.log"]
    if libvirt and host.is_hypervisor:
        units = " ".join(f"{unit}.service" for unit in LIBVIRT_UNITS.get(host.platform, ()))
        lines += [
            f"systemctl start {units}" if systemd else "service libvirtd start",
            f"virsh -q net-define {LAB_ETC}/default-network.xml",
            "virsh -q net-autostart default",
            "virsh -q net-start default",
            f"virsh -q define {LAB_ETC}/v1.xml",
        ]
    return "\n".join(lines) + "\n"


def keyfile(port: Port, gateway: str | None) -> str:
    """The NIC's profile as an EL8/EL9 install leaves it: a keyfile, static address."""
    address = f"{port.address.with_prefixlen}" + (f",{gateway}" if gateway else "")
    # The NIC with the default route (the management one) carries the install's DNS too.
    dns = (
        f"dns={networkmanager.START_DNS};\ndns-search={networkmanager.START_SEARCH};\n"
        if gateway
        else ""
    )
    return f"""\
[connection]
id={port.name}
uuid={uuid.uuid5(uuid.NAMESPACE_OID, f"hvbridge-lab/{port.mac}")}
type=ethernet
interface-name={port.name}

[ethernet]
mac-address={port.mac.upper()}

[ipv4]
method=manual
address1={address}
{dns}
[ipv6]
method=ignore
"""


def host_files(
    host: LabHost,
    *,
    profile: SshProfile,
    libvirt: bool,
    authorized_key: str,
    host_key: tuple[str, str],
    domain_type: str,
) -> list[HostFile]:
    key_type = host_key_type(profile)
    private, public = host_key
    with_libvirt = bool(libvirt and host.is_hypervisor and host.guest_mac)
    passwd = OPS_PASSWD + (LIBVIRT_PASSWD if with_libvirt else "")
    group = OPS_GROUP + (LIBVIRT_GROUP if with_libvirt else "")
    files = [
        HostFile("/etc/hostname", host.name + "\n"),
        HostFile("/etc/hosts", f"127.0.0.1 localhost\n{host.address} {host.name}\n"),
        # No DNS: a lookup (sudo resolves the host name) must fail at once, on loopback,
        # and never leave the lab for the machine's resolver.
        HostFile("/etc/resolv.conf", RESOLV_CONF),
        HostFile("/etc/ssh/sshd_config", sshd_config(profile)),
        HostFile(f"/etc/ssh/ssh_host_{key_type}_key", private, 0o600),
        HostFile(f"/etc/ssh/ssh_host_{key_type}_key.pub", public),
        HostFile("/root/.ssh/authorized_keys", authorized_key, 0o600),
        HostFile("/root/.bashrc", ROOT_BASHRC),
        # Login shells (`hvbridge lab ssh`) read the first of these that exists.
        HostFile("/root/.bash_profile", ROOT_PROFILE),
        HostFile("/root/.profile", ROOT_PROFILE),
        HostFile("/etc/passwd", passwd, append=True),
        HostFile("/etc/shadow", OPS_SHADOW, 0o640, append=True),
        HostFile("/etc/group", group, append=True),
        HostFile(f"/etc/sudoers.d/{OPS_USER}", OPS_SUDOERS, 0o440),
        HostFile(f"{OPS_HOME}/.ssh/authorized_keys", authorized_key, 0o600, owner=OPS_UID),
        HostFile("/etc/sysconfig/network", "NETWORKING=yes\nHOSTNAME=" + host.name + "\n"),
        HostFile(f"{LAB_ETC}/boot.sh", boot_script(host, libvirt=libvirt), 0o755),
    ]
    systemd = host.platform in SYSTEMD_PLATFORMS
    nm = host.platform in NETWORKMANAGER_PLATFORMS
    python = sys.executable
    if systemd:
        files += [
            HostFile("/usr/bin/systemctl", systemd_tool(python, "systemctl"), 0o755),
            HostFile("/usr/bin/journalctl", systemd_tool(python, "journalctl"), 0o755),
            # el7: installed, not started, as on many EL7 hosts, until someone starts it
            # (`systemctl start NetworkManager`), which hvbridge must then notice.
            *networkmanager_files(),
        ]
    if host.platform == "el7":
        files += [
            HostFile("/etc/init.d/network", el7_network_initscript(python), 0o755),
            HostFile("/usr/sbin/service", el7_service_script(), 0o755),
        ]
    elif not systemd:
        files.append(HostFile("/etc/init.d/network", network_initscript(python), 0o755))
    for index, port in enumerate(host.ports):
        gateway = str(host.gateway) if host.gateway and index == 0 else None
        if host.platform in NETPLAN_PLATFORMS:
            if index == 0:
                text = networkd.netplan_file(port.name, port.address.with_prefixlen, gateway)
                files += [
                    HostFile(networkd.NETPLAN_FILE, text, 0o600),
                    HostFile(networkd.FOREIGN_FILE, networkd.FOREIGN, 0o600),
                    HostFile(networkd.SCRIPT_PATH, networkd.init_script(), 0o755),
                    HostFile(networkd.NOOP_SCRIPT, networkd.NOOP, 0o755),
                    HostFile(networkd.UDEVADM_PATH, networkd.UDEVADM, 0o755),
                ]
        elif host.platform in IFUPDOWN_PLATFORMS:
            if index == 0:
                # Proxmox's installer says `auto`, Debian's `allow-hotplug`.
                allow = "auto" if host.platform in IFUPDOWN2_PLATFORMS else "allow-hotplug"
                text = ifupdown.interfaces(
                    port.name, port.address.with_prefixlen, gateway, allow,
                    ipv6=host.platform not in IFUPDOWN2_PLATFORMS,
                )  # fmt: skip
                files.append(HostFile(ifupdown.INTERFACES, text))
        elif nm:
            path = f"{networkmanager.CONNECTIONS_DIR}/{port.name}.nmconnection"
            files.append(HostFile(path, keyfile(port, gateway), 0o600))
        else:
            path = f"/etc/sysconfig/network-scripts/ifcfg-{port.name}"
            files.append(HostFile(path, ifcfg(port, gateway)))
    if with_libvirt and host.guest_mac:
        # EL7 and later have no /etc/init.d/libvirtd: systemctl runs the lab's starter.
        libvirtd = f"{LAB_ETC}/libvirtd.init" if systemd else "/etc/init.d/libvirtd"
        if host.platform == "el9":
            files.append(HostFile(VIRTNETWORKD_SCRIPT, VIRTNETWORKD_INITSCRIPT, 0o755))
        files += [
            HostFile(libvirtd, LIBVIRTD_INITSCRIPT, 0o755),
            HostFile("/etc/libvirt/qemu.conf", QEMU_CONF),
            HostFile("/etc/libvirt/libvirtd.conf", LIBVIRTD_CONF),
            HostFile(f"{LAB_ETC}/default-network.xml", default_network_xml()),
            HostFile(f"{LAB_ETC}/v1.xml", guest_xml("v1", host.guest_mac, domain_type)),
        ]
    return files


def networkmanager_files() -> list[HostFile]:
    """What `systemctl start NetworkManager` needs on a lab host (real NetworkManager)."""
    return [
        HostFile(networkmanager.CONF_PATH, networkmanager.NM_CONF),
        HostFile(networkmanager.SCRIPT_PATH, networkmanager.init_script(), 0o755),
    ]


def host_empty_dirs(host: LabHost) -> list[str]:
    """Directories the host starts with empty, whatever this machine has there: its
    NetworkManager must not read this machine's own profiles."""
    return [networkmanager.CONNECTIONS_DIR] if host.platform in SYSTEMD_PLATFORMS else []


def host_overlays(host: LabHost) -> list[str]:
    """Directories the host needs a private view of, beyond every host's."""
    extra = list(ifupdown2.OVERLAID) if host.platform in IFUPDOWN2_PLATFORMS else []
    return (list(EL7_OVERLAID) if host.platform in SYSTEMD_PLATFORMS else []) + extra
