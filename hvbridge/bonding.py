"""A bond as the kernel describes it in `/proc/net/bonding/<bond>`.

Every bonding driver since EL6's prints this file in the same `Key: value` form: the
bond's settings first, then one block per slave opening with `Slave Interface:`. Keys
that only some versions print (Peer Notification Delay, the 802.3ad churn states, ...)
are passed over; the ones read here are in all of them. Strict like hvbridge.netstate:
a file that does not read as a bond raises ParseError.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hvbridge.netstate import ParseError

# bond_mode_name() in the kernel's bond_options.c / bond_main.c, to the inventory's words.
MODES = {
    "load balancing (round-robin)": "balance-rr",
    "fault-tolerance (active-backup)": "active-backup",
    "load balancing (xor)": "balance-xor",
    "fault-tolerance (broadcast)": "broadcast",
    "IEEE 802.3ad Dynamic link aggregation": "802.3ad",
    "transmit load balancing": "balance-tlb",
    "adaptive load balancing": "balance-alb",
}


def source(bond: str) -> str:
    return f"/proc/net/bonding/{bond}"


@dataclass(frozen=True)
class BondSlave:
    name: str
    mii_up: bool
    # 802.3ad only: the aggregator the slave is in; only the active one carries traffic.
    aggregator: int | None = None
    # Its own MAC ("Permanent HW addr"), lower case: a slave's address is the bond's while
    # enslaved (every slave's, in active-backup), so only this says which NIC it is.
    permanent: str | None = None


@dataclass(frozen=True)
class Bond:
    """`mode` in the inventory's words; `active` is the active-backup (tlb, alb) bond's
    current slave, None when it has none; `active_aggregator` the 802.3ad one's."""

    name: str
    mode: str
    miimon: int
    mii_up: bool
    slaves: tuple[BondSlave, ...]
    active: str | None = None
    active_aggregator: int | None = None

    def working_slaves(self) -> list[str]:
        """The slaves that carry traffic now: the active one (active-backup), those up in
        the active aggregator (802.3ad), every slave whose link is up (the other modes)."""
        up = [slave for slave in self.slaves if slave.mii_up]
        if self.mode == "active-backup":
            return [slave.name for slave in up if slave.name == self.active]
        if self.mode == "802.3ad":
            active = self.active_aggregator
            return [slave.name for slave in up if active is not None and slave.aggregator == active]
        return [slave.name for slave in up]


def _pairs(text: str) -> Iterator[tuple[int, str, str]]:
    """(line number, key, value) of each unindented `Key: value` line; indented lines
    belong to a block of their own (802.3ad's aggregator and LACP PDU details)."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line[:1].isspace():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            # "802.3ad info", "details actor lacp pdu" and such headings.
            continue
        yield number, key.strip(), value.strip()


def parse_proc_bonding(bond: str, text: str) -> Bond:
    where = source(bond)
    header: dict[str, str] = {}
    slaves: list[dict[str, str]] = []
    names: list[str] = []
    aggregator_line: int | None = None
    active_aggregator: int | None = None
    for number, key, value in _pairs(text):
        if key == "Slave Interface":
            if value in names or not value:
                raise ParseError(where, f"slave {value!r} listed twice or unnamed", number)
            names.append(value)
            slaves.append({})
        elif slaves:
            slaves[-1].setdefault(key, value)
        else:
            header.setdefault(key, value)
        if key == "Active Aggregator Info":
            aggregator_line = number
    if aggregator_line is not None:
        active_aggregator = _active_aggregator(where, text, aggregator_line)
    return _bond(where, bond, header, list(zip(names, slaves, strict=True)), active_aggregator)


def _active_aggregator(where: str, text: str, heading: int) -> int | None:
    """The `Aggregator ID:` of the indented block under `Active Aggregator Info:`."""
    for number, line in enumerate(text.splitlines()[heading:], heading + 1):
        if not line[:1].isspace():
            break
        key, _, value = line.partition(":")
        if key.strip() == "Aggregator ID":
            return _number(where, "Aggregator ID", value.strip(), number)
    raise ParseError(where, "Active Aggregator Info without an Aggregator ID", heading)


def _bond(
    where: str,
    bond: str,
    header: dict[str, str],
    slaves: list[tuple[str, dict[str, str]]],
    active_aggregator: int | None,
) -> Bond:
    for key in ("Bonding Mode", "MII Status", "MII Polling Interval (ms)"):
        if key not in header:
            raise ParseError(where, f"no '{key}:' line: not a bonding driver's file")
    mode = _mode(where, header["Bonding Mode"])
    active = header.get("Currently Active Slave")
    read = tuple(
        BondSlave(
            name=name,
            mii_up=_mii(where, f"slave {name}", fields.get("MII Status")),
            aggregator=None
            if "Aggregator ID" not in fields
            else _number(where, "Aggregator ID", fields["Aggregator ID"]),
            permanent=fields["Permanent HW addr"].lower()
            if fields.get("Permanent HW addr")
            else None,
        )
        for name, fields in slaves
    )
    return Bond(
        name=bond,
        mode=mode,
        miimon=_number(where, "MII Polling Interval (ms)", header["MII Polling Interval (ms)"]),
        mii_up=_mii(where, bond, header["MII Status"]),
        slaves=read,
        active=None if active in (None, "None") else active,
        active_aggregator=active_aggregator,
    )


def _mode(where: str, text: str) -> str:
    # A bond that is also an ARP-monitored active-backup prints the same mode name;
    # "fault-tolerance (active-backup) (fail_over_mac active)" adds the fail_over_mac policy.
    for name, mode in MODES.items():
        if text == name or text.startswith(f"{name} "):
            return mode
    raise ParseError(where, f"unknown Bonding Mode {text!r}")


def _mii(where: str, what: str, value: str | None) -> bool:
    if value not in ("up", "down", "going back", "going down"):
        raise ParseError(where, f"{what}: MII Status must be up or down, got {value!r}")
    # "going down" and "going back" are the updelay/downdelay transitions: not up yet.
    return value == "up"


def _number(where: str, key: str, value: str, line: int | None = None) -> int:
    if not value.isdigit():
        raise ParseError(where, f"{key} must be a number, got {value!r}", line)
    return int(value)
