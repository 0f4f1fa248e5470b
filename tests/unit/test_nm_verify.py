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
