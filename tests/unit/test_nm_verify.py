"""NetworkManager's own view in the guarded apply's verification on el8/el9: what
`nmcli device` and the active connections must say after the reload (pure), read in
`guard.look`'s one round trip, and a mismatch failing the confirm; other platforms add no
command."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from hvbridge import apply, gateways, guard, platforms
from hvbridge.platforms.base import own_view
from hvbridge.platforms.keyfiles import profile_uuid
from hvbridge.platforms.networkmanager import MARK, verify_problems
from hvbridge.platforms.nmcli import NmcliError, parse_devices
from tests.unit.guard_fakes import (
    EPOCH,
    GATEWAY,
    TASK,
    Clock,
    Conn,
    Reach,
    host_run,
    looked,
)

EL9 = platforms.get("el9")
BR0_UUID, PORT_UUID = profile_uuid("hv01", "br0"), profile_uuid("hv01", "br0-port-eth0")
GOOD_DEVICES = (
    "br0:bridge:connected:br0\neth0:ethernet:connected:br0-port-eth0\n"
    "lo:loopback:connected (externally):lo\n"
)
GOOD_ACTIVE = (
    f"br0:{BR0_UUID}:br0:activated\nbr0-port-eth0:{PORT_UUID}:eth0:activated\n"
    "lo:0b2f7c3e-0000-4000-8000-000000000001:lo:activated\n"
)


def model() -> SimpleNamespace:
    br0 = SimpleNamespace(ports=["eth0"])
    return SimpleNamespace(name="hv01", platform="el9", bridges={"br0": br0})


def view(devices: str = GOOD_DEVICES, active: str = GOOD_ACTIVE) -> str:
    return f"{devices}{MARK}\n{active}"


def test_nm_s_view_with_our_profiles_active_passes() -> None:
    assert verify_problems(view(), model()) == []


def test_a_port_still_on_its_old_profile_is_named() -> None:
    devices = "br0:bridge:connected:br0\neth0:ethernet:connected:eth0\n"
    assert verify_problems(view(devices), model()) == [
        "NetworkManager says eth0 is connected with profile eth0, not br0-port-eth0 (nmcli device)"
    ]


def test_a_bridge_without_a_profile_or_missing_is_named() -> None:
    devices = "br0:bridge:disconnected:\n"
    assert verify_problems(view(devices), model()) == [
        "NetworkManager says br0 is disconnected with no profile, not br0 (nmcli device)",
        "NetworkManager does not list eth0 (nmcli device)",
    ]


def test_a_profile_of_our_name_that_is_not_ours_is_named() -> None:
    active = GOOD_ACTIVE.replace(BR0_UUID, "11111111-2222-4333-8444-555555555555")
    assert verify_problems(view(active=active), model()) == [
        f"NetworkManager has not activated hvbridge's profile br0 ({BR0_UUID}) on br0:"
        " br0 activated (nmcli connection show --active)"
    ]


def test_a_profile_still_activating_is_named() -> None:
    active = GOOD_ACTIVE.replace(f"{PORT_UUID}:eth0:activated", f"{PORT_UUID}:eth0:activating")
    [problem] = verify_problems(view(active=active), model())
    assert problem.endswith("on eth0: br0-port-eth0 activating (nmcli connection show --active)")


def test_nm_s_view_unreadable_is_a_problem() -> None:
    assert verify_problems("Error: NetworkManager is not running.\n", model()) == [
        "NetworkManager's view could not be read: 'Error: NetworkManager is not running.'"
    ]
    with pytest.raises(NmcliError):
        parse_devices("one:two\n")


def test_only_networkmanager_platforms_have_a_view_of_their_own() -> None:
    assert own_view(EL9) is not None and own_view(platforms.get("el8")) is not None
    for name in ("el6", "el7", "debian", "proxmox", "ubuntu"):
        assert own_view(platforms.get(name)) is None


def test_look_reads_nm_s_view_after_the_kernel_s_in_the_same_round_trip() -> None:
    reply = looked(rc=0)
    text = reply.stdout.replace(
        "@@hvbridge-probes@@\n", f"{guard.VIEW_MARK}\n{view()}@@hvbridge-probes@@\n"
    )
    assert text != reply.stdout
    conn = Conn({"look": [dataclasses.replace(reply, stdout=text)]})
    seen = guard.look(conn.as_connection, guard.Armed(EPOCH + 60, "/run/x"), 30.0, [], EL9)
    assert seen.own_view == view()
    assert seen.state is not None and [b.name for b in seen.state.bridges][-1] == "br1"
    [(_, command)] = conn.sent
    assert "nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device" in command


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(apply, "time", fake)
    monkeypatch.setattr(guard, "time", fake)
    return fake


def test_a_mismatch_in_nm_s_view_fails_the_confirm(clock: Clock) -> None:
    reply = looked(rc=0)
    devices = "br0:bridge:connected:br0\neth0:ethernet:connected:eth0\n"
    text = reply.stdout.replace(
        "@@hvbridge-probes@@\n", f"{guard.VIEW_MARK}\n{view(devices)}@@hvbridge-probes@@\n"
    )
    ctx = host_run(Reach(clock, [Conn({"look": [dataclasses.replace(reply, stdout=text)]})]))
    ctx.model.platform = "el9"
    armed = guard.Armed(EPOCH + 60, "/run/x")
    plan = gateways.planned(ctx.model)
    seen = apply._confirm(TASK, ctx, armed, plan, (GATEWAY, {GATEWAY}), 60.0)
    assert seen.connected
    assert seen.problem == (
        "NetworkManager says eth0 is connected with profile eth0, not br0-port-eth0 (nmcli device)"
    )


def bonded() -> SimpleNamespace:
    """bond0 (eth0, eth1) carrying VLAN bond0.100, the port of br100."""
    return SimpleNamespace(
        name="hv01",
        nics={"eth0": SimpleNamespace(), "eth1": SimpleNamespace()},
        bonds={"bond0": SimpleNamespace(slaves=["eth0", "eth1"])},
        vlans={"bond0.100": SimpleNamespace(parent="bond0", id=100)},
        bridges={"br100": SimpleNamespace(ports=["bond0.100"])},
    )


CHAIN = {  # device -> our profile on it
    "br100": "br100", "bond0.100": "br100-port-bond0.100", "bond0": "parent-bond0",
    "eth0": "bond0-port-eth0", "eth1": "bond0-port-eth1",
}  # fmt: skip
CHAIN_DEVICES = "".join(
    f"{device}:{kind}:connected:{CHAIN[device]}\n"
    for device, kind in (("br100", "bridge"), ("bond0.100", "vlan"), ("bond0", "bond"),
                         ("eth0", "ethernet"), ("eth1", "ethernet"))
)  # fmt: skip
CHAIN_ACTIVE = "".join(
    f"{profile}:{profile_uuid('hv01', profile)}:{device}:activated\n"
    for device, profile in CHAIN.items()
)


def test_the_profiles_on_the_bond_its_slaves_and_the_vlan_are_ours_too() -> None:
    assert verify_problems(view(CHAIN_DEVICES, CHAIN_ACTIVE), bonded()) == []
    # A slave left on its old profile, and the VLAN not made at all.
    devices = CHAIN_DEVICES.replace(":connected:bond0-port-eth1", ":connected:eth1").replace(
        "bond0.100:vlan:connected:br100-port-bond0.100\n", ""
    )
    assert verify_problems(view(devices, CHAIN_ACTIVE), bonded()) == [
        "NetworkManager does not list bond0.100 (nmcli device)",
        "NetworkManager says eth1 is connected with profile eth1, not bond0-port-eth1"
        " (nmcli device)",
    ]
    # The bond's profile of our name, but not ours (another UUID).
    active = CHAIN_ACTIVE.replace(profile_uuid("hv01", "parent-bond0"), "0000")
    [problem] = verify_problems(view(CHAIN_DEVICES, active), bonded())
    assert problem.startswith("NetworkManager has not activated hvbridge's profile parent-bond0")
