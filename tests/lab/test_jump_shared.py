"""A run logs in to the jump host once, whatever the number of hypervisors behind it: every
hypervisor's connection (two per host in a rollout: before and after the restart) rides
one transport to the jump host (hvbridge.jumps). Host keys are still checked, the jump
host's once and each hypervisor's on each of its logins."""

from __future__ import annotations

from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

from .conftest import HostPlatform, LabFactory
from .rollout_support import RUNBOOK, accepted_logins, cli, copy_inventory, edit_yaml

HYPERVISORS = ("hv01", "hv02", "hv03")


@pytest.fixture(scope="module")
def platform() -> HostPlatform:
    """el6 hosts only: sharing the jump login is the controller's work, the same whatever
    the hypervisors run (the platform-parametrized jump modules cover el7)."""
    return HostPlatform("el6")


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=len(HYPERVISORS), direct=False, libvirt=False, profile="modern")


def test_a_rollout_of_three_hosts_logs_in_to_the_jump_host_once(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, _ = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    jump = accepted_logins(the_lab, "jump")
    each = {name: accepted_logins(the_lab, name) for name in HYPERVISORS}
    done = cli(
        "run", str(RUNBOOK), "-i", str(inventory), "--workers", "3",
        "--state-dir", str(tmp_path / "state"), "--reports-dir", str(tmp_path / "reports"),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    for name in HYPERVISORS:
        assert f"== {name}: changed" in done.stdout
    assert accepted_logins(the_lab, "jump") - jump == 1
    # Each hypervisor still gets its own two logins: the second proves the new network.
    assert {name: accepted_logins(the_lab, name) - each[name] for name in HYPERVISORS} == {
        name: 2 for name in HYPERVISORS
    }


def test_an_unknown_jump_host_key_fails_every_host_under_its_own_name(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    """The one attempt at the jump host is refused; each host that waited for it reports
    the refusal as its own, named as the inventory names it, and nobody logs in."""
    the_lab, state = lab
    jump_address = state.hosts["jump"].address
    known = tmp_path / "known_hosts"
    lines = the_lab.paths.known_hosts.read_text().splitlines()
    known.write_text("".join(f"{line}\n" for line in lines if not line.startswith(jump_address)))
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def unknown_jump(groups: dict[str, dict]) -> None:  # type: ignore[type-arg]
        groups["lab"]["connection_options"]["hvbridge"]["extras"]["known_hosts"] = str(known)

    edit_yaml(inventory / "groups.yaml", unknown_jump)
    jump = accepted_logins(the_lab, "jump")
    done = cli(
        "run", str(RUNBOOK), "-i", str(inventory), "--workers", "3",
        "--state-dir", str(tmp_path / "state"), "--reports-dir", str(tmp_path / "reports"),
    )  # fmt: skip
    assert done.returncode != 0, done.stdout
    for name in HYPERVISORS:
        address = state.hosts[name].address
        said = (
            f"{name} (root@{address} via root@{jump_address}:22): jump host"
            f" root@{jump_address}:22: host key unknown (not in {known}); refusing to connect."
        )
        assert said in done.stdout, done.stdout
    assert accepted_logins(the_lab, "jump") == jump
