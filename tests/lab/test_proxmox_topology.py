"""proxmox hosts with two NICs (`lab up --nics 2`) and the real ifupdown2 (`ifreload -a`),
through the CLI: the same two chains as on debian (test_debian_topology), written with
ifupdown2's attribute names: br0 on eno1 with an IPv6 static address and default route,
br1 on eno2 at MTU 9000 with STP on and its forward delay; resolv.conf as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .platform_lab import platform_lab
from .test_debian_topology import two_bridges


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from platform_lab(tmp_path_factory, "proxmox", hosts=1, nics=2)


def test_two_bridges_on_two_nics_jumbo_frames_ipv6_and_stp_with_ifupdown2(
    lab_dir: Path, tmp_path: Path
) -> None:
    two_bridges(lab_dir, tmp_path, ("eno1", "eno2"))
