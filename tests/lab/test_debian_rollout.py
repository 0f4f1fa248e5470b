"""debian hosts with the real ifupdown (0.8, bridge-utils' hooks), through the jump host
and the CLI: bridged (br0 holds eth0, the address and the default route, the guest's vnet0
under it), a rerun changes nothing; a host cut off by its new address reverts by itself
while another converges; the stanza of another NIC, and every comment, byte for byte
intact after the rollout and after the revert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hvbridge.lab import ifupdown
from hvbridge.lab.lifecycle import Lab

from .platform_lab import host_report, inventory, on, platform_lab, run
from .rollout_support import PROJECT, edit_yaml, runbook_with_timeout

BRIDGE = PROJECT / "runbooks" / "bridge.yaml"
INTERFACES = "/etc/network/interfaces"
OURS = "/etc/network/interfaces.d/hvbridge"
ACCEPT_RA = "/proc/sys/net/ipv6/conf/%s/accept_ra"


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from platform_lab(tmp_path_factory, "debian")


def test_debian_hosts_are_bridged_through_the_jump_host_and_a_rerun_changes_nothing(
    lab_dir: Path, tmp_path: Path
) -> None:
    address = Lab(lab_dir).require_state().hosts["hv01"].address
    inv = inventory(lab_dir, tmp_path, "hv01")
    before = on(lab_dir, "hv01", f"cat {INTERFACES}").stdout
    assert "iface eth0 inet static" in before and ifupdown.FOREIGN_STANZA in before
    # eth0 takes router advertisements as its inet6 stanza says (not the kernel's default).
    assert "iface eth0 inet6 auto" in before
    assert on(lab_dir, "hv01", f"cat {ACCEPT_RA % 'eth0'}").stdout.strip() == ifupdown.ACCEPT_RA

    # Check mode: the diffs, nothing changed.
    code, output = run(BRIDGE, inv, tmp_path, "--check", "--diff")
    assert code == 2, output
    assert "-iface eth0 inet static" in output and "+iface br0 inet static" in output, output
    assert "-allow-hotplug eth9" not in output, output
    assert on(lab_dir, "hv01", f"cat {INTERFACES}").stdout == before
    assert not on(lab_dir, "hv01", f"test -e {OURS}").ok
    assert not on(lab_dir, "hv01", "ip link show br0").ok

    code, output = run(BRIDGE, inv, tmp_path)

    assert code == 2, output
    assert f"the stanza of eth0 out of {INTERFACES}" in output
    assert "ifup version 0.8" in output
    # Checked apart from hvbridge: bridge-utils and iproute2 on the host.
    brctl = on(lab_dir, "hv01", "brctl show br0").stdout
    assert brctl.splitlines()[1].split()[2:] == ["no", "eth0"], brctl
    assert "master br0" in on(lab_dir, "hv01", "ip -o link show eth0").stdout
    assert f"inet {address}/17" in on(lab_dir, "hv01", "ip -4 -o addr show dev br0").stdout
    assert "inet " not in on(lab_dir, "hv01", "ip -4 -o addr show dev eth0").stdout
    assert "dev br0" in on(lab_dir, "hv01", "ip -4 route show default").stdout
    assert on(lab_dir, "hv01", "cat /sys/class/net/br0/bridge/stp_state").stdout.strip() == "0"
    assert on(lab_dir, "hv01", "cat /sys/class/net/br0/bridge/forward_delay").stdout.strip() == "0"
    # ifupdown's own view: br0 is up by its files, the old stanza is gone, DNS carried.
    assert "br0" in on(lab_dir, "hv01", "ifquery --state").stdout
    after = on(lab_dir, "hv01", f"cat {INTERFACES}").stdout
    assert "iface eth0" not in after and ifupdown.FOREIGN_STANZA in after
    assert after == _without_eth0_stanza(before)
    ours = on(lab_dir, "hv01", f"cat {OURS}").stdout
    assert f"dns-nameservers {ifupdown.NAMESERVER}" in ours, ours
    assert f"dns-search {ifupdown.SEARCH}" in ours, ours
    # IPv6 and router advertisements as they were, now on br0: the kernel's view.
    assert f"iface br0 inet6 auto\n    accept_ra {ifupdown.ACCEPT_RA}\n" in ours, ours
    assert on(lab_dir, "hv01", f"cat {ACCEPT_RA % 'br0'}").stdout.strip() == ifupdown.ACCEPT_RA
    kept = on(lab_dir, "hv01", f"cat /var/lib/hvbridge/runs/*/before{INTERFACES}")
    assert kept.stdout == before
    assert on(lab_dir, "hv01", "virsh start v1").ok
    assert "vnet0" in on(lab_dir, "hv01", "ls /sys/class/net/br0/brif").stdout.split()

    code, output = run(BRIDGE, inv, tmp_path)

    assert code == 0, output
    assert "all files already as rendered" in output
    assert "no network file changed: not restarted" in output
    assert on(lab_dir, "hv01", f"cat {INTERFACES}").stdout == after


def _without_eth0_stanza(text: str) -> str:
    """`text` less the lines of eth0's stanzas (the lab's: the inet one's first line and
    five lines after it, then the inet6 one's two); the comment among them stays."""
    lines = text.splitlines(keepends=True)
    start = lines.index("iface eth0 inet static\n")
    gone = {n for n in range(start, start + 8) if not lines[n].lstrip().startswith("#")}
    assert len(gone) == 7 and lines[start + 6] == "iface eth0 inet6 auto\n"
    return "".join(line for n, line in enumerate(lines) if n not in gone)


def test_a_host_cut_off_by_its_new_address_reverts_by_itself_and_another_converges(
    lab_dir: Path, tmp_path: Path
) -> None:
    state = Lab(lab_dir).require_state()
    inv = inventory(lab_dir, tmp_path, "hv02", "hv03")
    # hv02's bridge takes another address of its subnet: the controller, which connects to
    # the old one, never gets back in.
    edit_yaml(
        inv / "hosts.yaml",
        lambda hosts: hosts["hv02"]["data"]["bridges"]["br0"].update(ipaddr="198.18.129.200"),
    )
    before = on(lab_dir, "hv02", f"cat {INTERFACES}").stdout

    code, output = run(runbook_with_timeout(tmp_path / "net.yaml", 20), inv, tmp_path)

    assert code == 2 | 8, output
    assert "== hv02: rolled back" in output and "== hv03: changed" in output
    reason = host_report(tmp_path, "hv02")["rollback"]["reason"]  # type: ignore[index]
    assert reason.startswith("could not reconnect and verify in time: "), reason
    address = state.hosts["hv02"].address
    assert f"inet {address}/17" in on(lab_dir, "hv02", "ip -4 -o addr show dev eth0").stdout
    assert "dev eth0" in on(lab_dir, "hv02", "ip -4 route show default").stdout
    assert not on(lab_dir, "hv02", "ip link show br0").ok
    assert on(lab_dir, "hv02", f"cat {INTERFACES}").stdout == before
    assert not on(lab_dir, "hv02", f"test -e {OURS}").ok
    assert "eth0" in on(lab_dir, "hv02", "ifquery --state").stdout
    revert_log = on(lab_dir, "hv02", "cat /var/lib/hvbridge/runs/*/revert.log").stdout
    assert f"restored {INTERFACES}" in revert_log and f"removed {OURS}" in revert_log, revert_log
    assert "master br0" in on(lab_dir, "hv03", "ip -o link show eth0").stdout
    assert ifupdown.FOREIGN_STANZA in on(lab_dir, "hv03", f"cat {INTERFACES}").stdout
