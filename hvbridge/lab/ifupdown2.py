"""ifupdown2 in a lab host (Debian's `ifupdown2` 3.0, Proxmox VE's network tool).

ifupdown2 conflicts with ifupdown as a Debian package, and this machine's lab runs both:
`scripts/install` unpacks its .deb (never installs it) under `ROOT`, and each proxmox host
links it into its own copy-on-write /usr/share and /usr/sbin, where ifupdown2 looks for
itself (`/usr/share/ifupdown2/addons` is hard-coded) and where `ifup` and friends are
found; its configuration goes to the host's own /etc/network/ifupdown2. The host boots as
the debian hosts do (hvbridge.lab.ifupdown), on a static stanza for its NIC, with
`ifreload -a` applying the files.
"""

from __future__ import annotations

from hvbridge.lab.preflight import IFUPDOWN2_ROOT as ROOT

# What a proxmox host overlays beyond every systemd host's /usr/bin and /usr/sbin.
OVERLAID = ("/usr/share",)
TOOLS = ("ifup", "ifdown", "ifquery", "ifreload")
BOOT = " && ".join(
    [
        f"ln -sfn {ROOT}/usr/share/ifupdown2 /usr/share/ifupdown2",
        *(f"ln -sf /usr/share/ifupdown2/ifupdown2 /usr/sbin/{tool}" for tool in TOOLS),
        f"cp -r {ROOT}/etc/network/ifupdown2 /etc/network/",
        "mkdir -p /run/network /var/lib/ifupdown2",
        "ifreload -a",
    ]
)
