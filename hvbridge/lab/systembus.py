"""Shell functions for a lab host's daemon init scripts that need a system bus
(NetworkManager, systemd-networkd): `running` (the daemon's $PIDFILE names a live
process) and `system_bus` (the host's private `dbus-daemon --system`, started once)."""

FUNCTIONS = """running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

system_bus() {
    if [ -S /run/dbus/system_bus_socket ] && [ -f /run/dbus/pid ] \\
        && kill -0 "$(cat /run/dbus/pid)" 2>/dev/null; then
        return 0
    fi
    mkdir -p /run/dbus
    rm -f /run/dbus/pid /run/dbus/system_bus_socket
    dbus-daemon --system --fork
}"""
