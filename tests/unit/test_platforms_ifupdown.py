"""hvbridge.platforms debian (ifupdown): interfaces(5) read as ifupdown reads it, a port's
stanza taken out byte for byte, the files ifupdown reads followed on the host by a shell,
hvbridge's own file rendered, the preflight's verdicts; pure, no network."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from hvbridge import platforms
from hvbridge.platforms.ifupdown import MARK, OWN_FILE, ifupdown_value
from hvbridge.platforms.interfaces import (
    DUMP_COMMAND,
    INTERFACES,
    InterfacesError,
    Stanza,
    parse_dump,
    parse_stanzas,
    sources,
    with_options,
    without_ifaces,
)
from hvbridge.platforms.interfaces import (
    MARK as DUMP_MARK,
)
from hvbridge.render import RenderError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DEBIAN = platforms.get("debian")
VERSION = "ifup version 0.8.41\n"

# As a Debian installer leaves it, with what a reader must keep: tabs, a comment inside the
# stanza, another NIC's stanza, a continuation line, no newline at the end.
INSTALLED = (
    "# This file describes the network interfaces available on your system\n"
    "\n"
    "source /etc/network/interfaces.d/*\n"
    "\n"
    "auto lo\n"
    "iface lo inet loopback\n"
    "\n"
    "# The primary network interface\n"
    "allow-hotplug eth0\n"
    "iface eth0 inet static\n"
    "\taddress 198.18.129.1/17\n"
    "\t# the jump host\n"
    "\tgateway 198.18.128.1\n"
    "\tdns-nameservers 198.18.0.53 \\\n"
    "\t\t198.18.0.54\n"
    "\tdns-search lab.example\n"
    "iface eth0 inet6 manual\n"
    "\n"
    "  # storage, not ours\n"
    "iface eth1 inet static\n"
    "    address 198.19.0.10/24"
)
WITHOUT_ETH0 = (
    "# This file describes the network interfaces available on your system\n"
    "\n"
    "source /etc/network/interfaces.d/*\n"
    "\n"
    "auto lo\n"
    "iface lo inet loopback\n"
    "\n"
    "# The primary network interface\n"
    "allow-hotplug eth0\n"
    "\t# the jump host\n"
    "\n"
    "  # storage, not ours\n"
    "iface eth1 inet static\n"
    "    address 198.19.0.10/24"
)
RENDERED = (
    "# Written by hvbridge: edit the inventory, not this file.\n"
    "\n"
    "iface eth0 inet manual\n"
    "\n"
    "auto br0\n"
    "iface br0 inet static\n"
    "    address 198.18.129.1/17\n"
    "    gateway 198.18.128.1\n"
    "    bridge_ports eth0\n"
    "    bridge_hw 02:48:56:00:00:01\n"
    "    bridge_stp off\n"
    "    bridge_fd 0\n"
)
WITH_DNS = RENDERED + ("    dns-nameservers 198.18.0.53 198.18.0.54\n    dns-search lab.example\n")


def model(**bridge_changes: object) -> SimpleNamespace:
    fields: dict[str, object] = dict(
        ports=["eth0"], bootproto="static", ipaddr="198.18.129.1", netmask="255.255.128.0",
        prefix=None, gateway="198.18.128.1", defroute=True, stp=False, delay=0, mtu=None,
        ipv6addr=None, ipv6_gateway=None, ipv6_autoconf=None, dns=None,
    )  # fmt: skip
    fields.update(bridge_changes)
    nic = SimpleNamespace(hwaddr="02:48:56:00:00:01", mtu=None, nm_controlled=False, name=None)
    return SimpleNamespace(
        name="hv01", bridges={"br0": SimpleNamespace(**fields)}, nics={"eth0": nic}, guests={}
    )


def rendered(**bridge_changes: object) -> dict[str, str]:
    return DEBIAN.render(TEMPLATES, model(**bridge_changes))


def dump(files: dict[str, str]) -> str:
    """What DUMP_COMMAND prints for `files` (as the shell test below proves)."""
    return "".join(
        f"{DUMP_MARK} file {path}\n{text}\n{DUMP_MARK} end\n" for path, text in files.items()
    )


def preflight_output(files: dict[str, str]) -> str:
    return f"{VERSION}{MARK}\n{dump(files)}"


# --- interfaces(5) ------------------------------------------------------------------------


def test_stanzas_are_read_with_their_options_continuations_and_lines() -> None:
    stanzas = parse_stanzas(INTERFACES, INSTALLED)
    assert [(s.word, s.args) for s in stanzas] == [
        ("source", ("/etc/network/interfaces.d/*",)),
        ("auto", ("lo",)),
        ("iface", ("lo", "inet", "loopback")),
        ("allow-hotplug", ("eth0",)),
        ("iface", ("eth0", "inet", "static")),
        ("iface", ("eth0", "inet6", "manual")),
        ("iface", ("eth1", "inet", "static")),
    ]
    eth0 = stanzas[4]
    assert eth0 == Stanza(
        INTERFACES, "iface", ("eth0", "inet", "static"),
        (("address", "198.18.129.1/17"), ("gateway", "198.18.128.1"),
         ("dns-nameservers", "198.18.0.53 198.18.0.54"), ("dns-search", "lab.example")),
        (9, 10, 12, 13, 14, 15),
    )  # fmt: skip
    with pytest.raises(InterfacesError, match="option 'address' outside an iface stanza"):
        parse_stanzas(INTERFACES, "address 198.18.0.1/24\n")


def test_a_port_s_stanzas_go_and_every_other_byte_stays() -> None:
    assert without_ifaces(INSTALLED, ["eth0"]) == WITHOUT_ETH0
    # Nothing of ours there: the file as it was, to the byte.
    assert without_ifaces(INSTALLED, ["eth9"]) == INSTALLED
    assert without_ifaces("iface eth0 inet dhcp", ["eth0"]) == ""


def test_options_are_added_at_the_end_of_a_stanza() -> None:
    added = with_options(RENDERED, "br0", [("dns-search", "lab.example")], OWN_FILE)
    assert added == RENDERED + "    dns-search lab.example\n"
    assert with_options(RENDERED, "br0", [], OWN_FILE) == RENDERED
    with pytest.raises(InterfacesError, match="no iface br1"):
        with_options(RENDERED, "br1", [("dns-search", "x")], OWN_FILE)


@pytest.mark.parametrize(
    ("line", "read"),
    [
        ("source /etc/network/interfaces.d/*", True),
        ("source interfaces.d/*", True),  # relative to the including file's directory
        ("source /etc/network/interfaces.d/h*", True),
        ("source-directory /etc/network/interfaces.d", True),
        ("source-directory interfaces.d", True),
        ("source /etc/network/interfaces.d/*.cfg", False),
        ("source /etc/network/*", False),
        ("", False),
    ],
)
def test_whether_interfaces_sources_hvbridge_s_file(line: str, read: bool) -> None:
    assert sources({INTERFACES: f"auto lo\n{line}\n"}, OWN_FILE) is read


def test_source_directory_reads_only_names_of_letters_digits_dash_and_underscore() -> None:
    files = {INTERFACES: "source-directory /etc/network/interfaces.d\n"}
    assert not sources(files, "/etc/network/interfaces.d/hvbridge.cfg")
    assert not sources(files, "/etc/network/interfaces.d/.hvbridge.hvbridge-tmp")
    # A glob does not match a leading dot either: a push's temp file is never read.
    assert not sources({INTERFACES: "source /etc/network/interfaces.d/*\n"},
                       "/etc/network/interfaces.d/.hvbridge.hvbridge-tmp")  # fmt: skip


def test_the_host_s_shell_dumps_every_file_ifupdown_reads_byte_for_byte(tmp_path: Path) -> None:
    etc = tmp_path / "network"
    (etc / "interfaces.d").mkdir(parents=True)
    (etc / "more").mkdir()
    (etc / "interfaces").write_text(
        "source interfaces.d/*\nsource-directory more\nsource /nonexistent/*\n"
    )
    (etc / "interfaces.d" / "a").write_text("iface eth1 inet manual")  # no newline at the end
    (etc / "interfaces.d" / ".hidden").write_text("iface eth2 inet manual\n")
    (etc / "more" / "b").write_text(f"source {etc}/interfaces\n")  # a cycle
    (etc / "more" / "c.cfg").write_text("iface eth3 inet manual\n")
    command = DUMP_COMMAND.replace(f"dump {INTERFACES}", f"dump {etc}/interfaces")
    output = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    files = parse_dump(output.stdout)
    assert files == {
        f"{etc}/interfaces": (etc / "interfaces").read_text(),
        f"{etc}/interfaces.d/a": "iface eth1 inet manual",
        f"{etc}/more/b": f"source {etc}/interfaces\n",
    }
    with pytest.raises(InterfacesError, match="is cut short"):
        parse_dump(output.stdout[:-20])


# --- rendering --------------------------------------------------------------------------


def test_the_bridge_is_rendered_with_el6_s_values_and_its_port_manual() -> None:
    assert rendered() == {OWN_FILE: RENDERED}


def test_dhcp_stp_no_default_route_and_mtu_are_rendered() -> None:
    assert "iface br0 inet dhcp\n    bridge_ports eth0\n" in rendered(bootproto="dhcp")[OWN_FILE]
    text = rendered(stp=True, delay=4, mtu=9000, defroute=False)[OWN_FILE]
    assert "gateway" not in text
    assert "    mtu 9000\n" in text
    assert "    bridge_stp on\n    bridge_fd 4\n" in text


def test_values_ifupdown_would_misread_are_refused() -> None:
    assert ifupdown_value("198.18.0.1/24") == "198.18.0.1/24"
    for bad in ("a b", "x#y", "end\\", "two\nlines"):
        with pytest.raises(RenderError, match="cannot be written safely"):
            ifupdown_value(bad)


# --- preflight --------------------------------------------------------------------------


def test_the_port_s_stanza_is_taken_out_and_its_dns_goes_to_the_bridge() -> None:
    found = DEBIAN.preflight("hv01", preflight_output({INTERFACES: INSTALLED}), rendered(), {})
    assert found.problems == ()
    assert found.displaced == ()
    assert dict(found.rewritten) == {INTERFACES: WITHOUT_ETH0, OWN_FILE: WITH_DNS}
    assert found.notes == ("ifup version 0.8.41", f"the stanza of eth0 out of {INTERFACES}")


def test_a_rerun_keeps_the_dns_it_carried_and_rewrites_nothing_else() -> None:
    after = {INTERFACES: WITHOUT_ETH0, OWN_FILE: WITH_DNS}
    found = DEBIAN.preflight("hv01", preflight_output(after), rendered(), {})
    assert found.problems == ()
    # The same content as on the host: the push writes nothing.
    assert dict(found.rewritten) == {OWN_FILE: WITH_DNS}
    plain = {INTERFACES: WITHOUT_ETH0, OWN_FILE: RENDERED}
    assert dict(DEBIAN.preflight("hv01", preflight_output(plain), rendered(), {}).rewritten) == {}


def test_a_stanza_in_a_sourced_file_is_found_there() -> None:
    extra = "/etc/network/interfaces.d/eth0"
    files = {
        INTERFACES: "source /etc/network/interfaces.d/*\n",
        extra: "auto eth0\niface eth0 inet dhcp\n",
    }
    found = DEBIAN.preflight("hv01", preflight_output(files), rendered(), {})
    assert dict(found.rewritten) == {extra: "auto eth0\n"}


# A port with IPv6 besides IPv4, a static address and router advertisements, beside a
# stanza that is not ours.
WITH_INET6 = (
    "source /etc/network/interfaces.d/*\n"
    "# the uplink\n"
    "auto eth0\n"
    "iface eth0 inet static\n"
    "    address 198.18.129.1/17\n"
    "iface eth0 inet6 static\n"
    "\taddress 2001:db8::10/64\n"
    "\tgateway 2001:db8::1\n"
    "\taccept_ra 2\n"
    "\tdns-nameservers 2001:db8::53\n"
    "iface eth0 inet6 auto\n"
    "    autoconf 1\n"
    "iface eth1 inet6 auto\n"
)
INET6_BRIDGE = (
    "    dns-nameservers 2001:db8::53\n"
    # eth0 goes down by its new `inet manual` stanza, which flushes IPv4 only.
    "    pre-up ip -6 addr flush dev eth0 scope global\n"
    "\n"
    "iface br0 inet6 static\n"
    "    address 2001:db8::10/64\n"
    "    gateway 2001:db8::1\n"
    "    accept_ra 2\n"
    "\n"
    "iface br0 inet6 auto\n"
    "    autoconf 1\n"
)


def test_the_port_s_inet6_stanzas_become_the_bridge_s_with_their_method_and_options() -> None:
    found = DEBIAN.preflight("hv01", preflight_output({INTERFACES: WITH_INET6}), rendered(), {})
    assert found.problems == ()
    assert dict(found.rewritten) == {
        INTERFACES: "source /etc/network/interfaces.d/*\n# the uplink\nauto eth0\n"
        "iface eth1 inet6 auto\n",
        OWN_FILE: RENDERED + INET6_BRIDGE,
    }
    # A rerun: the port's stanzas are gone, our file keeps them; nothing to write.
    after = {INTERFACES: found.rewritten[INTERFACES], OWN_FILE: RENDERED + INET6_BRIDGE}
    again = DEBIAN.preflight("hv01", preflight_output(after), rendered(), {})
    assert dict(again.rewritten) == {OWN_FILE: RENDERED + INET6_BRIDGE}


def test_inet6_manual_without_options_says_nothing_and_is_not_carried() -> None:
    # INSTALLED's eth0 has `iface eth0 inet6 manual`: taken out, nothing on the bridge.
    found = DEBIAN.preflight("hv01", preflight_output({INTERFACES: INSTALLED}), rendered(), {})
    assert "inet6" not in found.rewritten[OWN_FILE]
    assert "inet6" not in found.rewritten[INTERFACES]


def test_proxmox_carries_the_port_s_inet6_stanzas_to_the_bridge() -> None:
    files = PROXMOX.render(TEMPLATES, model())
    output = f"ifupdown2:3.2.0-1+pmx9\n{MARK}\n{dump({INTERFACES: WITH_INET6})}"
    found = PROXMOX.preflight("hv01", output, files, {})
    assert found.problems == ()
    assert found.rewritten[OWN_FILE].endswith("    bridge-fd 0\n" + INET6_BRIDGE)


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (
            {INTERFACES: "auto lo\niface lo inet loopback\n"},
            f"hv01: {INTERFACES} does not source {OWN_FILE}, where hvbridge writes its stanzas:"
            " add `source /etc/network/interfaces.d/*` (Debian's default) to it",
        ),
        (
            {INTERFACES: "source-directory /etc/network/interfaces.d\niface br0 inet dhcp\n"},
            f"hv01: {INTERFACES} also configures br0 (iface br0 inet dhcp): remove it, hvbridge"
            " writes its own",
        ),
        ({}, f"hv01: there is no {INTERFACES}: is ifupdown in use?"),
        (
            {INTERFACES: "  address 198.18.0.1/24\n"},
            f"hv01: {INTERFACES}: option 'address' outside an iface stanza",
        ),
    ],
)
def test_what_ifupdown_would_read_wrong_is_refused(files: dict[str, str], problem: str) -> None:
    found = DEBIAN.preflight("hv01", preflight_output(files), rendered(), {})
    assert found.problems == (problem,)
    assert dict(found.rewritten) == {}


def test_a_host_without_ifupdown_is_refused() -> None:
    found = DEBIAN.preflight("hv01", f"sh: 1: ifup: not found\n{MARK}\n", rendered(), {})
    assert found.problems == (
        "hv01: ifupdown does not answer (sh: 1: ifup: not found): is it installed?",
    )


# --- commands, services, inventory ------------------------------------------------------


def test_the_network_goes_down_by_the_files_as_they_are_then_up_hotplug_ones_too() -> None:
    restart = DEBIAN.network_command("restart")
    assert restart.startswith("ifdown -a --exclude=lo; ")
    assert "ifup -a --exclude=lo" in restart and "--allow=hotplug" in restart
    stop, start = DEBIAN.revert_commands()
    assert stop.startswith("ifdown -a --exclude=lo; ") and 'ifdown --force "$i"' in stop
    assert start == DEBIAN.network_command("start")
    assert DEBIAN.checkpoint("/var/lib/hvbridge/runs/x", 30) is None
    assert DEBIAN.service_command("libvirtd", "restart") == "systemctl restart libvirtd"
    assert DEBIAN.preflight_command.startswith(
        "{ ifup -V; } 2>&1 | head -n 1; [ -e /etc/network/if-pre-up.d/ifenslave ] ||"
        " echo @@hvbridge-no-bond-helper@@; echo @@hvbridge-ifup@@;"
    )
    assert DEBIAN.template_dirs == ("debian", "ifupdown")
    assert DEBIAN.ssh_disabled_algorithms == {}


def test_what_is_not_written_on_ifupdown_yet_is_said_in_the_inventory() -> None:
    data = model(bootproto="dhcp", defroute=False)
    data.nics["eth0"].mtu = 9000
    data.nics["eth1"] = SimpleNamespace(hwaddr="02:48:56:00:00:02", mtu=None)
    # A port's own mtu is written on its stanza (hvbridge.platforms.ifupdown_stanzas).
    assert DEBIAN.inventory_problems(data) == [
        (("nics", "eth1"), "'eth1': a NIC outside a bridge is not written on ifupdown"
         " platforms yet"),
        (("bridges", "br0", "defroute"), "ifupdown takes the DHCP server's default route:"
         " defroute: false is not written for dhcp"),
    ]  # fmt: skip


# --- proxmox: ifupdown2 ------------------------------------------------------------------

PROXMOX = platforms.get("proxmox")


def test_proxmox_writes_the_same_file_with_ifupdown2_s_attribute_names() -> None:
    text = PROXMOX.render(TEMPLATES, model())[OWN_FILE]
    assert text == (
        RENDERED.replace("bridge_ports", "bridge-ports")
        .replace("bridge_hw", "hwaddress")
        .replace("bridge_stp", "bridge-stp")
        .replace("bridge_fd", "bridge-fd")
    )
    assert PROXMOX.template_dirs == ("proxmox", "ifupdown")


def test_proxmox_finds_its_bridges_by_either_spelling_and_carries_dns() -> None:
    files = PROXMOX.render(TEMPLATES, model())
    output = f"ifupdown2:3.2.0-1+pmx9\n{MARK}\n{dump({INTERFACES: INSTALLED})}"
    found = PROXMOX.preflight("hv01", output, files, {})
    assert found.problems == ()
    assert found.rewritten[INTERFACES] == WITHOUT_ETH0
    assert found.rewritten[OWN_FILE].endswith(
        "    bridge-fd 0\n    dns-nameservers 198.18.0.53 198.18.0.54\n    dns-search lab.example\n"
    )
    assert found.notes[0] == "ifupdown2:3.2.0-1+pmx9"


def test_proxmox_applies_and_reverts_with_ifreload_and_explains_with_ifquery() -> None:
    restart = PROXMOX.network_command("restart")
    assert restart.startswith("rc=0; ifreload -a || rc=$?; for b in /sys/class/net/*/bridge;")
    assert restart.endswith("; [ $rc = 0 ]")
    assert PROXMOX.revert_commands() == ("true", restart)
    assert PROXMOX.restart_diagnostics == "ifquery -a -c"
    assert PROXMOX.service_command("libvirtd", "restart") == "systemctl restart libvirtd"
    # ifupdown (Debian's) is not ifupdown2: a debian host refused as proxmox, and back.
    found = PROXMOX.preflight("hv01", f"ifup version 0.8.41\n{MARK}\n", rendered(), {})
    assert found.problems == (
        "hv01: ifupdown2 does not answer (ifup version 0.8.41): is it installed?",
    )
    found = DEBIAN.preflight("hv01", f"ifupdown2:3.0.0\n{MARK}\n", rendered(), {})
    assert found.problems == ("hv01: ifupdown does not answer (ifupdown2:3.0.0): is it installed?",)
