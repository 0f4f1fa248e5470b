"""Guests' network interfaces in libvirt domain XML: pure functions, ElementTree only.

`edit_interfaces` does the seed's step 5 to a domain: each wanted interface is the domain's
interface with the same MAC, moved onto a bridge (the guest keeps its MAC, so its DHCP
reservations and its udev rules still hold), or a new one. Everything else in the domain is
left as it was: element and attribute order, metadata with its namespace prefixes, and
comments, including the warning libvirt writes above `<domain>` in /etc/libvirt/qemu/*.xml.

What an interface keeps when it moves, and why, is next to `_CONNECTION_CHILDREN`.
"""

from __future__ import annotations

import copy
import difflib
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hvbridge.errors import ParseError
from hvbridge.validators import interface_name, mac_for_libvirt

__all__ = [
    "DomainEdit",
    "DomainXmlError",
    "InterfaceInfo",
    "Pci",
    "WantedInterface",
    "domain_name",
    "edit_interfaces",
    "interfaces",
    "macs",
]

Pci = tuple[int, int, int, int]
"""A guest PCI address: domain, bus, slot, function."""

_PCI_LIMITS = (("domain", 0xFFFF), ("bus", 0xFF), ("slot", 0x1F), ("function", 0x7))
# The characters libvirt allows in `<model type>` (NET_MODEL_CHARS in its domain_conf.c).
_MODEL = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
_XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

# Interface types whose guest side (model, driver, ROM, boot order, ...) means the same on a
# bridge. The others carry meaning that does not move: hostdev's <driver name='vfio'> and its
# <source> are a host PCI device, vhostuser's and the socket types' <source> is a socket.
_MOVABLE_TYPES = frozenset({"network", "bridge", "direct", "ethernet", "user"})
# Children that describe the host side of the old connection and have no meaning on a plain
# Linux bridge, so they go: <virtualport> is the old switch's port profile (Open vSwitch or
# 802.1Qbh; a Linux bridge has none, and libvirt refuses one it cannot apply); <ip>, <route>
# and <portForward> are the host side of user and ethernet connections; <script> and
# <downscript> run only for type ethernet. <source> is replaced.
# Everything else describes the guest's NIC and stays: <mac>, <model>, <driver>, <rom>,
# <boot>, <alias>, <target> (libvirt drops generated vnetN names itself when it defines),
# <address>, <link>, <mtu>, <bandwidth>, <filterref>, <tune>, <coalesce>, <guest>, <acpi>.
_CONNECTION_CHILDREN = ("virtualport", "ip", "route", "portForward", "script", "downscript")
# Meaningful only for macvtap (type direct) connections.
_CONNECTION_ATTRIBUTES = ("trustGuestRxFilters",)
# The attribute of <source> that names what an interface of each type is plugged into.
_SOURCE_NAME = {"network": "network", "bridge": "bridge", "direct": "dev"}


class DomainXmlError(ParseError, ValueError):
    """The domain XML cannot be edited as wanted; `problems` holds one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class WantedInterface:
    """An interface a domain should have: on `bridge`, with `mac` (its identity)."""

    bridge: str
    mac: str
    model: str = "virtio"
    pci: Pci | None = None


@dataclass(frozen=True)
class InterfaceInfo:
    """One `<interface>` as a report shows it; `source` is the network, bridge or device."""

    type: str
    mac: str | None
    source: str | None
    model: str | None
    pci: Pci | None


@dataclass(frozen=True)
class DomainEdit:
    """The XML to define, whether it differs, the diff that shows how, and what was done."""

    xml: str
    changed: bool
    diff: str
    actions: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Reading and writing documents


@dataclass
class _Document:
    root: ET.Element
    # Comments above the root element: ElementTree keeps comments only inside it.
    prolog: list[str] = field(default_factory=list)


class _Builder:
    """A parser target that keeps what ElementTree would lose: comments above the root, and
    namespace prefixes.

    ElementTree turns `libosinfo:os` into `{http://libosinfo.org/...}os` and writes it back
    as `ns0:os` with a new declaration; here tags and attributes keep the prefix they were
    written with and declarations stay attributes of their element, so they are written back
    byte for byte."""

    def __init__(self) -> None:
        self._tree = ET.TreeBuilder(insert_comments=True)
        self._scopes: list[dict[str, str]] = [{_XML_NAMESPACE: "xml"}]
        self._declared: list[tuple[str, str]] = []
        self._started = False
        self.prolog: list[str] = []

    def start_ns(self, prefix: str, uri: str) -> None:
        self._declared.append((prefix, uri))

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self._started = True
        scope = dict(self._scopes[-1])
        declarations = {}
        for prefix, uri in self._declared:
            scope[uri] = prefix
            declarations[f"xmlns:{prefix}" if prefix else "xmlns"] = uri
        self._declared = []
        self._scopes.append(scope)
        named = {_prefixed(key, scope): value for key, value in attrs.items()}
        # libvirt writes declarations after the element's own attributes.
        return self._tree.start(_prefixed(tag, scope), named | declarations)

    def end(self, tag: str) -> ET.Element:
        scope = self._scopes.pop()
        return self._tree.end(_prefixed(tag, scope))

    def data(self, data: str) -> None:
        self._tree.data(data)

    def comment(self, text: str) -> None:
        if self._started:
            self._tree.comment(text)
        else:
            self.prolog.append(text)

    def close(self) -> ET.Element:
        return self._tree.close()


def _prefixed(name: str, scope: dict[str, str]) -> str:
    if not name.startswith("{"):
        return name
    uri, local = name[1:].split("}", 1)
    prefix = scope.get(uri, "")
    return f"{prefix}:{local}" if prefix else local


def _parse(xml: str) -> _Document:
    builder = _Builder()
    # The XML is what virsh dumpxml or /etc/libvirt/qemu/ gave us on a host we manage; expat
    # (2.4.1 and later) bounds entity expansion, and nothing is fetched from outside.
    parser = ET.XMLParser(target=builder)  # noqa: S314
    try:
        parser.feed(xml)
        root = parser.close()
    except ET.ParseError as exc:
        raise DomainXmlError([f"domain XML does not parse: {exc}"]) from exc
    if root.tag != "domain":
        raise DomainXmlError([f"not a libvirt domain: the root element is <{root.tag}>"])
    return _Document(root, builder.prolog)


def _serialise(document: _Document) -> str:
    comments = "".join(
        ET.tostring(ET.Comment(text), encoding="unicode") + "\n" for text in document.prolog
    )
    return comments + ET.tostring(document.root, encoding="unicode") + "\n"


def _normalised(document: _Document) -> str:
    """The document in one fixed layout (sorted attributes, two-space indentation), so that
    two serialisations of the same domain compare and diff equal."""
    root = copy.deepcopy(document.root)
    for element in root.iter():
        element.attrib = dict(sorted(element.attrib.items()))
        for name in ("text", "tail"):
            if (getattr(element, name) or "").isspace():
                setattr(element, name, None)
    ET.indent(root, space="  ")
    return _serialise(_Document(root, document.prolog))


# ---------------------------------------------------------------------------------------------
# Reading values


def _devices(root: ET.Element) -> list[ET.Element]:
    return root.findall("devices/*")


def _name(root: ET.Element) -> str | None:
    name = root.findtext("name")
    return name.strip() if name and name.strip() else None


def _mac(interface: ET.Element) -> str | None:
    address = interface.find("mac")
    text = address.get("address") if address is not None else None
    return text.lower() if text else None


def _source(interface: ET.Element) -> str | None:
    source = interface.find("source")
    attribute = _SOURCE_NAME.get(interface.get("type", ""))
    if source is None or attribute is None:
        return None
    return source.get(attribute)


def _model(interface: ET.Element) -> str | None:
    model = interface.find("model")
    return model.get("type") if model is not None else None


def _c_number(text: str) -> int:
    """A number as libvirt reads PCI address parts (strtoul, base 0): `0x03`, `3`, `03`."""
    text = text.strip()
    if text[:2].lower() == "0x":
        return int(text[2:], 16)
    if len(text) > 1 and text.startswith("0"):
        return int(text[1:], 8)
    return int(text, 10)


def _pci(device: ET.Element) -> Pci | None:
    """The device's own guest PCI address (its direct `<address>` child; an `<address>` under
    `<source>` is a host device, as in `<hostdev>`)."""
    address = device.find("address")
    if address is None or address.get("type") != "pci":
        return None
    try:
        parts = [_c_number(address.get(part, "0")) for part, _ in _PCI_LIMITS]
    except ValueError:
        return None
    return (parts[0], parts[1], parts[2], parts[3])


def _pci_text(pci: Pci) -> str:
    domain, bus, slot, function = pci
    return f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"


def _interfaces(root: ET.Element) -> list[ET.Element]:
    return root.findall("devices/interface")


def _info(interface: ET.Element) -> InterfaceInfo:
    return InterfaceInfo(
        type=interface.get("type", ""),
        mac=_mac(interface),
        source=_source(interface),
        model=_model(interface),
        pci=_pci(interface),
    )


def domain_name(xml: str) -> str:
    """The domain's `<name>`."""
    name = _name(_parse(xml).root)
    if name is None:
        raise DomainXmlError(["the domain has no <name>"])
    return name


def interfaces(xml: str) -> list[InterfaceInfo]:
    """The domain's interfaces in document order (MACs in lower case)."""
    return [_info(element) for element in _interfaces(_parse(xml).root)]


def macs(xml: str) -> list[str]:
    """The MACs of the domain's interfaces, in lower case, in document order."""
    return [info.mac for info in interfaces(xml) if info.mac is not None]


# ---------------------------------------------------------------------------------------------
# Checks: every problem is collected before anything is edited, so one run reports them all.


def _check_wanted(name: str, wanted: Sequence[WantedInterface]) -> list[str]:
    problems = [f"{name}: {problem}" for want in wanted for problem in _invalid(want)]
    counts = Counter(want.mac.lower() for want in wanted)
    problems += [
        f"{name}: MAC {mac} is wanted for {count} interfaces; a MAC names one interface"
        for mac, count in counts.items()
        if count > 1
    ]
    first_user: dict[Pci, str] = {}
    for want in wanted:
        if want.pci is None:
            continue
        other = first_user.setdefault(want.pci, want.mac.lower())
        if other != want.mac.lower():
            problems.append(
                f"{name}: PCI address {_pci_text(want.pci)} is wanted for both interface"
                f" {other} and interface {want.mac.lower()}"
            )
    return problems


def _invalid(want: WantedInterface) -> list[str]:
    """What is wrong with a wanted interface's values: they end up in XML that libvirt runs."""
    problems = []
    for check, value in ((mac_for_libvirt, want.mac), (interface_name, want.bridge)):
        try:
            check(value)
        except ValueError as exc:
            problems.append(f"interface {want.mac}: {exc}")
    if not _MODEL.fullmatch(want.model):
        problems.append(f"interface {want.mac}: {want.model!r} is not a NIC model name")
    for (part, limit), number in zip(_PCI_LIMITS, want.pci or (), strict=False):
        if not 0 <= number <= limit:
            problems.append(f"interface {want.mac}: PCI {part} {number} is outside 0..{limit:#x}")
    return problems


def _check_domain(name: str, root: ET.Element, wanted: Sequence[WantedInterface]) -> list[str]:
    problems: list[str] = []
    by_mac: dict[str, list[ET.Element]] = {}
    for element in _interfaces(root):
        mac = _mac(element)
        if mac is not None:
            by_mac.setdefault(mac, []).append(element)
    for want in wanted:
        found = by_mac.get(want.mac.lower(), [])
        if len(found) > 1:
            problems.append(
                f"{name}: {len(found)} interfaces already have MAC {want.mac.lower()}"
                " (libvirt does not refuse that); which one to move is ambiguous"
            )
        elif found:
            problems += _unmovable(name, found[0], want)
    return problems + _pci_clashes(name, _devices(root), wanted, by_mac)


def _unmovable(name: str, interface: ET.Element, want: WantedInterface) -> list[str]:
    if _same_connection(interface, want):
        return []
    kind = interface.get("type", "")
    where = f"{name}: interface {want.mac.lower()}"
    if kind not in _MOVABLE_TYPES:
        return [f"{where} is of type {kind!r}, which hvbridge does not move onto a bridge"]
    if interface.find("vlan") is not None:
        # libvirt tags guest ports only on Open vSwitch, not on a Linux bridge: moving it
        # would quietly put the guest on the untagged LAN.
        return [f"{where} has a <vlan>, which libvirt cannot apply on a Linux bridge"]
    return []


def _pci_clashes(
    name: str,
    devices: list[ET.Element],
    wanted: Sequence[WantedInterface],
    by_mac: dict[str, list[ET.Element]],
) -> list[str]:
    """Wanted PCI addresses that another device keeps after the edit. An interface that is
    itself wanted elsewhere (or moved to another address) does not hold its old one."""
    moving = {
        id(element)
        for want in wanted
        if want.pci is not None
        for element in by_mac.get(want.mac.lower(), [])
    }
    problems = []
    for want in wanted:
        if want.pci is None:
            continue
        for device in devices:
            if id(device) in moving or _pci(device) != want.pci:
                continue
            problems.append(
                f"{name}: PCI address {_pci_text(want.pci)} wanted for interface"
                f" {want.mac.lower()} is already used by {_describe(device)}"
            )
    return problems


def _describe(device: ET.Element) -> str:
    if device.tag == "interface":
        return f"interface {_mac(device)}"
    if device.tag == "disk":
        target = device.find("target")
        return f"disk {target.get('dev') if target is not None else '(no target)'}"
    if device.tag == "controller":
        return f"controller {device.get('type')} index {device.get('index')}"
    kind = device.get("type") or device.get("model")
    return f"<{device.tag}>" + (f" ({kind})" if kind else "")


# ---------------------------------------------------------------------------------------------
# Edits


def _same_connection(interface: ET.Element, want: WantedInterface) -> bool:
    return interface.get("type") == "bridge" and _source(interface) == want.bridge


def _insert(parent: ET.Element, index: int, new: ET.Element) -> None:
    """Insert `new` with the indentation its siblings have, so the file reads as before."""
    inner = parent.text if len(parent) and parent.text and parent.text.isspace() else None
    if index == 0:
        new.tail = inner
    else:
        previous = parent[index - 1]
        new.tail, previous.tail = previous.tail, inner
    parent.insert(index, new)
    if inner is None or not len(new):
        return
    closing = parent[-1].tail or ""
    step = inner[len(closing) :] if inner.startswith(closing) and inner != closing else "  "
    new.text = inner + step
    for child in new:
        child.tail = inner + step
    new[-1].tail = inner


def _remove(parent: ET.Element, child: ET.Element) -> None:
    """Remove `child`; if it was the last one, the one before it takes its closing indent."""
    index = list(parent).index(child)
    if index and index == len(parent) - 1:
        parent[index - 1].tail = child.tail
    parent.remove(child)


def _after(interface: ET.Element, *tags: str) -> int:
    """The index just after the last child with one of `tags` (0 if none)."""
    return max((i + 1 for i, child in enumerate(interface) if child.tag in tags), default=0)


def _set_pci(address: ET.Element, pci: Pci) -> None:
    address.attrib.clear()
    address.set("type", "pci")
    # The way libvirt writes them, so that a define and dumpxml round trip reads the same.
    for (part, _), number, width in zip(_PCI_LIMITS, pci, (4, 2, 2, 1), strict=True):
        address.set(part, f"0x{number:0{width}x}")


def _reconnect(interface: ET.Element, bridge: str) -> list[str]:
    """Plug the interface into `bridge`; returns what it had to drop."""
    dropped = [f"@{a}" for a in _CONNECTION_ATTRIBUTES if interface.attrib.pop(a, None)]
    interface.set("type", "bridge")
    source = interface.find("source")
    if source is None:
        source = ET.Element("source")
        _insert(interface, _after(interface, "mac"), source)
    tail = source.tail
    source.clear()  # also forgets the tail, which is the indentation of what follows
    source.tail = tail
    source.set("bridge", bridge)
    for child in list(interface):
        if child.tag in _CONNECTION_CHILDREN or (child.tag == "backend" and child.get("type")):
            # <backend type='passt'> belongs to user connections; <backend tap= vhost=> stays.
            dropped.append(f"<{child.tag}>")
            _remove(interface, child)
    return dropped


def _set_model(interface: ET.Element, model: str) -> str | None:
    element = interface.find("model")
    old = element.get("type") if element is not None else None
    if old == model:
        return None
    if element is None:
        element = ET.Element("model")
        _insert(interface, _after(interface, "mac", "source"), element)
    element.set("type", model)
    return f"model {old or '(default)'} -> {model}"


def _set_address(interface: ET.Element, pci: Pci | None) -> str | None:
    old = _pci(interface)
    if pci is None or old == pci:
        return None
    address = interface.find("address")
    before = _pci_text(old) if old else (address.get("type") if address is not None else None)
    if address is None:
        address = ET.Element("address")
        _insert(interface, len(interface), address)
    _set_pci(address, pci)
    return f"PCI address {before or '(none)'} -> {_pci_text(pci)}"


def _connection(interface: ET.Element) -> str:
    """`network default`, `bridge virbr0`, `user`: what the interface is plugged into."""
    words = [interface.get("type", "(no type)"), _source(interface)]
    source = interface.find("source")
    if source is not None and source.get("portgroup"):
        # A portgroup may carry a VLAN or bandwidth of its network's: say that it is left.
        words += ["portgroup", source.get("portgroup")]
    return " ".join(word for word in words if word)


def _move(interface: ET.Element, want: WantedInterface) -> str | None:
    """Bring an existing interface to what is wanted; describe the change, None if none."""
    changes, dropped = [], []
    if not _same_connection(interface, want):
        changes.append(f"{_connection(interface)} -> bridge {want.bridge}")
        dropped = _reconnect(interface, want.bridge)
    changes += filter(None, (_set_model(interface, want.model), _set_address(interface, want.pci)))
    if not changes:
        return None
    note = f" (dropped {', '.join(dropped)})" if dropped else ""
    return f"interface {_mac(interface)}: {', '.join(changes)}{note}"


def _add(root: ET.Element, want: WantedInterface) -> str:
    interface = ET.Element("interface", type="bridge")
    ET.SubElement(interface, "mac", address=want.mac.lower())
    ET.SubElement(interface, "source", bridge=want.bridge)
    ET.SubElement(interface, "model", type=want.model)
    if want.pci is not None:
        _set_pci(ET.SubElement(interface, "address"), want.pci)
    devices = root.find("devices")
    if devices is None:
        devices = ET.Element("devices")
        _insert(root, len(root), devices)
    existing = _interfaces(root)
    index = list(devices).index(existing[-1]) + 1 if existing else len(devices)
    _insert(devices, index, interface)
    where = f", PCI address {_pci_text(want.pci)}" if want.pci is not None else ""
    return f"interface {want.mac.lower()}: added on bridge {want.bridge}{where}"


def edit_interfaces(domain_xml: str, wanted: Sequence[WantedInterface]) -> DomainEdit:
    """Give the domain the wanted interfaces, matched to its own by MAC (any case).

    Raises `DomainXmlError` with every problem found (nothing is edited then). The returned
    XML is the edited document; `changed` and `diff` compare both sides in one normalised
    layout, so a different serialisation of the same domain is no change."""
    document = _parse(domain_xml)
    name = _name(document.root) or "(unnamed domain)"
    before = _normalised(document)
    problems = _check_wanted(name, wanted) + _check_domain(name, document.root, wanted)
    if problems:
        raise DomainXmlError(problems)
    actions = []
    for want in wanted:
        found = [i for i in _interfaces(document.root) if _mac(i) == want.mac.lower()]
        action = _move(found[0], want) if found else _add(document.root, want)
        if action is not None:
            actions.append(f"{name}: {action}")
    after = _normalised(document)
    diff = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{name}.xml (before)",
        tofile=f"{name}.xml (after)",
    )
    return DomainEdit(_serialise(document), before != after, "".join(diff), tuple(actions))
