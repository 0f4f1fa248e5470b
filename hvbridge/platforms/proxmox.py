"""Proxmox VE (Debian with ifupdown2): the same interfaces(5) files, written the way Proxmox
writes them (`bridge-ports`, `hwaddress`), applied by `ifreload -a`, which brings up what
the files now say and down what they no longer do; the guard's revert is the same
`ifreload -a` on the restored files. `ifquery -a -c` says, attribute by attribute, what
does not run as written: the explanation of a failed apply."""

from __future__ import annotations

from hvbridge.platforms.ifupdown import Dialect, Ifupdown, Tool

RELOAD = "ifreload -a"
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
    restart=RELOAD,
    revert=("true", RELOAD),
    restart_diagnostics="ifquery -a -c",
    dialect=Dialect(
        bridge_ports="bridge-ports",
        bridge_hw="hwaddress",
        bridge_stp="bridge-stp",
        bridge_fd="bridge-fd",
        bond_master=False,
        named_vlans=True,
        max_miimon=255,
    ),
)
