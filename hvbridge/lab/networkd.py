"""Real systemd-networkd and netplan in a lab host (Ubuntu's network: Debian 12's systemd
252 and netplan.io 0.106).

networkd runs without systemd as PID 1, found by trying: it needs a system bus (the host's
own `dbus-daemon --system`, as for NetworkManager), `/run/systemd/netif/{links,leases,lldp}`
owned by `systemd-network` (it drops to that user), and a read-only /sys in a mount
namespace of its own (with a writable one and no udevd it waits for udev). `netplan apply`
asks the lab's systemctl for `daemon-reload`, `is-active`, `stop` of netplan's wpa units
(none here), a restart of `systemd-networkd.service` when `networkctl reload` fails, and
`netplan-ovs-cleanup.service`; it runs `udevadm trigger` and `udevadm settle`, which the
lab's `udevadm` answers (there is no udevd: nothing to trigger or settle).

The init script (start, stop, status) is what an ubuntu host's systemctl runs for
`systemd-networkd.service` (hvbridge.lab.units); the host boots with `netplan generate`,
then that unit.
"""

from __future__ import annotations

from hvbridge.lab import systembus

SCRIPT_PATH = "/etc/hvbridge-lab/networkd.init"
PIDFILE = "/run/hvbridge-lab/systemd-networkd.pid"
LOG_PATH = "/var/log/systemd-networkd.log"
NOOP_SCRIPT = "/etc/hvbridge-lab/noop.init"
UDEVADM_PATH = "/usr/bin/udevadm"
NETPLAN_FILE = "/etc/netplan/50-cloud-init.yaml"
FOREIGN_FILE = "/etc/netplan/60-storage.yaml"
# Another NIC's file (not present in a lab host): hvbridge must leave it byte for byte.
FOREIGN = """\
# The storage NIC, not hvbridge's: left alone, byte for byte.
network:
  version: 2
  ethernets:
    eth1:
      addresses: [198.19.250.10/24]
      mtu: 9000
"""
NAMESERVER = "198.18.0.53"
SEARCH = "lab.example"
START_TIMEOUT = 10
STOP_TIMEOUT = 10
BOOT = "netplan generate && systemctl start systemd-networkd.service"


def netplan_file(port: str, address: str, gateway: str | None) -> str:
    """What cloud-init leaves on an Ubuntu server: the NIC static, with DNS."""
    route = f"      routes:\n        - to: default\n          via: {gateway}\n" if gateway else ""
    return f"""\
# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.
network:
  version: 2
  ethernets:
    {port}:
      addresses: [{address}]
{route}      nameservers:
        addresses: [{NAMESERVER}]
        search: [{SEARCH}]
"""


def init_script() -> str:
    return f"""#!/bin/sh
# systemd-networkd of an hvbridge lab host (see hvbridge/lab/networkd.py)
PIDFILE={PIDFILE}
LOG={LOG_PATH}

{systembus.FUNCTIONS}

start() {{
    if running; then echo "systemd-networkd (pid $(cat "$PIDFILE")) is running"; return 0; fi
    system_bus || {{ echo "cannot start the system bus (dbus-daemon --system)"; return 1; }}
    mkdir -p "$(dirname "$PIDFILE")" /run/systemd/netif/links /run/systemd/netif/leases \\
        /run/systemd/netif/lldp
    chown -R systemd-network:systemd-network /run/systemd/netif
    setsid unshare --mount --propagation private -- sh -c \\
        'mount -o remount,bind,ro /sys && exec /lib/systemd/systemd-networkd' \\
        < /dev/null >> "$LOG" 2>&1 &
    echo $! > "$PIDFILE"
    i=0
    while [ $i -lt {START_TIMEOUT * 10} ]; do
        # On the bus: `networkctl reload` (netplan apply) reaches it. (`busctl status` of
        # the name cannot read its credentials across the PID namespace.)
        if busctl --system list 2>/dev/null | grep -q -F 'org.freedesktop.network1 '; then
            echo "systemd-networkd started"; return 0
        fi
        running || break
        sleep 0.1; i=$((i + 1))
    done
    echo "systemd-networkd did not start within {START_TIMEOUT}s; the end of $LOG:"
    tail -n 5 "$LOG"
    return 1
}}

stop() {{
    if ! running; then rm -f "$PIDFILE"; echo "systemd-networkd is stopped"; return 0; fi
    pid=$(cat "$PIDFILE")
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt {STOP_TIMEOUT * 10} ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null
    rm -f "$PIDFILE"
    echo "systemd-networkd stopped"
}}

case "$1" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status)
        if running; then echo "systemd-networkd (pid $(cat "$PIDFILE")) is running"; exit 0; fi
        echo "systemd-networkd is stopped"; exit 3 ;;
    *) echo "Usage: $0 {{start|stop|restart|status}}"; exit 2 ;;
esac
"""


NOOP = "#!/bin/sh\n# a unit with nothing to do in an hvbridge lab host\nexit 0\n"
UDEVADM = """#!/bin/sh
# udevadm of an hvbridge lab host: there is no udevd, so nothing to trigger or settle.
case "$1" in
    trigger|settle|control) exit 0 ;;
    *) echo "udevadm $1: not emulated in the hvbridge lab" >&2; exit 1 ;;
esac
"""
