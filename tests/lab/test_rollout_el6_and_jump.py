"""The rollout with the el6 SSH profile (el7 hosts, and a jump host in front of them, offer
what EL7's OpenSSH does), and run by an operator logged into the jump host."""

from __future__ import annotations

from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

from .conftest import HostPlatform, LabFactory
from .rollout_support import RUNBOOK, cli, copy_inventory, edit_yaml, rollout
from .test_lab_hypervisors import brctl_ports, ipv4_of


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=3, direct=False, libvirt=False, profile="el6")


def test_el6_profile_rollout_end_to_end(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    edit_yaml(inventory / "hosts.yaml", lambda hosts: [hosts.pop(h) for h in ("hv02", "hv03")])
    outcome = rollout(inventory)
    assert outcome.hosts["hv01"].status == "changed", outcome.hosts["hv01"].steps
    with the_lab.connect("hv01", state) as conn:
        assert brctl_ports(conn.run("brctl show").stdout)["br0"] == [platform.nic]
        assert ipv4_of(conn, "br0") == [f"{state.hosts['hv01'].address}/17"]


def test_operator_on_the_jump_host_runs_the_same_rollout(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def no_jump(groups: dict) -> None:
        del groups["lab"]["connection_options"]["hvbridge"]["extras"]["jump"]

    edit_yaml(inventory / "groups.yaml", no_jump)
    edit_yaml(inventory / "hosts.yaml", lambda hosts: [hosts.pop(h) for h in ("hv01", "hv03")])
    jump_pid = state.hosts["jump"].init_pid
    # The jump host's network namespace, as `ip netns exec` would give a logged-in operator.
    done = cli(
        "run",
        str(RUNBOOK),
        "-i",
        str(inventory),
        prefix=("nsenter", "-t", str(jump_pid), "-n", "--"),
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "== hv02: changed" in done.stdout
    with the_lab.connect("hv02", state) as conn:
        assert brctl_ports(conn.run("brctl show").stdout)["br0"] == [platform.nic]


def test_a_sudo_operator_runs_the_rollout(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def as_ops(hosts: dict) -> None:
        hosts.pop("hv01")
        hosts.pop("hv02")
        hosts["hv03"]["username"] = "ops"

    def with_sudo(groups: dict) -> None:
        groups["lab"]["connection_options"]["hvbridge"]["extras"]["sudo"] = True

    edit_yaml(inventory / "hosts.yaml", as_ops)
    edit_yaml(inventory / "groups.yaml", with_sudo)
    outcome = rollout(inventory)
    assert outcome.hosts["hv03"].status == "changed", outcome.hosts["hv03"].steps
    with the_lab.connect("hv03", state) as conn:
        assert brctl_ports(conn.run("brctl show").stdout)["br0"] == [platform.nic]
        owner = conn.run("stat -c %U /etc/sysconfig/network-scripts/ifcfg-br0").stdout.strip()
        assert owner == "root"
