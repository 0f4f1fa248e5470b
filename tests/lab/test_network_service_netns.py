"""`service network restart` of a lab host, run for real in a throwaway network namespace.

Needs root, iproute2, bridge-utils and util-linux's unshare; without them these tests fail
rather than skip, so a lab machine that lost them does not pass silently.

Not run per platform: no lab host is built, and el6 and el7 hosts run this same initscripts
emulation (el7's systemctl runs it for network.service: test_lab_el7.py, and every lab test
on el7 hosts).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

PROJECT = Path(__file__).resolve().parents[2]
TOOL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
ETH0_MAC = "02:00:C6:12:C8:0A"

# The seed's two files, moved into the lab's 198.18.0.0/15.
IFCFG_BR0 = """\
DEVICE="br0"
ONBOOT="yes"
TYPE="Bridge"
BOOTPROTO=static
IPADDR=198.18.200.10
NETMASK=255.255.255.0
GATEWAY=198.18.200.1
DEFROUTE=yes
"""

IFCFG_ETH0 = """\
DEVICE="eth0"
NM_CONTROLLED="no"
ONBOOT="yes"
TYPE=Ethernet
BOOTPROTO=none
BRIDGE="br0"
NAME="System eth0"
HWADDR={hwaddr}
"""

# Runs inside `unshare --net --mount`: the namespaces vanish with the shell, and the fresh
# sysfs (which the service reads) stays private to the new mount namespace.
SCRIPT = """\
set -e
mount -t sysfs sysfs /sys
ip link add eth0 address {mac} type veth peer name peer
ip addr add 198.18.200.10/24 dev eth0
ip link set eth0 up
ip link set peer up
set +e
"$PYTHON" -m hvbridge.lab.network_service --config-dir "$CONFIG_DIR" restart
echo "== exit $?"
set -e
echo "== eth0"; ip -o -4 addr show dev eth0
echo "== br0"; ip -o -4 addr show dev br0
echo "== brctl"; brctl show
echo "== route"; ip route show default
"""


def restart_in_netns(config_dir: Path, hwaddr: str) -> dict[str, str]:
    """Write the seed's files, run `restart` in a new namespace, return its report sections.

    The section "service" holds what the service printed.
    """
    (config_dir / "ifcfg-br0").write_text(IFCFG_BR0)
    (config_dir / "ifcfg-eth0").write_text(IFCFG_ETH0.format(hwaddr=hwaddr))
    env = {
        **os.environ,
        "PATH": f"{os.environ.get('PATH', '')}:{TOOL_PATH}",
        "PYTHONPATH": str(PROJECT),
        "PYTHON": sys.executable,
        "CONFIG_DIR": str(config_dir),
    }
    done = subprocess.run(
        ["unshare", "--net", "--mount", "--", "sh", "-c", SCRIPT.format(mac=ETH0_MAC.lower())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"namespace script failed:\n{done.stdout}\n{done.stderr}"
    return sections(done.stdout)


def sections(output: str) -> dict[str, str]:
    result = {"service": ""}
    current = "service"
    for line in output.splitlines(keepends=True):
        if line.startswith("== exit "):
            result["exit"] = line.removeprefix("== exit ").strip()
        elif line.startswith("== "):
            current = line.removeprefix("== ").strip()
            result[current] = ""
        else:
            result[current] += line
    return result


def bridge_ports(brctl_show: str) -> dict[str, list[str]]:
    """Ports per bridge from `brctl show`, whose continuation lines start with blanks."""
    ports: dict[str, list[str]] = {}
    bridge = ""
    for line in brctl_show.splitlines()[1:]:
        fields = line.split()
        if line[:1].isspace():
            ports[bridge] += fields
        elif fields:
            bridge = fields[0]
            ports[bridge] = fields[3:]
    return ports


def require_lab_machine() -> None:
    assert os.geteuid() == 0, "this test needs root (network namespaces, bridges)"
    for tool in ("unshare", "ip", "brctl"):
        assert shutil.which(tool, path=TOOL_PATH), f"{tool} is missing (iproute2, bridge-utils)"


def test_restart_moves_the_address_from_eth0_to_br0(tmp_path: Path) -> None:
    require_lab_machine()
    report = restart_in_netns(tmp_path, hwaddr=ETH0_MAC)
    assert report["exit"] == "0", report["service"]
    assert report["service"].splitlines() == [
        "Shutting down interface eth0:  [  OK  ]",
        "Bringing up loopback interface:  [  OK  ]",
        "Bringing up interface br0:  [  OK  ]",
        "Bringing up interface eth0:  [  OK  ]",
    ]
    assert "inet " not in report["eth0"]
    assert "inet 198.18.200.10/24 brd 198.18.200.255" in report["br0"]
    assert bridge_ports(report["brctl"]) == {"br0": ["eth0"]}
    assert report["route"].split() == ["default", "via", "198.18.200.1", "dev", "br0"]


def test_wrong_hwaddr_leaves_eth0_untouched(tmp_path: Path) -> None:
    require_lab_machine()
    report = restart_in_netns(tmp_path, hwaddr="02:00:C6:12:C8:FF")
    assert report["exit"] == "1"
    assert report["service"].splitlines() == [
        "Device eth0 has MAC address 02:00:C6:12:C8:0A, instead of configured address "
        "02:00:C6:12:C8:FF. Ignoring.",
        "Shutting down interface eth0:  [FAILED]",
        "Bringing up loopback interface:  [  OK  ]",
        "Bringing up interface br0:  [  OK  ]",
        "Device eth0 has different MAC address than expected, ignoring.",
        "Bringing up interface eth0:  [FAILED]",
    ]
    assert "inet 198.18.200.10/24" in report["eth0"]
    assert bridge_ports(report["brctl"]) == {"br0": []}
