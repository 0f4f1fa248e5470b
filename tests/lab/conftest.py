from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hvbridge import platforms
from hvbridge.lab.fleet import NIC_NAMES, LabPlatform
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.lab.units import job_failed
from hvbridge.platforms.base import NetworkAction, Platform, ServiceAction
from hvbridge.platforms.initscripts import Initscripts

LabFactory = Callable[..., tuple[Lab, LabState]]


@dataclass(frozen=True)
class HostPlatform:
    """What a test expects of a lab hypervisor of one platform. The NIC's name is the
    lab's (hvbridge.lab.fleet), the paths and commands are the platform's own
    (hvbridge.platforms): nothing here is written twice."""

    name: LabPlatform

    @property
    def nic(self) -> str:
        """The management NIC: eth0 on el6, ens3 on el7."""
        return NIC_NAMES[self.name]

    @property
    def seam(self) -> Platform:
        return platforms.get(self.name)

    @property
    def scripts(self) -> str:
        """The directory of the network files."""
        return self.seam.config_dir

    @property
    def bridge_nm_controlled(self) -> dict[str, str]:
        """What the bridge's ifcfg file says of NetworkManager: `NM_CONTROLLED=no` where it
        may run beside initscripts (el7), nothing on el6."""
        seam = self.seam
        aware = isinstance(seam, Initscripts) and seam.networkmanager_aware
        return {"NM_CONTROLLED": "no"} if aware else {}

    def ifcfg(self, device: str | None = None) -> str:
        """The path of `device`'s ifcfg file (default: the NIC's)."""
        return f"{self.scripts}/ifcfg-{device or self.nic}"

    def network(self, action: NetworkAction) -> str:
        return self.seam.network_command(action)

    def service(self, name: str, action: ServiceAction) -> str:
        return self.seam.service_command(name, action)

    def restart_failed(self, status: int, said: str) -> str:
        """The step's message when the network restart's script exited `status` after
        printing `said`, and the host was put back. On el7 systemctl exits 1 and says only
        that the job failed; the script's words come from the unit's journal."""
        if self.seam.restart_diagnostics:
            said = f"{job_failed('network.service')} | {said}"
            status = 1
        reason = f"{self.network('restart')} failed (exit {status}): {said}"
        return f"rolled back: {reason}; reverted: addresses and default route are as before"


# The initscripts platforms, whose files and commands these modules' tests expect
# (`ifcfg`, `network`, `restart_failed` above). el8, el9, debian, proxmox and ubuntu have
# lab modules of their own (test_el9_*, test_debian_*, test_proxmox_*, test_ubuntu_*).
GENERIC_PLATFORMS: tuple[LabPlatform, ...] = ("el6", "el7")


@pytest.fixture(scope="module", params=GENERIC_PLATFORMS)
def platform(request: pytest.FixtureRequest) -> HostPlatform:
    """Every lab a module builds through `make_lab` is of this platform's hypervisors, so
    each of its tests runs once on el6 hosts and once on el7 hosts. A module whose tests
    hold only for one platform overrides this fixture, and says why."""
    name: LabPlatform = request.param
    return HostPlatform(name)


@pytest.fixture(scope="module")
def make_lab(
    tmp_path_factory: pytest.TempPathFactory, platform: HostPlatform
) -> Iterator[LabFactory]:
    """Build a lab of `platform`'s hypervisors for one test module; every lab it built is
    taken down after (before the module's labs of the next platform come up)."""
    built: list[Lab] = []

    def build(**options: object) -> tuple[Lab, LabState]:
        lab = Lab(tmp_path_factory.mktemp(f"lab-{platform.name}"))
        built.append(lab)
        hosts = options["hosts"]
        assert isinstance(hosts, int)
        options.setdefault("platforms", (platform.name,) * hosts)
        state = lab.up(log=lambda _msg: None, **options)  # type: ignore[arg-type]
        return lab, state

    yield build
    for lab in built:
        lab.down(log=lambda _msg: None)


def lab_dir_files(lab: Lab) -> list[Path]:
    return sorted(lab.paths.root.rglob("*")) if lab.paths.root.exists() else []
