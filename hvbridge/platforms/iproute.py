"""The running network state as bridge-utils, iproute2, /proc and sysfs print it, as text.

Text, not `ip -j`: EL6's iproute 2.6.32 and EL7's have no JSON output.
hvbridge.hoststate splits the output at MARK and parses each part: the IPv4 ones with
hvbridge.netstate, the rest with hvbridge.chainstate (`ip -o addr show` prints both
families: split_families parts them). Shell builtins wherever they do: the state is read
twice per host and run, and each program started costs the host milliseconds of CPU.
Every part ends in a command that succeeds when there is nothing to print (no IPv6, no
bond, no VLAN), so the whole command fails only when the host cannot run it.
"""

from __future__ import annotations

MARK = "@@hvbridge@@"
# Opens each bond's /proc/net/bonding file, with the bond's name after it.
BOND_MARK = "@@hvbridge-bond@@"
# Builtins only (each program started on a host costs milliseconds of its CPU, twice
# per host and run): `cat` as a loop of `read`, ending a last line that has no newline.
_CAT = (
    'hvb_cat() { while IFS= read -r l || [ -n "$l" ]; do printf \'%s\\n\' "$l"; done'
    ' 2>/dev/null < "$1"; }'
)
# systemd-resolved's stub resolver leaves only itself in /etc/resolv.conf; the servers
# it forwards to are in its own file.
_RESOLVER = (
    "r=/etc/resolv.conf; if [ -r /run/systemd/resolve/resolv.conf ]; then"
    " while IFS= read -r l; do case $l in 'nameserver 127.0.0.53'*)"
    " r=/run/systemd/resolve/resolv.conf; break;; esac; done 2>/dev/null < $r; fi;"
    # The echo ends the file's text before the next mark.
    " echo $r; hvb_cat $r; echo"
)
# A glob of <dev>/bridge matches bridges only: the bonding driver's
# /sys/class/net/bonding_masters is a file, never a directory to look into.
_BRIDGES = (
    'for b in /sys/class/net/*/bridge; do if [ -d "$b" ]; then n=${b%/bridge}; hvb_s=; hvb_d=;'
    ' read -r hvb_s < "$b/stp_state"; read -r hvb_d < "$b/forward_delay";'
    ' echo "${n##*/}" $hvb_s $hvb_d;'
    " fi; done"
)
_BONDS = (
    'for f in /proc/net/bonding/*; do if [ -f "$f" ]; then'
    f' echo "{BOND_MARK} ${{f##*/}}"; hvb_cat "$f"; fi; done'
)
_VLANS = "if [ -r /proc/net/vlan/config ]; then hvb_cat /proc/net/vlan/config; fi"
STATE_COMMAND = f"{_CAT}; " + f"; echo {MARK}; ".join(
    [
        "if command -v brctl >/dev/null 2>&1; then echo brctl; brctl show; else echo none; fi",
        "ip -o -d link show",
        # Both families in one program; parse_state parts them (split_families).
        "ip -o addr show",
        "ip -4 route show",
        # A host booted without IPv6 has no /proc/net/if_inet6: nothing to list.
        "if [ -e /proc/net/if_inet6 ]; then ip -6 route show; fi",
        _RESOLVER,
        _BRIDGES,
        _BONDS,
        _VLANS,
    ]
)
PARTS = 9


def split_families(text: str) -> tuple[str, str]:
    """`ip -o addr show`'s lines as (IPv4's, IPv6's), each in its order. A line whose device
    ends in a colon is a link's, which an old iproute may print among the addresses (a
    device name never holds one); any other line goes with IPv4's, whose reader says what
    is wrong with it."""
    inet: list[str] = []
    inet6: list[str] = []
    for line in text.splitlines(keepends=True):
        words = line.split(None, 3)
        if len(words) > 2 and words[2] == "inet6":
            inet6.append(line)
        elif len(words) > 1 and words[1].endswith(":"):
            continue
        elif line.strip():
            inet.append(line)
    return "".join(inet), "".join(inet6)
