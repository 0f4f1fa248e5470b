"""hvbridge.guard against a scripted connection: what `look` reads from its one round
trip, `cancel` winning or losing the rename, and every outcome of `arm_and_restart`."""

from __future__ import annotations

import pytest

from hvbridge import guard, platforms
from hvbridge.hoststate import PROBES
from hvbridge.netstate import NetState
from hvbridge.ssh import SSHError
from tests.unit.guard_fakes import EPOCH, GATEWAY, Clock, Conn, Reply, looked, ok

EL6 = platforms.get("el6")

ODD_DIR = "/var/lib/hvbridge/runs/run 1;x"
ARMED = guard.Armed(EPOCH + 60, ODD_DIR)


def _look(reply: Reply, gateways: list[str] | None = None) -> tuple[guard.Seen, Conn]:
    conn = Conn({"look": [reply]})
    gws = [GATEWAY] if gateways is None else gateways
    seen = guard.look(conn.as_connection, ARMED, 30.0, gws, EL6)
    return seen, conn


@pytest.mark.parametrize("state", ["reverted", "firing", "cancelled", guard.NOT_ARMED])
def test_look_reports_a_guard_that_is_not_armed_and_nothing_else(state: str) -> None:
    seen, _ = _look(looked(state))
    assert seen == guard.Seen(state, None, "", None, [])


def test_look_reads_a_finished_restart_its_state_and_no_silent_gateway() -> None:
    seen, conn = _look(looked(rc=0))
    assert (seen.guard, seen.restart_rc, seen.restart_log, seen.silent_gateways) == (
        "armed", 0, "", [],
    )  # fmt: skip
    assert isinstance(seen.state, NetState)
    assert [b.name for b in seen.state.bridges] == ["br-empty", "br0", "br1"]
    assert [str(r.gateway) for r in seen.state.routes if r.dst == "default"] == [GATEWAY]
    # One round trip, the run directory quoted everywhere, the gateway probed.
    [(_, command)] = conn.sent
    assert "'/var/lib/hvbridge/runs/run 1;x'/restart.rc" in command
    assert "run 1;x/" not in command.replace("'/var/lib/hvbridge/runs/run 1;x'/", "")
    assert f"for gw in {GATEWAY}; do ping" in command


def test_look_reads_the_silent_gateways() -> None:
    seen, _ = _look(looked(rc=0, silent=[GATEWAY, "198.18.128.2"]))
    assert seen.silent_gateways == [GATEWAY, "198.18.128.2"]


def test_look_keeps_a_failed_restarts_status_and_log() -> None:
    log = "Bringing up interface br0:  Error: no such device\n[FAILED]\n"
    seen, _ = _look(looked(rc=1, log=log))
    assert (seen.guard, seen.restart_rc, seen.restart_log) == ("armed", 1, log)
    assert seen.state is not None


def test_look_says_when_the_restart_had_not_finished() -> None:
    seen, _ = _look(looked(rc=None, log="Shutting down interface eth0:\n"))
    assert seen == guard.Seen("armed", None, "Shutting down interface eth0:\n", None, [])


def test_look_without_gateways_probes_none() -> None:
    _, conn = _look(looked(rc=0), gateways=[])
    [(_, command)] = conn.sent
    assert "ping" not in command


def test_look_on_unreadable_state_raises_a_host_error_naming_the_host() -> None:
    broken = ok(f"armed\n0\n{guard.LOG_MARK}\n{guard.LOG_MARK}\nbrctl\n{PROBES}\n")
    with pytest.raises(SSHError, match=r"^hv01 \(root@198\.18\.129\.1\): cannot read the network"):
        _look(broken)


def test_look_passes_on_a_lost_connection() -> None:
    with pytest.raises(SSHError, match="connection lost"):
        _look(SSHError("hv01: connection lost"))


@pytest.mark.parametrize(("said", "won"), [("cancelled\n", True), ("firing\n", False)])
def test_cancel_wins_or_loses_the_rename(said: str, won: bool) -> None:
    conn = Conn({"cancel": [ok(said)]})
    assert guard.cancel(conn.as_connection, ARMED) is won
    [(_, command)] = conn.sent
    quoted = "'/var/lib/hvbridge/runs/run 1;x'"
    assert command.startswith(f"if mv {quoted}/armed {quoted}/cancelled 2>/dev/null; then ")
    # The guard's whole process group, and only when its PID is still the guard's.
    assert f"read -r pid < {quoted}/guard.pid && grep -q guard.sh" in command
    assert "kill -- -$pid" in command


def _arm(reply: Reply, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> guard.Armed:
    monkeypatch.setattr(guard, "time", clock)
    monkeypatch.setattr(guard, "run_dir", lambda run_id: f"/var/lib/hvbridge/runs/{run_id}")
    clock.now = 5.0
    return guard.arm_and_restart(Conn({"arm": [reply]}).as_connection, "run-1", 90, 45.0, EL6)


def test_arm_and_restart_arms_with_the_deadline_from_before_arming(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    armed = _arm(ok("armed\nrestarted\n"), Clock(), monkeypatch)
    assert armed == guard.Armed(EPOCH + 5 + 90, "/var/lib/hvbridge/runs/run-1", lost=None)


def test_arm_and_restart_still_running_when_the_wait_ends_is_armed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    armed = _arm(ok("armed\n"), Clock(), monkeypatch)
    assert armed.lost is None


def test_arm_and_restart_keeps_the_lost_sessions_error(monkeypatch: pytest.MonkeyPatch) -> None:
    armed = _arm(SSHError("hv01: connection closed mid-command"), Clock(), monkeypatch)
    assert armed.deadline == EPOCH + 5 + 90
    assert armed.lost == (
        "the session that armed the guard was lost: hv01: connection closed mid-command"
    )


def test_arm_and_restart_that_cannot_arm_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    reply = ok("", "mkdir: cannot create directory: Read-only file system", status=1)
    with pytest.raises(
        SSHError, match=r"^hv01 .*: cannot arm the revert: mkdir: cannot create directory"
    ):
        _arm(reply, Clock(), monkeypatch)


def test_arm_and_restart_armed_but_not_restarted_says_the_host_reverts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reply = ok("armed\n", "flock: failed to get lock", status=1)
    with pytest.raises(SSHError) as caught:
        _arm(reply, Clock(), monkeypatch)
    assert str(caught.value) == (
        "hv01 (root@198.18.129.1): the revert is armed but the restart could not start"
        " (flock: failed to get lock): the host puts the old files back at the deadline"
    )


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [("0\n", (0, "")), ("1\nDevice br0 does not seem to be present\n",
                         (1, "Device br0 does not seem to be present\n")), ("none\n", (None, ""))],
)  # fmt: skip
def test_restart_status_as_kept_on_the_host(stdout: str, expected: tuple[int | None, str]) -> None:
    assert (
        guard.restart_status(Conn({"restart_status": [ok(stdout)]}).as_connection, ODD_DIR)
        == expected
    )


@pytest.mark.parametrize(("status", "expected"), [(0, True), (1, False)])
def test_reverted_is_the_marker_file(status: int, expected: bool) -> None:
    conn = Conn({"reverted": [ok(status=status)]})
    assert guard.reverted(conn.as_connection, ODD_DIR) is expected
    assert conn.sent[0][1] == "test -e '/var/lib/hvbridge/runs/run 1;x'/reverted"
