"""A scripted host for the guard's unit tests: a connection that answers each kind of
command the guard and apply send with scripted replies, connections that come and go
on script, and a clock that moves only when the code sleeps or connects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from nornir.core.task import Task

from hvbridge.guard import LOG_MARK
from hvbridge.hostrun import HostRun
from hvbridge.hoststate import MARK, PROBES
from hvbridge.platforms.iproute import PARTS, STATE_COMMAND
from hvbridge.ssh import CommandResult, Connection, SSHError

DATA = Path(__file__).parent / "data" / "netstate"
# time.time() when the fake clock reads 0.
EPOCH = 1_800_000_000.0
LABEL = "hv01 (root@198.18.129.1)"
GATEWAY = "198.18.128.1"


class Clock:
    """time.monotonic, time.time and time.sleep of the module under test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


Reply = CommandResult | BaseException | Callable[[str], CommandResult]


def ok(stdout: str = "", stderr: str = "", status: int = 0) -> CommandResult:
    return CommandResult("(scripted)", status, stdout, stderr)


def kind(command: str) -> str:
    """Which of the guard's and apply's commands this is."""
    if "for x in reverted firing cancelled armed" in command:
        return "look"
    if "echo armed" in command and "guard.sh" in command:
        return "arm"
    if "/cancelled" in command and command.startswith("if mv "):
        return "cancel"
    if "revert.sh <" in command:
        return "revert_now"
    if command.startswith("test -e ") and command.endswith("/reverted"):
        return "reverted"
    if command.startswith("rc=none;"):
        return "restart_status"
    if command == STATE_COMMAND:
        return "state"
    if command.startswith("for gw in"):
        return "probe"
    raise AssertionError(f"a command the script does not know: {command}")


@dataclass
class Conn:
    """One connection: each kind of command gets its replies in order, the last repeating."""

    replies: dict[str, list[Reply]]
    label: str = LABEL
    sent: list[tuple[str, str]] = field(default_factory=list)

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        what = kind(command)
        self.sent.append((what, command))
        queue = self.replies.get(what)
        if not queue:
            raise AssertionError(f"no reply scripted for {what}: {command}")
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, BaseException):
            raise reply
        return reply(command) if callable(reply) else reply

    @property
    def as_connection(self) -> Connection:
        """This fake where the code under test wants a Connection."""
        return cast(Connection, self)

    def kinds(self) -> list[str]:
        return [what for what, _ in self.sent]


class Reach:
    """What `ctx.connect`/`reconnect`/`disconnect` give: each new connection is the next of
    `outcomes` (the last repeats), an SSHError is a connection that fails; every attempt
    costs `cost` seconds of the clock, as a connect timeout would, and fails while the
    host is `down`."""

    def __init__(
        self,
        clock: Clock,
        outcomes: Sequence[Conn | SSHError],
        cost: float = 2.0,
        down: tuple[float, float, SSHError] | None = None,
    ):
        self.clock = clock
        self.outcomes = list(outcomes)
        self.cost = cost
        # (from, until, error): the host cannot be reached in that time, whatever comes next.
        self.down = down
        self.current: Conn | None = None
        self.attempts = 0
        self.disconnects = 0
        self.timeouts: list[float | None] = []

    def connect(self, task: Any, timeout: float | None = None) -> Conn:
        if self.current is None:
            self.attempts += 1
            self.timeouts.append(timeout)
            self.clock.now += self.cost
            if self.down and self.down[0] <= self.clock.now < self.down[1]:
                raise self.down[2]
            outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
            if isinstance(outcome, SSHError):
                raise outcome
            self.current = outcome
        return self.current

    def reconnect(self, task: Any, timeout: float | None = None) -> Conn:
        self.disconnect(task)
        return self.connect(task, timeout)

    def disconnect(self, task: Any) -> None:
        self.current = None
        self.disconnects += 1


def model(verify_gateway: bool = True) -> SimpleNamespace:
    """hv01 of the captured `bridged` scenario: br0 over eth0, 198.18.129.1/17."""
    br0 = SimpleNamespace(
        bootproto="static", ipaddr="198.18.129.1", prefix=17, netmask=None, gateway=GATEWAY,
        defroute=True, ports=["eth0"], verify_gateway=verify_gateway,
    )  # fmt: skip
    return SimpleNamespace(name="hv01", platform="el6", bridges={"br0": br0})


def host_run(reach: Reach, verify_gateway: bool = True) -> HostRun:
    """A real HostRun whose connections are `reach`'s."""
    ctx = HostRun(run_id="run-1", project=Path("."), model=model(verify_gateway))
    ctx.connect = reach.connect  # type: ignore[method-assign,assignment]
    ctx.reconnect = reach.reconnect  # type: ignore[method-assign,assignment]
    ctx.disconnect = reach.disconnect  # type: ignore[method-assign]
    return ctx


# Only `task.host` is read, for the Result.
TASK = cast(Task, SimpleNamespace(host=None))


def state_text(scenario: str) -> str:
    """What STATE_COMMAND prints on a host in a captured scenario (`bridged`, `unbridged`)."""
    d = DATA / scenario
    parts = [(d / f"{name}.txt").read_text() for name in ("ip-link", "ip-addr", "ip-route")]
    # The parts after IPv4's (IPv6, resolver, bridge settings, bonds, VLANs) print nothing.
    nothing = f"{MARK}\n" * (PARTS - 4)
    return (
        f"brctl\n{(d / 'brctl-show.txt').read_text()}{MARK}\n" + f"{MARK}\n".join(parts) + nothing
    )


def looked(
    guard: str = "armed",
    rc: int | None = 0,
    log: str = "",
    scenario: str = "bridged",
    silent: Sequence[str] = (),
) -> CommandResult:
    """What `guard.look`'s command prints: the guard's state; when armed, the restart's
    status (`none`: not finished), its log (when it failed), the state and the silent
    gateways."""
    if guard != "armed":
        return ok(f"{guard}\n")
    status = "none" if rc is None else str(rc)
    tail = "".join(f"{gw}\n" for gw in silent)
    return ok(
        f"armed\n{status}\n{LOG_MARK}\n{log}{LOG_MARK}\n{state_text(scenario)}{PROBES}\n{tail}"
    )
