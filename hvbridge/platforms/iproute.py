"""The running network state as bridge-utils and iproute2 print it, as text.

Text, not `ip -j`: EL6's iproute 2.6.32 and EL7's have no JSON output.
hvbridge.hoststate splits the output at MARK and parses each part.
"""

from __future__ import annotations

MARK = "@@hvbridge@@"
STATE_COMMAND = "; ".join(
    [
        "if command -v brctl >/dev/null 2>&1; then echo brctl; brctl show; else echo none; fi",
        f"echo {MARK}",
        "ip -o -d link show",
        f"echo {MARK}",
        "ip -o -4 addr show",
        f"echo {MARK}",
        "ip -4 route show",
    ]
)
