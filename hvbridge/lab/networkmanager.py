"""Real NetworkManager in a lab host: a private system bus, and NM in a mount namespace of
its own where /sys is read-only.

Debian's `network-manager` (1.42, the version RHEL 9.2 ships) runs unchanged. Two things
make it work inside a lab host, found by trying:
- a `dbus-daemon --system` of the host's own (the host's /run is private, so its socket
  is too), started before NetworkManager and left running, as on a real host;
- `/sys` read-only for NetworkManager alone: with a writable /sys and no udevd, NM waits
  for udev to announce each device and leaves every one unmanaged. A read-only bind
  remount in a child mount namespace tells it there is no udev to wait for; brctl,
  libvirt and the network service keep their writable /sys.

Nothing of this machine's own NetworkManager shows through: the host's profile directory
starts empty (a tmpfs, hvbridge.lab.init) and NetworkManager reads the lab's conf.d.
`NetworkManager.conf` keeps it to the lab: keyfiles only (`plugins=keyfile`), no automatic
DHCP profile for a NIC without one (`no-auto-default=*`), and hands off DNS
(`dns=none`, `rc-manager=unmanaged`: /etc/resolv.conf is the lab's).

The init script (start, stop, status) is what an el7/el9 host's `systemctl` runs for
`NetworkManager.service` (hvbridge.lab.units). NetworkManager lives in the host's PID
namespace, so `lab down` ends it with the host; `stop` ends it by the PID it recorded.
"""

from __future__ import annotations

from hvbridge.lab import systembus

CONF_PATH = "/etc/NetworkManager/NetworkManager.conf"
CONNECTIONS_DIR = "/etc/NetworkManager/system-connections"
SCRIPT_PATH = "/etc/hvbridge-lab/networkmanager.init"
PIDFILE = "/run/hvbridge-lab/NetworkManager.pid"
LOG_PATH = "/var/log/NetworkManager.log"
# Its own (empty) conf.d: this machine's /etc/NetworkManager/conf.d stays out of the lab.
CONF_DIR = "/etc/hvbridge-lab/NetworkManager.conf.d"
# In the foreground, logging to stderr (the log file: the host has no syslog).
DAEMON = f"/usr/sbin/NetworkManager --debug --config-dir={CONF_DIR}"
# The DNS the management NIC's starting profile sets (an install's, from its DHCP or
# kickstart): hvbridge carries it to the bridge's profile.
START_DNS = "198.18.0.53"
START_SEARCH = "lab.example"
# How long `start` waits for NetworkManager to have activated what it will (nm-online).
START_TIMEOUT = 15
STOP_TIMEOUT = 10

NM_CONF = """\
# NetworkManager of an hvbridge lab host (hvbridge/lab/networkmanager.py)
[main]
plugins=keyfile
no-auto-default=*
dns=none
rc-manager=unmanaged

[logging]
level=INFO
"""


def init_script() -> str:
    """`/etc/hvbridge-lab/networkmanager.init start|stop|status`: exit 0 when done (start:
    NetworkManager answers and has finished starting), 1 when not, 3 for status when
    stopped, as LSB scripts do."""
    return f"""#!/bin/sh
# NetworkManager of an hvbridge lab host (see hvbridge/lab/networkmanager.py)
PIDFILE={PIDFILE}
LOG={LOG_PATH}

{systembus.FUNCTIONS}

start() {{
    if running; then echo "NetworkManager (pid $(cat "$PIDFILE")) is already running"; return 0; fi
    system_bus || {{ echo "cannot start the system bus (dbus-daemon --system)"; return 1; }}
    mkdir -p "$(dirname "$PIDFILE")" {CONNECTIONS_DIR} {CONF_DIR}
    # Not `setsid -f`: started in the background, setsid execs NetworkManager itself, so
    # $! is its PID. /sys read-only for it alone: see the module's docstring.
    setsid unshare --mount --propagation private -- sh -c \\
        'mount -o remount,bind,ro /sys && exec {DAEMON}' \\
        < /dev/null >> "$LOG" 2>&1 &
    echo $! > "$PIDFILE"
    if nm-online -s -q -t {START_TIMEOUT}; then echo "NetworkManager started"; return 0; fi
    echo "NetworkManager did not finish starting within {START_TIMEOUT}s; the end of $LOG:"
    tail -n 5 "$LOG"
    return 1
}}

stop() {{
    if ! running; then rm -f "$PIDFILE"; echo "NetworkManager is stopped"; return 0; fi
    pid=$(cat "$PIDFILE")
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt {STOP_TIMEOUT * 10} ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null
    rm -f "$PIDFILE"
    echo "NetworkManager stopped"
}}

case "$1" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status)
        if running; then echo "NetworkManager (pid $(cat "$PIDFILE")) is running"; exit 0; fi
        echo "NetworkManager is stopped"; exit 3 ;;
    *) echo "Usage: $0 {{start|stop|restart|status}}"; exit 2 ;;
esac
"""
