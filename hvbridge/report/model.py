"""The report documents as pydantic models: the one definition of both schemas.

The JSON Schema files under `schema/` are generated from these models (see
`hvbridge.report.schema`), so the documents written, the validator and the
shipped schema cannot disagree. Every model forbids unknown keys: a field added
or renamed is a new schema version, not a silent change to a published one.

Version 2: the statuses `not run` and `interrupted`; counts keyed by identifiers
(`rolled_back`, `not_run`); `reverted` on each change; `bits`, `stopped` and
`interrupted` in the summary.
Version 3: each host's `platform`, in its report and in the summary (a fleet mixes them).
Version 4: the chain (NIC -> bond -> VLAN -> bridge -> guests): each bridge's MTU, forward
delay, chain and guests; every device's kind and MTU, the bonds, VLANs, IPv6 addresses
and default route, and DNS in the facts; the fleet's bridges in the summary.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hvbridge.status import Status

HOST_SCHEMA: Final = "hvbridge.report.host/4"
SUMMARY_SCHEMA: Final = "hvbridge.report.summary/4"

# hvbridge.status.Status's words, as `hvbridge run` prints them, so a report and the
# terminal say the same thing (a Literal, so the JSON Schema lists them).
HostStatus = Literal["ok", "changed", "failed", "rolled back", "not run", "interrupted"]
StepStatus = Literal["ok", "changed", "failed", "skipped"]
HOST_STATUSES: tuple[HostStatus, ...] = get_args(HostStatus)
if set(HOST_STATUSES) != {status.value for status in Status}:
    raise ImportError("report.model.HostStatus and hvbridge.status.Status disagree")


PLATFORM = "the host's platform (the inventory's `platform:`); null when not known"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Run(_Document):
    """The run a report belongs to; the same in every document of the run."""

    id: str
    runbook: str
    inventory: str | None
    check: bool = Field(description="check mode: nothing was changed on any host")
    started: AwareDatetime
    seconds: float = Field(ge=0)


class Step(_Document):
    name: str
    status: StepStatus
    seconds: float | None = Field(ge=0, description="null for a step that never ran")
    message: str
    diff: str


class Change(_Document):
    step: str
    diff: str = Field(description="unified diff of what the step changed (or would change)")
    reverted: bool = Field(
        description="the host rolled back and the revert undid this change: the diff is"
        " what was changed, then undone"
    )


class Rollback(_Document):
    reason: str


CHAIN = (
    "the chain under the bridge and the guests on it, one line: NICs -> bond (mode) ->"
    " VLAN (id) -> bridge -> guests, each port's chain joined by ' + '"
)


class BridgeFacts(_Document):
    id: str = Field(description="bridge id as brctl prints it: priority.mac")
    stp: bool
    ports: list[str]
    mtu: int | None = Field(description="null where ip lists no such link")
    forward_delay: float | None = Field(
        description="seconds, from sysfs; null where it was not read"
    )
    chain: str = Field(description=CHAIN)
    guests: list[str] = Field(description="the libvirt domains with an interface on the bridge")


class DeviceFacts(_Document):
    kind: str = Field(description="bridge, bond, vlan, nic, or ip's kind (veth, tun, ...)")
    mtu: int
    master: str | None
    state: str = Field(description="the kernel's operstate: UP, DOWN, LOWERLAYERDOWN, ...")


class BondFacts(_Document):
    mode: str = Field(description="active-backup, 802.3ad, ... (the inventory's words)")
    miimon: int
    slaves: dict[str, str] = Field(description="each slave's MII status: up or down")
    active: list[str] = Field(
        description="the slaves carrying traffic: the active one (active-backup), those up"
        " in the active aggregator (802.3ad), every slave up (the other modes)"
    )


class VlanFacts(_Document):
    id: int
    parent: str


class DnsFacts(_Document):
    file: str = Field(
        description="the resolver's file read (systemd-resolved's own when"
        " /etc/resolv.conf names only its stub)"
    )
    servers: list[str]
    search: list[str]


class RouteFacts(_Document):
    gateway: str | None
    device: str | None
    metric: int


class NetworkFacts(_Document):
    active: bool
    autostart: bool
    persistent: bool
    bridge: str | None


class InterfaceFacts(_Document):
    type: str
    source: str | None = Field(description="the network, bridge or device it is attached to")
    mac: str | None
    model: str | None


class DomainFacts(_Document):
    state: str
    interfaces: list[InterfaceFacts]


class LibvirtFacts(_Document):
    networks: dict[str, NetworkFacts]
    domains: dict[str, DomainFacts]


class Facts(_Document):
    """The host's state as `facts.collect` read it: parsed `brctl show` and `ip`, libvirt."""

    bridges: dict[str, BridgeFacts]
    bridges_from: str = Field(description="the command the bridges were read from")
    addresses: dict[str, list[str]] = Field(description="IPv4 addresses per device, as a/len")
    default_route: RouteFacts | None
    devices: dict[str, DeviceFacts] = Field(description="every link but lo")
    bonds: dict[str, BondFacts]
    vlans: dict[str, VlanFacts]
    addresses6: dict[str, list[str]] = Field(
        description="global IPv6 addresses per device, as a/len"
    )
    default_route6: RouteFacts | None
    dns: DnsFacts | None = Field(description="null where the resolver's file was not read")
    libvirt: LibvirtFacts | None = Field(description="null where no libvirtd answered")


class HostReport(_Document):
    schema_id: Literal["hvbridge.report.host/4"] = Field(alias="schema")
    host: str
    platform: str | None = Field(description=PLATFORM)
    status: HostStatus
    summary: str = Field(description="one line for the fleet summary")
    run: Run
    seconds: float = Field(ge=0, description="the host's steps, added up")
    steps: list[Step]
    changes: list[Change]
    rollback: Rollback | None
    notes: list[str] = Field(
        description="what the run found on the host and did besides its steps: a dead"
        " run's lock taken over or broken, another run's guard fired or waited for"
    )
    facts: Facts | None = Field(description="null when the host failed before facts")


class Counts(_Document):
    """Hosts per status, keyed by `Status.key`; each bit of `bits` is set exactly when
    its status counts more than 0 (changed 2, failed 4, rolled_back 8)."""

    ok: int = Field(ge=0)
    changed: int = Field(ge=0)
    failed: int = Field(ge=0)
    rolled_back: int = Field(ge=0)
    not_run: int = Field(ge=0)
    interrupted: int = Field(ge=0)


class HostLine(_Document):
    """A host as the fleet summary lists it; the paths are relative to summary.json."""

    platform: str | None = Field(description=PLATFORM)
    status: HostStatus
    seconds: float = Field(ge=0)
    summary: str
    json_path: str = Field(alias="json")
    markdown_path: str = Field(alias="markdown")


class PortFacts(_Document):
    name: str
    kind: str = Field(description="as DeviceFacts.kind; `unknown` where not read")
    mtu: int | None


class FleetBridge(_Document):
    """One bridge of one host, as the fleet's table of bridges lists it."""

    host: str
    bridge: str
    ports: list[PortFacts]
    mtu: int | None
    stp: bool
    forward_delay: float | None
    addresses: list[str] = Field(description="IPv4, then global IPv6, as a/len")
    chain: str = Field(description=CHAIN)


class SummaryReport(_Document):
    schema_id: Literal["hvbridge.report.summary/4"] = Field(alias="schema")
    run: Run
    exit_code: int = Field(
        ge=0, description="what `hvbridge run` exits with: `bits`, or 130/143 after a signal"
    )
    bits: int = Field(
        ge=0, description="2 changed, 4 failed, 8 rolled back, 16 the failure budget stopped"
    )
    stopped: str | None = Field(description="why the failure budget stopped the rollout")
    interrupted: Literal["SIGINT", "SIGTERM"] | None = Field(
        description="the signal that stopped the run between steps"
    )
    counts: Counts
    hosts: dict[str, HostLine]
    bridges: list[FleetBridge] = Field(
        description="every bridge of every host with facts, by host then bridge"
    )
