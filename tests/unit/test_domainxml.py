"""hvbridge.domainxml: guests' interfaces moved onto a bridge in libvirt domain XML (the seed's
step 5), on domains captured from libvirt 9 and one shaped like the seed's CentOS 6 v1.xml."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hvbridge.domainxml import (
    DomainXmlError,
    InterfaceInfo,
    WantedInterface,
    domain_name,
    edit_interfaces,
    interfaces,
    macs,
)
from hvbridge.validators import interface_name

DATA = Path(__file__).parent / "data" / "domainxml"
SEED_MAC = "52:54:00:da:c3:dc"
LAB_MAC = "52:54:00:48:00:01"

# Each domain with its NAT interface's MAC and a PCI address free in it. The seed's is the
# address the guide writes, which its interface already has.
DOMAINS = {
    "seed-v1.xml": (SEED_MAC, (0, 0, 3, 0)),
    "v1-inactive.xml": (LAB_MAC, (0, 0, 7, 0)),
    "v1-file.xml": (LAB_MAC, (0, 0, 7, 0)),
    "v1-live.xml": (LAB_MAC, (0, 0, 7, 0)),
    "v2-inactive.xml": ("52:54:00:48:00:21", (0, 0, 7, 0)),
}


def read(name: str) -> str:
    return (DATA / name).read_text()


def domain(devices: str, name: str = "g1") -> str:
    """A small domain around `devices` (given indented by four spaces, as libvirt writes)."""
    head = f"<domain type='kvm'>\n  <name>{name}</name>\n  <devices>\n"
    return f"{head}{devices}  </devices>\n</domain>\n"


def canonical(element: ET.Element) -> str:
    return ET.canonicalize(ET.tostring(element, encoding="unicode"), strip_text=True)


def interface_element(xml: str, mac: str) -> ET.Element:
    found = [i for i in ET.fromstring(xml).iter("interface") if mac_of(i) == mac]
    assert len(found) == 1, f"{len(found)} interfaces with MAC {mac}"
    return found[0]


def child(element: ET.Element, tag: str) -> ET.Element:
    found = element.find(tag)
    assert found is not None, f"no <{tag}> in <{element.tag}>"
    return found


def mac_of(interface: ET.Element) -> str:
    return child(interface, "mac").get("address", "").lower()


def device_tags(xml: str) -> list[str]:
    return [device.tag for device in child(ET.fromstring(xml), "devices")]


def without_interface(xml: str, mac: str) -> str:
    root = ET.fromstring(xml)
    devices = child(root, "devices")
    devices.remove(next(i for i in devices.iter("interface") if mac_of(i) == mac))
    return canonical(root)


def changed_lines(diff: str) -> list[str]:
    return [
        line.rstrip("\n")
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("---", "+++"))
    ]


def problems(xml: str, wanted: list[WantedInterface]) -> tuple[str, ...]:
    with pytest.raises(DomainXmlError) as caught:
        edit_interfaces(xml, wanted)
    return caught.value.problems


# ---------------------------------------------------------------------------------------------
# The move, on every captured domain


@pytest.mark.parametrize("name", DOMAINS)
def test_nat_interface_moves_to_the_bridge_keeping_its_mac(name: str) -> None:
    mac, pci = DOMAINS[name]
    before = read(name)
    edit = edit_interfaces(before, [WantedInterface("br0", mac, pci=pci)])
    assert edit.changed
    assert InterfaceInfo("bridge", mac, "br0", "virtio", pci) in interfaces(edit.xml)
    moved = interface_element(edit.xml, mac)
    assert child(moved, "source").attrib == {"bridge": "br0"}
    # Nothing the guest's NIC is made of is lost: <rom>, <target>, <alias>, <boot>, ...
    old = interface_element(before, mac)
    assert [child.tag for child in moved] == [child.tag for child in old]
    for kept in old:
        if kept.tag not in ("source", "model", "address"):
            assert canonical(child(moved, kept.tag)) == canonical(kept)


def test_seed_domain_gets_exactly_the_seeds_interface() -> None:
    edit = edit_interfaces(
        read("seed-v1.xml"), [WantedInterface("br0", SEED_MAC, pci=(0, 0, 3, 0))]
    )
    seed = ET.fromstring(read("seed-interface.xml"))
    assert canonical(interface_element(edit.xml, SEED_MAC)) == canonical(seed)
    assert edit.actions == (f"v1: interface {SEED_MAC}: network default -> bridge br0",)


@pytest.mark.parametrize("name", DOMAINS)
def test_everything_else_in_the_domain_is_unchanged(name: str) -> None:
    mac, pci = DOMAINS[name]
    before = read(name)
    edit = edit_interfaces(before, [WantedInterface("br0", mac, pci=pci)])
    assert without_interface(edit.xml, mac) == without_interface(before, mac)


@pytest.mark.parametrize("name", DOMAINS)
def test_second_edit_changes_nothing(name: str) -> None:
    mac, pci = DOMAINS[name]
    wanted = [WantedInterface("br0", mac, pci=pci), WantedInterface("br1", "52:54:00:aa:bb:cc")]
    first = edit_interfaces(read(name), wanted)
    second = edit_interfaces(first.xml, wanted)
    assert (second.changed, second.diff, second.actions) == (False, "", ())
    assert second.xml == first.xml


def test_libvirts_own_dump_of_an_edit_is_no_change() -> None:
    # capture.sh defined our edit of v1-inactive.xml and dumped it: libvirt's serialisation,
    # with the PCI address it assigned to the added interface.
    wanted = [WantedInterface("br0", LAB_MAC), WantedInterface("br1", "52:54:00:48:00:02")]
    edit = edit_interfaces(read("v1-bridged-inactive.xml"), wanted)
    assert (edit.changed, edit.diff, edit.actions) == (False, "", ())


def test_another_serialisation_of_the_same_domain_is_no_change() -> None:
    xml = domain(
        "    <interface type='bridge'>\n"
        "      <mac address='52:54:00:11:22:33'/>\n"
        "      <source bridge='br0'/>\n"
        "      <model type='virtio'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n"
        "    </interface>\n"
    )
    reordered = (
        "<domain type='kvm'><name>g1</name><devices><interface type='bridge'>"
        "<mac address='52:54:00:11:22:33'/><source bridge='br0'/><model type='virtio'/>"
        "<address function='0' slot='3' bus='0' domain='0' type='pci'/>"
        "</interface></devices></domain>"
    )
    wanted = [WantedInterface("br0", "52:54:00:11:22:33", pci=(0, 0, 3, 0))]
    for text in (xml, reordered):
        edit = edit_interfaces(text, wanted)
        assert (edit.changed, edit.diff, edit.actions) == (False, "", ())


def test_wanted_mac_matches_in_any_case_and_the_domains_mac_is_kept() -> None:
    edit = edit_interfaces(read("seed-v1.xml"), [WantedInterface("br0", SEED_MAC.upper())])
    assert macs(edit.xml) == [SEED_MAC]
    assert '<mac address="52:54:00:da:c3:dc" />' in edit.xml


def test_address_is_kept_unless_one_is_wanted() -> None:
    edit = edit_interfaces(read("v1-inactive.xml"), [WantedInterface("br0", LAB_MAC)])
    assert interfaces(edit.xml)[0].pci == (0, 0, 2, 0)


# ---------------------------------------------------------------------------------------------
# Added interfaces


def test_added_interface_comes_after_the_last_interface() -> None:
    edit = edit_interfaces(read("v2-inactive.xml"), [WantedInterface("br0", "52:54:00:AA:BB:CC")])
    devices = device_tags(edit.xml)
    assert devices[devices.index("interface") : devices.index("interface") + 4] == [
        "interface",
        "interface",
        "interface",
        "input",
    ]
    assert [i.mac for i in interfaces(edit.xml)][-1] == "52:54:00:aa:bb:cc"
    assert edit.actions == ("v2: interface 52:54:00:aa:bb:cc: added on bridge br0",)


def test_added_interface_is_the_seeds_and_indented_like_its_siblings() -> None:
    xml = read("seed-v1.xml").replace(SEED_MAC, "52:54:00:00:00:01")
    edit = edit_interfaces(xml, [WantedInterface("br0", SEED_MAC, pci=(0, 0, 7, 0))])
    added = interface_element(edit.xml, SEED_MAC)
    assert canonical(added) == canonical(
        ET.fromstring(read("seed-interface.xml").replace("0x03", "0x07"))
    )
    assert (
        "    </interface>\n"
        '    <interface type="bridge">\n'
        '      <mac address="52:54:00:da:c3:dc" />\n'
        '      <source bridge="br0" />\n'
        '      <model type="virtio" />\n'
        '      <address type="pci" domain="0x0000" bus="0x00" slot="0x07" function="0x0" />\n'
        "    </interface>\n"
        "    <serial"
    ) in edit.xml
    assert edit.actions == (
        "v1: interface 52:54:00:da:c3:dc: added on bridge br0, PCI address 0000:00:07.0",
    )


def test_added_interface_without_others_ends_the_devices() -> None:
    xml = domain("      <emulator>/usr/bin/qemu-system-x86_64</emulator>\n")
    edit = edit_interfaces(xml, [WantedInterface("br0", "52:54:00:00:00:01")])
    assert device_tags(edit.xml) == ["emulator", "interface"]
    assert edit.xml.endswith("    </interface>\n  </devices>\n</domain>\n")


# ---------------------------------------------------------------------------------------------
# What an interface keeps and drops


def test_connection_specific_children_go_and_the_nic_stays() -> None:
    xml = domain(
        "    <interface type='direct' trustGuestRxFilters='yes'>\n"
        "      <mac address='52:54:00:00:00:01'/>\n"
        "      <source dev='eth1' mode='vepa'/>\n"
        "      <virtualport type='802.1Qbg'>\n"
        "        <parameters managerid='11' typeid='1193047' typeidversion='2'/>\n"
        "      </virtualport>\n"
        "      <target dev='macvtap0'/>\n"
        "      <model type='e1000'/>\n"
        "      <driver name='vhost' queues='2'/>\n"
        "      <filterref filter='clean-traffic'/>\n"
        "      <link state='up'/>\n"
        "      <mtu size='9000'/>\n"
        "      <boot order='2'/>\n"
        "      <rom enabled='no'/>\n"
        "      <alias name='ua-lan'/>\n"
        "    </interface>\n"
    )
    edit = edit_interfaces(xml, [WantedInterface("br0", "52:54:00:00:00:01")])
    moved = interface_element(edit.xml, "52:54:00:00:00:01")
    assert moved.attrib == {"type": "bridge"}
    assert [c.tag for c in moved] == [
        "mac",
        "source",
        "target",
        "model",
        "driver",
        "filterref",
        "link",
        "mtu",
        "boot",
        "rom",
        "alias",
    ]
    assert child(moved, "driver").attrib == {"name": "vhost", "queues": "2"}
    assert edit.actions == (
        "g1: interface 52:54:00:00:00:01: direct eth1 -> bridge br0, model e1000 -> virtio"
        " (dropped @trustGuestRxFilters, <virtualport>)",
    )
    # The last child's closing indentation survives the removals.
    assert '      <alias name="ua-lan" />\n    </interface>\n' in edit.xml


def test_user_and_ethernet_host_side_goes() -> None:
    xml = domain(
        "    <interface type='user'>\n"
        "      <mac address='52:54:00:00:00:01'/>\n"
        "      <ip family='ipv4' address='10.0.2.15' prefix='24'/>\n"
        "      <portForward proto='tcp'><range start='2022' to='22'/></portForward>\n"
        "      <backend type='passt' logFile='/tmp/passt.log'/>\n"
        "      <model type='virtio'/>\n"
        "    </interface>\n"
        "    <interface type='ethernet'>\n"
        "      <mac address='52:54:00:00:00:02'/>\n"
        "      <target dev='tap7' managed='no'/>\n"
        "      <backend tap='/dev/net/tun' vhost='/dev/vhost-net'/>\n"
        "      <route family='ipv4' address='192.0.2.0' prefix='24' gateway='192.0.2.1'/>\n"
        "      <model type='virtio'/>\n"
        "      <script path='/etc/qemu-ifup'/>\n"
        "    </interface>\n"
    )
    wanted = [
        WantedInterface("br0", "52:54:00:00:00:01"),
        WantedInterface("br0", "52:54:00:00:00:02"),
    ]
    edit = edit_interfaces(xml, wanted)
    user, ethernet = (interface_element(edit.xml, w.mac) for w in wanted)
    # A source is added where libvirt writes it: right after <mac>.
    assert [c.tag for c in user] == ["mac", "source", "model"]
    assert [c.tag for c in ethernet] == ["mac", "source", "target", "backend", "model"]
    assert edit.actions == (
        "g1: interface 52:54:00:00:00:01: user -> bridge br0"
        " (dropped <ip>, <portForward>, <backend>)",
        "g1: interface 52:54:00:00:00:02: ethernet -> bridge br0 (dropped <route>, <script>)",
    )
    assert edit_interfaces(edit.xml, wanted).changed is False


def test_interface_on_another_bridge_moves_and_one_on_the_wanted_bridge_is_untouched() -> None:
    xml = read("v2-inactive.xml")
    on_virbr0 = WantedInterface("virbr0", "52:54:00:48:00:22", model="e1000", pci=(0, 0, 4, 0))
    assert edit_interfaces(xml, [on_virbr0]).changed is False
    edit = edit_interfaces(xml, [WantedInterface("br0", "52:54:00:48:00:22")])
    assert edit.actions == (
        "v2: interface 52:54:00:48:00:22: bridge virbr0 -> bridge br0, model e1000 -> virtio",
    )


def test_only_the_model_or_address_changes_on_the_wanted_bridge() -> None:
    xml = read("v2-inactive.xml")
    edit = edit_interfaces(xml, [WantedInterface("virbr0", "52:54:00:48:00:22", pci=(0, 0, 6, 0))])
    assert edit.actions == (
        "v2: interface 52:54:00:48:00:22: model e1000 -> virtio,"
        " PCI address 0000:00:04.0 -> 0000:00:06.0",
    )
    assert changed_lines(edit.diff) == [
        '-      <model type="e1000" />',
        '-      <address bus="0x00" domain="0x0000" function="0x0" slot="0x04" type="pci" />',
        '+      <model type="virtio" />',
        '+      <address bus="0x00" domain="0x0000" function="0x0" slot="0x06" type="pci" />',
    ]


def test_portgroup_is_named_in_the_action() -> None:
    edit = edit_interfaces(read("v2-inactive.xml"), [WantedInterface("br0", "52:54:00:48:00:21")])
    assert edit.actions == (
        "v2: interface 52:54:00:48:00:21: network default portgroup lan -> bridge br0,"
        " model rtl8139 -> virtio",
    )


def test_missing_model_and_address_are_added() -> None:
    xml = domain(
        "    <interface type='network'>\n"
        "      <mac address='52:54:00:00:00:01'/>\n"
        "      <source network='default'/>\n"
        "    </interface>\n"
    )
    edit = edit_interfaces(xml, [WantedInterface("br0", "52:54:00:00:00:01", pci=(0, 0, 3, 0))])
    assert [c.tag for c in interface_element(edit.xml, "52:54:00:00:00:01")] == [
        "mac",
        "source",
        "model",
        "address",
    ]
    assert edit.actions == (
        "g1: interface 52:54:00:00:00:01: network default -> bridge br0,"
        " model (default) -> virtio, PCI address (none) -> 0000:00:03.0",
    )
    assert (
        '      <model type="virtio" />\n'
        '      <address type="pci" domain="0x0000" bus="0x00" slot="0x03" function="0x0" />\n'
        "    </interface>\n"
    ) in edit.xml


# ---------------------------------------------------------------------------------------------
# Comments, namespaces, the diff


def test_comments_are_kept() -> None:
    xml = read("seed-v1.xml").replace(
        "    <interface type='network'>", "    <!-- the NAT NIC -->\n    <interface type='network'>"
    )
    edit = edit_interfaces(xml, [WantedInterface("br0", SEED_MAC)])
    assert edit.xml.startswith(
        "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
    )
    assert "or other application using the libvirt API.\n-->\n<domain" in edit.xml
    assert '    <!-- the NAT NIC -->\n    <interface type="bridge">' in edit.xml
    assert edit_interfaces(edit.xml, [WantedInterface("br0", SEED_MAC)]).xml == edit.xml


def test_libvirts_file_keeps_its_warning() -> None:
    edit = edit_interfaces(read("v1-file.xml"), [WantedInterface("br0", LAB_MAC)])
    assert edit.xml.startswith("<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.")
    assert "virsh edit v1\n" in edit.xml


def test_namespace_prefixes_are_kept() -> None:
    edit = edit_interfaces(read("v2-inactive.xml"), [WantedInterface("br0", "52:54:00:48:00:21")])
    assert '<domain type="kvm" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">' in edit.xml
    assert (
        '    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">\n'
        '      <libosinfo:os id="http://centos.org/centos/6.10" />\n'
    ) in edit.xml
    assert '    <qemu:arg value="-no-user-config" />\n' in edit.xml
    assert "ns0" not in edit.xml


def test_diff_shows_the_interface_and_nothing_else() -> None:
    edit = edit_interfaces(
        read("seed-v1.xml"), [WantedInterface("br0", SEED_MAC, pci=(0, 0, 3, 0))]
    )
    assert edit.diff.startswith("--- v1.xml (before)\n+++ v1.xml (after)\n@@ ")
    assert changed_lines(edit.diff) == [
        '-    <interface type="network">',
        '+    <interface type="bridge">',
        '-      <source network="default" />',
        '+      <source bridge="br0" />',
    ]
    assert edit.diff.endswith("\n")


def test_diff_of_the_live_domain_drops_the_networks_runtime_source() -> None:
    xml = read("v1-live.xml")
    port = child(interface_element(xml, LAB_MAC), "source").get("portid")
    edit = edit_interfaces(xml, [WantedInterface("br0", LAB_MAC)])
    assert changed_lines(edit.diff) == [
        '-    <interface type="network">',
        '+    <interface type="bridge">',
        f'-      <source bridge="virbr0" network="default" portid="{port}" />',
        '+      <source bridge="br0" />',
    ]


# ---------------------------------------------------------------------------------------------
# Checks


def test_not_a_domain() -> None:
    assert problems("<network><name>default</name></network>", []) == (
        "not a libvirt domain: the root element is <network>",
    )
    (problem,) = problems("<domain><name>v1</name>", [])
    assert problem.startswith("domain XML does not parse: no element found: line 1")
    with pytest.raises(DomainXmlError, match="root element is <network>"):
        domain_name("<network><name>default</name></network>")


def test_pci_address_used_by_another_device() -> None:
    assert problems(read("seed-v1.xml"), [WantedInterface("br0", SEED_MAC, pci=(0, 0, 2, 0))]) == (
        "v1: PCI address 0000:00:02.0 wanted for interface 52:54:00:da:c3:dc"
        " is already used by <video>",
    )
    assert problems(read("seed-v1.xml"), [WantedInterface("br0", SEED_MAC, pci=(0, 0, 5, 0))]) == (
        "v1: PCI address 0000:00:05.0 wanted for interface 52:54:00:da:c3:dc"
        " is already used by disk vda",
    )
    assert problems(
        read("v1-inactive.xml"), [WantedInterface("br0", LAB_MAC, pci=(0, 0, 1, 2))]
    ) == (
        "v1: PCI address 0000:00:01.2 wanted for interface 52:54:00:48:00:01"
        " is already used by controller usb index 0",
    )


def test_pci_addresses_compare_as_numbers() -> None:
    xml = domain(
        "    <interface type='network'>\n"
        "      <mac address='52:54:00:00:00:01'/>\n"
        "      <source network='default'/>\n"
        "    </interface>\n"
        "    <sound model='ich6'>\n"
        "      <address type='pci' domain='0' bus='0' slot='10' function='0'/>\n"
        "    </sound>\n"
        "    <memballoon model='virtio'>\n"
        "      <address type='pci' bus='0x00' slot='011'/>\n"
        "    </memballoon>\n"
    )
    assert problems(xml, [WantedInterface("br0", "52:54:00:00:00:01", pci=(0, 0, 10, 0))]) == (
        "g1: PCI address 0000:00:0a.0 wanted for interface 52:54:00:00:00:01"
        " is already used by <sound> (ich6)",
    )
    # Unwritten parts are 0 and a leading 0 is octal, as libvirt reads them (strtoul base 0).
    assert problems(xml, [WantedInterface("br0", "52:54:00:00:00:01", pci=(0, 0, 9, 0))]) == (
        "g1: PCI address 0000:00:09.0 wanted for interface 52:54:00:00:00:01"
        " is already used by <memballoon> (virtio)",
    )


def test_host_pci_address_of_a_hostdev_is_no_clash() -> None:
    xml = domain(
        "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
        "      <source>\n"
        "        <address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n"
        "      </source>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/>\n"
        "    </hostdev>\n"
    )
    edit = edit_interfaces(xml, [WantedInterface("br0", "52:54:00:00:00:01", pci=(0, 0, 3, 0))])
    assert edit.changed
    assert problems(xml, [WantedInterface("br0", "52:54:00:00:00:01", pci=(0, 0, 9, 0))]) == (
        "g1: PCI address 0000:00:09.0 wanted for interface 52:54:00:00:00:01"
        " is already used by <hostdev> (pci)",
    )


def test_an_address_freed_by_a_moving_interface_can_be_taken() -> None:
    # The NAT interface leaves slot 3 for slot 7; a new interface takes slot 3.
    wanted = [
        WantedInterface("br0", SEED_MAC, pci=(0, 0, 7, 0)),
        WantedInterface("br1", "52:54:00:00:00:02", pci=(0, 0, 3, 0)),
    ]
    edit = edit_interfaces(read("seed-v1.xml"), wanted)
    assert [(i.mac, i.pci) for i in interfaces(edit.xml)] == [
        (SEED_MAC, (0, 0, 7, 0)),
        ("52:54:00:00:00:02", (0, 0, 3, 0)),
    ]
    # An interface that keeps its address still holds it.
    kept = [WantedInterface("br0", SEED_MAC), wanted[1]]
    assert problems(read("seed-v1.xml"), kept) == (
        "v1: PCI address 0000:00:03.0 wanted for interface 52:54:00:00:00:02"
        f" is already used by interface {SEED_MAC}",
    )


def test_same_pci_address_wanted_twice() -> None:
    wanted = [
        WantedInterface("br0", SEED_MAC, pci=(0, 0, 7, 0)),
        WantedInterface("br1", "52:54:00:00:00:02", pci=(0, 0, 7, 0)),
    ]
    assert problems(read("seed-v1.xml"), wanted) == (
        f"v1: PCI address 0000:00:07.0 is wanted for both interface {SEED_MAC}"
        " and interface 52:54:00:00:00:02",
    )


def test_duplicate_wanted_mac() -> None:
    wanted = [WantedInterface("br0", SEED_MAC), WantedInterface("br1", SEED_MAC.upper())]
    assert problems(read("seed-v1.xml"), wanted) == (
        f"v1: MAC {SEED_MAC} is wanted for 2 interfaces; a MAC names one interface",
    )


def test_duplicate_mac_in_the_domain() -> None:
    xml = read("v2-inactive.xml").replace("52:54:00:48:00:22", "52:54:00:48:00:21")
    assert problems(xml, [WantedInterface("br0", "52:54:00:48:00:21")]) == (
        "v2: 2 interfaces already have MAC 52:54:00:48:00:21 (libvirt does not refuse that);"
        " which one to move is ambiguous",
    )


def test_interfaces_that_cannot_move() -> None:
    xml = domain(
        "    <interface type='hostdev' managed='yes'>\n"
        "      <mac address='52:54:00:00:00:01'/>\n"
        "      <driver name='vfio'/>\n"
        "      <source><address type='pci' domain='0' bus='2' slot='0' function='1'/></source>\n"
        "    </interface>\n"
        "    <interface type='network'>\n"
        "      <mac address='52:54:00:00:00:02'/>\n"
        "      <source network='ovs-net'/>\n"
        "      <vlan><tag id='42'/></vlan>\n"
        "    </interface>\n"
    )
    wanted = [
        WantedInterface("br0", "52:54:00:00:00:01"),
        WantedInterface("br0", "52:54:00:00:00:02"),
    ]
    assert problems(xml, wanted) == (
        "g1: interface 52:54:00:00:00:01 is of type 'hostdev', which hvbridge does not move"
        " onto a bridge",
        "g1: interface 52:54:00:00:00:02 has a <vlan>, which libvirt cannot apply on a Linux"
        " bridge",
    )


def test_wanted_values_are_checked_before_they_reach_the_xml() -> None:
    wanted = [
        WantedInterface("br 0'", "52:54:00:zz:00:01", model="virtio'/>", pci=(0, 0x100, 32, 8))
    ]
    with pytest.raises(ValueError) as caught:
        interface_name("br 0'")
    interface_name_error = caught.value
    assert problems(domain(""), wanted) == (
        "g1: interface 52:54:00:zz:00:01: '52:54:00:zz:00:01' is not a MAC address"
        " (six hex pairs separated by ':')",
        f"g1: interface 52:54:00:zz:00:01: {interface_name_error}",
        'g1: interface 52:54:00:zz:00:01: "virtio\'/>" is not a NIC model name',
        "g1: interface 52:54:00:zz:00:01: PCI bus 256 is outside 0..0xff",
        "g1: interface 52:54:00:zz:00:01: PCI slot 32 is outside 0..0x1f",
        "g1: interface 52:54:00:zz:00:01: PCI function 8 is outside 0..0x7",
    )


def test_all_problems_are_reported_at_once() -> None:
    xml = read("seed-v1.xml")
    wanted = [
        WantedInterface("br0", SEED_MAC, pci=(0, 0, 2, 0)),
        WantedInterface("br0", SEED_MAC),
        WantedInterface("br0", "52:54:00:00:00:03", pci=(0, 0, 4, 0)),
    ]
    assert len(problems(xml, wanted)) == 3
    with pytest.raises(DomainXmlError) as caught:
        edit_interfaces(xml, wanted)
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert isinstance(caught.value, ValueError)


# ---------------------------------------------------------------------------------------------
# Reading


def test_domain_name_interfaces_and_macs() -> None:
    live = read("v1-live.xml")
    assert domain_name(live) == "v1"
    assert interfaces(live) == [
        InterfaceInfo("network", LAB_MAC, "default", "virtio", (0, 0, 2, 0))
    ]
    assert macs(read("v2-inactive.xml")) == ["52:54:00:48:00:21", "52:54:00:48:00:22"]
    assert interfaces(read("v2-inactive.xml"))[1] == InterfaceInfo(
        "bridge", "52:54:00:48:00:22", "virbr0", "e1000", (0, 0, 4, 0)
    )
    assert interfaces(domain("")) == []
    with pytest.raises(DomainXmlError, match="has no <name>"):
        domain_name("<domain type='kvm'><devices/></domain>")
