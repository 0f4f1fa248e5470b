"""The running network state as bridge-utils, iproute2, /proc and sysfs print it, as text.

Text, not `ip -j`: EL6's iproute 2.6.32 and EL7's have no JSON output.
hvbridge.hoststate splits the output at MARK and parses each part: the first four with
hvbridge.netstate, the rest with hvbridge.chainstate. Every part ends in a command that
succeeds when there is nothing to print (no IPv6, no bond, no VLAN), so the whole command
fails only when the host cannot run it.
"""

from __future__ import annotations

MARK = "@@hvbridge@@"
# Opens each bond's /proc/net/bonding file, with the bond's name after it.
BOND_MARK = "@@hvbridge-bond@@"
# systemd-resolved's stub resolver leaves only itself in /etc/resolv.conf; the servers
# it forwards to are in its own file.
_RESOLVER = (
    "r=/etc/resolv.conf; grep -qs '^nameserver 127[.]0[.]0[.]53' $r &&"
    " [ -r /run/systemd/resolve/resolv.conf ] && r=/run/systemd/resolve/resolv.conf;"
    # The echo ends a file whose last line has no newline before the next mark.
    " echo $r; cat $r 2>/dev/null; echo"
)
# A glob of <dev>/bridge matches bridges only: the bonding driver's
# /sys/class/net/bonding_masters is a file, never a directory to look into.
_BRIDGES = (
    'for b in /sys/class/net/*/bridge; do if [ -d "$b" ]; then n=${b%/bridge};'
    ' echo "${n##*/}" $(cat "$b/stp_state" "$b/forward_delay"); fi; done'
)
_BONDS = (
    'for f in /proc/net/bonding/*; do if [ -f "$f" ]; then'
    f' echo "{BOND_MARK} ${{f##*/}}"; cat "$f"; fi; done'
)
_VLANS = "if [ -r /proc/net/vlan/config ]; then cat /proc/net/vlan/config; fi"
STATE_COMMAND = f"; echo {MARK}; ".join(
    [
        "if command -v brctl >/dev/null 2>&1; then echo brctl; brctl show; else echo none; fi",
        "ip -o -d link show",
        "ip -o -4 addr show",
        "ip -4 route show",
        # A host booted without IPv6 has no /proc/net/if_inet6: nothing to list.
        "if [ -e /proc/net/if_inet6 ]; then ip -o -6 addr show; fi",
        "if [ -e /proc/net/if_inet6 ]; then ip -6 route show; fi",
        _RESOLVER,
        _BRIDGES,
        _BONDS,
        _VLANS,
    ]
)
PARTS = 10
