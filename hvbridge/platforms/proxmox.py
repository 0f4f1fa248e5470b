"""Proxmox VE (Debian with ifupdown2): the same interfaces(5) files, written the way Proxmox
writes them (`bridge-ports`, `hwaddress`), applied by `ifreload -a`, which brings up what
the files now say and down what they no longer do, then a wait for STP bridges to forward;
the guard's revert is the same on the restored files. `ifquery -a -c` says, attribute by
attribute, what does not run as written: the explanation of a failed apply."""

from __future__ import annotations

from hvbridge.platforms.ifupdown import Dialect, Ifupdown, Tool

RELOAD = "ifreload -a"


def forwarding_wait(net: str = "/sys/class/net") -> str:
    """Shell waiting, for each bridge with STP on, until one of its ports forwards, at most
    twice its forward delay and 2 s (listening, learning, a hello). bridge-utils' hook
    waits so on Debian; ifupdown2's `bridge-maxwait` waits before the bridge is up, when no
    port can forward yet, so the guarded restart would verify a bridge without carrier."""
    return (
        f'for b in {net}/*/bridge; do [ -r "$b/stp_state" ] || continue;'
        ' [ "$(cat "$b/stp_state")" = 0 ] && continue;'
        ' n=$(( $(cat "$b/forward_delay") / 50 + 2 ));'
        ' while [ $n -gt 0 ] && ! cat "${b%/bridge}"/brif/*/state 2>/dev/null | grep -qx 3;'
        " do sleep 1; n=$((n - 1)); done; done"
    )


# The reload's own status, after the wait (which fails nothing: the verify judges).
APPLY = f"rc=0; {RELOAD} || rc=$?; {forwarding_wait()}; [ $rc = 0 ]"
# ifupdown2 asks dpkg for its version: where it is not installed as a package (a lab host)
# it still answers, with no version.
VERSION = (
    "ifreload --version 2>/dev/null | grep -m 1 ifupdown2 || { command -v ifreload"
    " >/dev/null && echo 'ifupdown2 (ifreload; no package version)'; }"
)
PROXMOX = Ifupdown(
    name="proxmox",
    # ifupdown2 makes bonds itself: no helper package to look for.
    tool=Tool(
        name="ifupdown2", version_command=VERSION, version_says="ifupdown2", bond_helper=None
    ),
    restart=APPLY,
    revert=("true", APPLY),
    restart_diagnostics="ifquery -a -c",
    dialect=Dialect(
        bridge_ports="bridge-ports",
        bridge_hw="hwaddress",
        bridge_stp="bridge-stp",
        bridge_fd="bridge-fd",
        inet6_auto=False,
        bond_master=False,
        named_vlans=True,
        max_miimon=255,
    ),
)
