"""The real ifupdown in a lab host (Debian's `ifupdown` 0.8, with bridge-utils' hooks).

Nothing to emulate: a lab host's /etc is a copy-on-write overlay and its /run a tmpfs of
its own, so /etc/network and /run/network (ifupdown's state) are the host's own, and
`ifup`/`ifdown` configure the host's network namespace. The host boots as a Debian
install leaves it: eth0 on a static `iface eth0` stanza (`allow-hotplug eth0`) in
/etc/network/interfaces, which sources /etc/network/interfaces.d/*, beside a stanza
hvbridge must leave alone (a second NIC's, not present, as on a host whose other port is
unplugged) and comments; on debian, eth0's `inet6 auto` stanza too (proxmox hosts have none:
ifupdown2's IPv6 methods are not exercised in the lab).
"""

from __future__ import annotations

from hvbridge.platforms.ifupdown import UP

INTERFACES = "/etc/network/interfaces"
# Lab addresses only (198.18.0.0/15), never used: eth9 is no lab host's NIC (the data
# switch's NICs, `lab up --nics`, are eth1..eth3, and start with no stanza).
FOREIGN_STANZA = """\
# The storage NIC, not hvbridge's: left alone, byte for byte.
allow-hotplug eth9
iface eth9 inet static
\taddress 198.19.250.10/24
\tmtu 9000
"""
# resolvconf's options: nothing reads them in the lab, hvbridge must carry them over.
NAMESERVER = "198.18.0.53"
SEARCH = "lab.example"
# eth0 takes router advertisements even with forwarding on (`accept_ra 2`, not the
# kernel's default 1): what a lab test reads on br0 after the rollout to see that the
# port's IPv6 stanza went to the bridge. No lab host has a global IPv6 address.
ACCEPT_RA = "2"
INET6_STANZA = "iface {port} inet6 auto\n\taccept_ra " + ACCEPT_RA + "\n"
# As Debian's networking service starts: `auto` interfaces, then the `allow-hotplug` ones
# whose device exists (udev would bring them up on a real host); eth0 is one, as a Debian
# installer leaves it.
BOOT = f"mkdir -p /run/network && {{ {UP}; }}"


def interfaces(
    port: str, address: str, gateway: str | None, allow: str = "allow-hotplug", ipv6: bool = False
) -> str:
    """`/etc/network/interfaces` as a Debian install leaves it, with a second NIC's stanza;
    `ipv6`: the port's `inet6 auto` stanza too (SLAAC, as an installer writes on a network
    with router advertisements)."""
    route = f"\tgateway {gateway}\n" if gateway else ""
    inet6 = INET6_STANZA.format(port=port) if ipv6 else ""
    return f"""\
# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
{allow} {port}
iface {port} inet static
\taddress {address}
{route}\t# dns-* options are implemented by the resolvconf package, if installed
\tdns-nameservers {NAMESERVER}
\tdns-search {SEARCH}
{inet6}
{FOREIGN_STANZA}"""
