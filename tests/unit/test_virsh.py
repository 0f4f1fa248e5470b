"""hvbridge.virsh: a libvirtd that does not answer is reported with the platform's commands."""

from __future__ import annotations

import pytest

from hvbridge import platforms
from hvbridge.ssh import CommandResult
from hvbridge.virsh import VirshError, check_running


class Silent:
    """A host whose virsh gets no answer; records the commands it is sent."""

    label = "hv01"

    def __init__(self) -> None:
        self.commands: list[str] = []

    def run(self, command: str) -> CommandResult:
        self.commands.append(command)
        if command.startswith("virsh"):
            return CommandResult(command, 1, "", "failed to connect to the hypervisor")
        return CommandResult(command, 3, "libvirtd is stopped\n", "")


@pytest.mark.parametrize(
    ("name", "status", "start"),
    [
        ("el6", "service libvirtd status", "service libvirtd start"),
        ("el7", "systemctl status libvirtd", "systemctl start libvirtd"),
    ],
)
def test_a_silent_libvirtd_is_reported_with_the_platforms_commands(
    name: str, status: str, start: str
) -> None:
    conn = Silent()
    with pytest.raises(VirshError) as caught:
        check_running(conn, platforms.get(name))  # type: ignore[arg-type]
    assert conn.commands == ["virsh -q version", status]
    assert str(caught.value) == (
        "hv01: libvirtd does not answer (failed to connect to the hypervisor);"
        f" {status}: libvirtd is stopped. Start it (`{start}`) and run again;"
        " nothing was changed on this host"
    )
