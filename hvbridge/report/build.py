"""A run's outcome as report documents: pure, no I/O.

Free text (messages, diffs, the rollback reason) goes through `redact` here, once,
so every format written from these documents is masked alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from hvbridge.report.chain import chain_line, guests_on
from hvbridge.report.model import (
    HOST_SCHEMA,
    HOST_STATUSES,
    SUMMARY_SCHEMA,
    BondFacts,
    BridgeFacts,
    Change,
    Counts,
    DeviceFacts,
    DnsFacts,
    DomainFacts,
    Facts,
    FleetBridge,
    HostLine,
    HostReport,
    HostStatus,
    InterfaceFacts,
    LibvirtFacts,
    NetworkFacts,
    PortFacts,
    Rollback,
    RouteFacts,
    Run,
    Step,
    StepStatus,
    SummaryReport,
    VlanFacts,
)
from hvbridge.report.redact import redact
from hvbridge.runner import HostOutcome, RunOutcome, StepOutcome
from hvbridge.status import Status


def run_info(outcome: RunOutcome, *, inventory: str | None, started: datetime) -> Run:
    return Run(
        id=outcome.run_id,
        runbook=outcome.runbook,
        inventory=inventory,
        check=outcome.check,
        # Whole seconds: the run's start is known to about that, not to microseconds.
        started=started.replace(microsecond=0),
        seconds=round(outcome.seconds, 3),
    )


def host_report(
    host: HostOutcome,
    run: Run,
    planned: Sequence[str] = (),
    *,
    stopped: str | None = None,
    interrupted: str | None = None,
    platform: str | None = None,
) -> HostReport:
    """`planned`: the runbook's step names, so that the steps a failed host never
    reached show as skipped; without it only the steps that ran are listed.
    `stopped`, `interrupted`: why the run stopped (the budget's reason, the signal),
    for the summary line of a host that did not run to its end."""
    steps = [_step(step) for step in host.steps]
    steps += [
        Step(name=name, status="skipped", seconds=None, message="", diff="")
        for name in _not_reached(host.steps, planned)
    ]
    facts = None if host.facts is None else _facts(host.facts)
    rollback = None if host.rolled_back is None else Rollback(reason=redact(host.rolled_back))
    reverted = {step.name for step in host.steps if step.reverted}
    status = _host_status(host.status)
    if host.status is Status.NOT_RUN:
        summary = _not_run_line(stopped, interrupted)
    elif host.status is Status.INTERRUPTED:
        last = host.steps[-1].name if host.steps else None
        after = f"after step {last!r}" if last else "before its first step"
        summary = f"interrupted by {interrupted or 'a signal'} {after}; later steps not run"
    else:
        summary = _one_line(steps, rollback, facts)
    return HostReport(
        schema=HOST_SCHEMA,
        host=host.name,
        platform=platform,
        status=status,
        summary=summary,
        run=run,
        seconds=round(sum(step.seconds for step in host.steps), 3),
        steps=steps,
        changes=[
            Change(step=step.name, diff=step.diff, reverted=step.name in reverted)
            for step in steps
            if step.diff
        ],
        rollback=rollback,
        notes=[redact(note) for note in host.notes],
        facts=facts,
    )


def summary_report(
    outcome: RunOutcome, run: Run, hosts: Mapping[str, HostReport], files: Mapping[str, str]
) -> SummaryReport:
    """`files`: each host's file name without suffix, relative to the summary's directory."""
    counts = {status.key: 0 for status in Status}
    for report in hosts.values():
        counts[Status(report.status).key] += 1
    return SummaryReport(
        schema=SUMMARY_SCHEMA,
        run=run,
        exit_code=outcome.exit_code,
        bits=outcome.bits,
        stopped=outcome.stopped,
        interrupted=_signal(outcome.interrupted),
        counts=Counts.model_validate(counts),
        hosts={
            name: HostLine(
                platform=report.platform,
                status=report.status,
                seconds=report.seconds,
                summary=report.summary,
                json=f"{files[name]}.json",
                markdown=f"{files[name]}.md",
            )
            for name, report in hosts.items()
        },
        bridges=fleet_bridges(hosts),
    )


def _host_status(status: str) -> HostStatus:
    for known in HOST_STATUSES:
        if known == status:
            return known
    raise ValueError(f"unknown host status {status!r}")


def _signal(name: str | None) -> Literal["SIGINT", "SIGTERM"] | None:
    if name is None:
        return None
    if name == "SIGINT":
        return "SIGINT"
    if name == "SIGTERM":
        return "SIGTERM"
    raise ValueError(f"a run is stopped by SIGINT or SIGTERM, not {name!r}")


def _not_run_line(stopped: str | None, interrupted: str | None) -> str:
    if interrupted:
        return f"not run: {interrupted} stopped the run before this host started"
    if stopped:
        return f"not run: the failure budget stopped the rollout ({stopped})"
    return "not run"


def _step(step: StepOutcome) -> Step:
    status: StepStatus = "failed" if step.failed else "changed" if step.changed else "ok"
    return Step(
        name=step.name,
        status=status,
        seconds=round(step.seconds, 3),
        message=redact(step.message),
        diff=redact(step.diff),
    )


def _not_reached(ran: Sequence[StepOutcome], planned: Sequence[str]) -> list[str]:
    """A host runs the runbook's steps in order and stops at its first failure, so the
    steps it ran are a prefix of `planned`; a host that failed before its first step
    has only the runner's own step, which is not in the runbook."""
    names = [step.name for step in ran]
    if names == list(planned[: len(names)]):
        return list(planned[len(names) :])
    if not set(names) & set(planned):
        return list(planned)
    return []


def _facts(found: Mapping[str, Any]) -> Facts:
    """Only the keys schema 4 knows: a fact added later must not break the report; facts
    read without the chain (no bonds, VLANs, IPv6 or resolver) leave theirs empty."""
    route = found.get("default_route")
    route6 = found.get("default_route6")
    libvirt = found.get("libvirt")
    dns = found.get("dns")
    return Facts(
        bridges={
            name: BridgeFacts(
                id=b["id"],
                stp=b["stp"],
                ports=list(b["ports"]),
                mtu=b.get("mtu"),
                forward_delay=b.get("forward_delay"),
                chain=chain_line(name, found),
                guests=guests_on(name, found),
            )
            for name, b in found.get("bridges", {}).items()
        },
        bridges_from=found.get("bridges_from", ""),
        addresses={device: list(ips) for device, ips in found.get("addresses", {}).items()},
        default_route=None if route is None else _route(route),
        devices={
            name: DeviceFacts(kind=d["kind"], mtu=d["mtu"], master=d["master"], state=d["state"])
            for name, d in found.get("devices", {}).items()
        },
        bonds={
            name: BondFacts(
                mode=b["mode"],
                miimon=b["miimon"],
                slaves=dict(b["slaves"]),
                active=list(b["active"]),
            )
            for name, b in found.get("bonds", {}).items()
        },
        vlans={
            name: VlanFacts(id=v["id"], parent=v["parent"])
            for name, v in found.get("vlans", {}).items()
        },
        addresses6={device: list(ips) for device, ips in found.get("addresses6", {}).items()},
        default_route6=None if route6 is None else _route(route6),
        dns=None
        if dns is None
        else DnsFacts(file=dns["file"], servers=list(dns["servers"]), search=list(dns["search"])),
        libvirt=None if libvirt is None else _libvirt(libvirt),
    )


def _route(route: Mapping[str, Any]) -> RouteFacts:
    return RouteFacts(gateway=route["gateway"], device=route["device"], metric=route["metric"])


def fleet_bridges(hosts: Mapping[str, HostReport]) -> list[FleetBridge]:
    """Every bridge of every host that has facts, by host then bridge name."""
    rows = []
    for host in sorted(hosts):
        facts = hosts[host].facts
        if facts is None:
            continue
        for name in sorted(facts.bridges):
            bridge = facts.bridges[name]
            ports = [
                PortFacts(
                    name=port,
                    kind=facts.devices[port].kind if port in facts.devices else "unknown",
                    mtu=facts.devices[port].mtu if port in facts.devices else None,
                )
                for port in bridge.ports
            ]
            rows.append(
                FleetBridge(
                    host=host,
                    bridge=name,
                    ports=ports,
                    mtu=bridge.mtu,
                    stp=bridge.stp,
                    forward_delay=bridge.forward_delay,
                    addresses=facts.addresses.get(name, []) + facts.addresses6.get(name, []),
                    chain=bridge.chain,
                )
            )
    return rows


def _libvirt(found: Mapping[str, Any]) -> LibvirtFacts:
    return LibvirtFacts(
        networks={
            name: NetworkFacts(
                active=n["active"],
                autostart=n["autostart"],
                persistent=n["persistent"],
                bridge=n["bridge"],
            )
            for name, n in found.get("networks", {}).items()
        },
        domains={
            name: DomainFacts(
                state=d["state"],
                interfaces=[
                    InterfaceFacts(
                        type=i["type"], source=i["source"], mac=i["mac"], model=i["model"]
                    )
                    for i in d.get("interfaces", [])
                ],
            )
            for name, d in found.get("domains", {}).items()
        },
    )


def _one_line(steps: Sequence[Step], rollback: Rollback | None, facts: Facts | None) -> str:
    """What went wrong, first; else what changed and where the bridges stand."""
    if rollback is not None:
        return f"rolled back: {_first_line(rollback.reason)}"
    failed = next((step for step in steps if step.status == "failed"), None)
    if failed is not None:
        return f"{failed.name} failed: {_first_line(failed.message)}"
    ran = [step for step in steps if step.status != "skipped"]
    changed = sum(1 for step in ran if step.status == "changed")
    parts = [f"{changed} of {len(ran)} steps changed" if changed else "nothing to change"]
    if facts is not None:
        for name, bridge in facts.bridges.items():
            ports = " ".join(bridge.ports) or "no ports"
            addresses = ", ".join(facts.addresses.get(name, [])) or "no address"
            parts.append(f"{name} [{ports}] {addresses}")
    return "; ".join(parts)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
