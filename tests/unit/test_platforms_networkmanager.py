"""hvbridge.platforms el8/el9: NetworkManager keyfiles rendered, nmcli's output read, the
profiles that own a port found, the checkpoint commands; pure, no network."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from hvbridge import guard, platforms
from hvbridge.platforms.base import Preflight
from hvbridge.platforms.keyfiles import keyfile_value, profile_uuid
from hvbridge.platforms.networkmanager import MARK
from hvbridge.platforms.nmcli import (
    General,
    NmcliError,
    Profile,
    parse_general,
    parse_keyfile,
    parse_profiles,
    terse_fields,
)
from hvbridge.render import RenderError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EL8, EL9 = platforms.get("el8"), platforms.get("el9")
DIR = "/etc/NetworkManager/system-connections"
BR0, PORT = f"{DIR}/br0.nmconnection", f"{DIR}/br0-port-eth0.nmconnection"
OLD = f"{DIR}/eth0.nmconnection"


def model(**bridge_changes: object) -> SimpleNamespace:
    fields: dict[str, object] = dict(
        ports=["eth0"], bootproto="static", ipaddr="198.18.129.1", netmask="255.255.128.0",
        prefix=None, gateway="198.18.128.1", defroute=True, stp=False, delay=0, mtu=None,
    )  # fmt: skip
    fields.update(bridge_changes)
    nic = SimpleNamespace(hwaddr="02:48:56:00:00:01", mtu=None, nm_controlled=False, name=None)
    return SimpleNamespace(
        name="hv01", bridges={"br0": SimpleNamespace(**fields)}, nics={"eth0": nic}, guests={}
    )


def rendered(**bridge_changes: object) -> dict[str, str]:
    return EL9.render(TEMPLATES, model(**bridge_changes))


# --- nmcli's output ---------------------------------------------------------------------------


def test_terse_fields_unescape_colons_and_backslashes() -> None:
    assert terse_fields(r"my\:profile:a\\b::yes") == ["my:profile", "a\\b", "", "yes"]


def test_profiles_are_read_from_nmcli_connection_show() -> None:
    text = (
        "eth0:51a8366b-0e77-5354-b4ee-2eced0d39fdc:802-3-ethernet:eth0:"
        f"{OLD}:yes\n"
        "Wired connection 1:9c1f:802-3-ethernet:::no\n"
    )
    assert parse_profiles(text) == [
        Profile(
            "eth0", "51a8366b-0e77-5354-b4ee-2eced0d39fdc", "802-3-ethernet", "eth0", OLD, True
        ),
        Profile("Wired connection 1", "9c1f", "802-3-ethernet", "", "", False),
    ]
    with pytest.raises(NmcliError) as caught:
        parse_profiles("Error: NetworkManager is not running.\n")
    assert str(caught.value) == (
        "nmcli connection show: cannot read 'Error: NetworkManager is not running.'"
    )


def test_general_says_whether_networkmanager_runs_and_its_version() -> None:
    assert parse_general("running:1.42.4\n") == General(True, "1.42.4")
    assert parse_general("Error: NetworkManager is not running.\n") is None


# --- keyfiles ---------------------------------------------------------------------------------


def test_a_static_bridge_renders_a_bridge_and_a_port_profile_with_el6_s_values() -> None:
    files = rendered()
    assert sorted(files) == [PORT, BR0]
    bridge, port = files[BR0], files[PORT]
    assert "[bridge]\nstp=false\nforward-delay=0\n" in bridge
    assert "method=manual\naddress1=198.18.129.1/17,198.18.128.1\nnever-default=false\n" in bridge
    assert "type=bridge\ninterface-name=br0\n" in bridge
    # Keys every supported NetworkManager reads (1.42 ignores controller=/port-type=).
    assert "interface-name=eth0\nmaster=br0\nslave-type=bridge\n" in port
    assert "controller=" not in port and "port-type=" not in port
    assert "mac-address=02:48:56:00:00:01\n" in port
    assert f"uuid={profile_uuid('hv01', 'br0')}\n" in bridge
    assert profile_uuid("hv01", "br0") != profile_uuid("hv02", "br0")
    assert rendered() == files, "the same on every run"


def test_dhcp_stp_and_no_default_route() -> None:
    bridge = rendered(bootproto="dhcp", ipaddr=None, netmask=None, gateway=None, stp=True,
                      delay=15, defroute=False)[BR0]  # fmt: skip
    assert "[ipv4]\nmethod=auto\nnever-default=true\n" in bridge
    assert "stp=true\nforward-delay=15\n" in bridge


def test_the_rendered_profiles_are_read_back_by_networkmanager_itself() -> None:
    nmcli = shutil.which("nmcli")
    assert nmcli, "nmcli is missing: scripts/install installs network-manager"
    for path, text in rendered().items():
        # --offline: nmcli reads the keyfile from stdin, checks it as NetworkManager
        # would, and prints it back (normalized).
        done = subprocess.run(
            [nmcli, "--offline", "connection", "modify", "connection.autoconnect", "yes"],
            input=text, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{path}: {done.stderr}"
        back, ours = parse_keyfile(done.stdout, path), parse_keyfile(text, path)
        assert back == ours


def test_keyfile_values_that_would_need_escapes_are_refused() -> None:
    assert keyfile_value("198.18.129.1/17") == "198.18.129.1/17"
    for bad in ("a b", "x;y", "#x", "a\\b", "a\nb"):
        with pytest.raises(RenderError, match="cannot be written safely to a keyfile"):
            keyfile_value(bad)


# --- preflight --------------------------------------------------------------------------------

ETH0_PROFILE = f"eth0:51a8:802-3-ethernet:eth0:{OLD}:yes\n"


def said(
    active: str = "active", general: str = "running:1.42.4", profiles: str = "", dns: str = ""
) -> str:
    return f"{active}\n{MARK}\n{general}\n{MARK}\n{profiles}{MARK}\n{dns}"


OLD_KEYFILE = {OLD: "[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\n"}


def test_the_profile_that_owns_a_port_is_displaced_and_the_version_noted() -> None:
    found = EL9.preflight("hv01", said(profiles=ETH0_PROFILE), rendered(), OLD_KEYFILE)
    assert found == Preflight(displaced=(OLD,), notes=("NetworkManager 1.42.4",))


def test_a_profile_whose_keyfile_is_already_gone_is_not_displaced_again() -> None:
    # A run that stopped between the push and the reload: NetworkManager still runs it.
    assert EL9.preflight("hv01", said(profiles=ETH0_PROFILE), rendered(), {}).displaced == ()


def test_an_ifcfg_profile_read_through_ifcfg_rh_is_displaced_the_same_way() -> None:
    ifcfg = "/etc/sysconfig/network-scripts/ifcfg-eth0"
    profile = f"System eth0:5fb0:802-3-ethernet:eth0:{ifcfg}:yes\n"
    assert EL8.preflight("hv01", said(profiles=profile), rendered(), {}).displaced == (ifcfg,)


ETH0_DNS = (
    "connection.uuid:51a8\nipv4.dns:198.18.0.53,198.18.0.54\nipv4.dns-search:lab.example\n"
    "connection.uuid:9999\nipv4.dns:\nipv4.dns-search:\n"
)
WITH_DNS = "[ipv4]\ndns=198.18.0.53;198.18.0.54;\ndns-search=lab.example;\nmethod=manual\n"


def test_the_dns_of_the_port_s_profile_is_carried_to_the_bridge_s() -> None:
    found = EL9.preflight(
        "hv01", said(profiles=ETH0_PROFILE, dns=ETH0_DNS), rendered(), OLD_KEYFILE
    )
    assert found.problems == ()
    assert found.displaced == (OLD,)
    assert list(found.rewritten) == [BR0]
    assert found.rewritten[BR0] == rendered()[BR0].replace("[ipv4]\nmethod=manual\n", WITH_DNS)
    assert found.notes == (
        "NetworkManager 1.42.4",
        "DNS 198.18.0.53, 198.18.0.54, search lab.example carried to br0's profile from eth0's",
    )
    # NetworkManager itself reads the bridge's profile with its DNS.
    nmcli = shutil.which("nmcli")
    assert nmcli, "nmcli is missing: scripts/install installs network-manager"
    done = subprocess.run(
        [nmcli, "--offline", "connection", "modify", "connection.autoconnect", "yes"],
        input=found.rewritten[BR0], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dns=198.18.0.53;198.18.0.54;" in done.stdout
    assert "dns-search=lab.example;" in done.stdout


def test_the_dns_of_an_inactive_displaced_keyfile_is_carried_too() -> None:
    # Not from a profile that sets none (uuid 9999 below, or one of another device).
    none = "connection.uuid:51a8\nipv4.dns:\nipv4.dns-search:\n"
    assert EL9.preflight("hv01", said(dns=none), rendered(), {}).rewritten == {}
    keyfile = {OLD: OLD_KEYFILE[OLD].replace("id=eth0\n", "id=eth0\nuuid=51a8\n")}
    found = EL9.preflight("hv01", said(dns=ETH0_DNS), rendered(), keyfile)
    assert found.displaced == (OLD,)
    assert "dns=198.18.0.53;198.18.0.54;\n" in found.rewritten[BR0]


def test_a_rerun_keeps_the_dns_the_bridge_s_profile_carries_and_renders_the_same() -> None:
    first = EL9.preflight(
        "hv01", said(profiles=ETH0_PROFILE, dns=ETH0_DNS), rendered(), OLD_KEYFILE
    )
    ours = f"br0:b0:bridge:br0:{BR0}:yes\nbr0-port-eth0:p0:802-3-ethernet:eth0:{PORT}:yes\n"
    dns = "connection.uuid:b0\nipv4.dns:198.18.0.53,198.18.0.54\nipv4.dns-search:lab.example\n"
    again = EL9.preflight("hv01", said(profiles=ours, dns=dns), rendered(), {})
    assert again.rewritten == first.rewritten
    assert (
        "\n[ipv4]\ndns=198.18.0.53;198.18.0.54;\ndns-search=lab.example;\n"
        in (again.rewritten[BR0])
    )
    assert again.displaced == ()
    assert again.notes == ("NetworkManager 1.42.4",)


def test_a_converged_host_displaces_nothing() -> None:
    ours = f"br0:1:bridge:br0:{BR0}:yes\nbr0-port-eth0:2:802-3-ethernet:eth0:{PORT}:yes\n"
    assert EL9.preflight("hv01", said(profiles=ours), rendered(), {}) == Preflight(
        notes=("NetworkManager 1.42.4",)
    )


def test_inactive_keyfiles_for_a_port_by_name_or_mac_are_displaced() -> None:
    by_name = f"{DIR}/old-eth0.nmconnection"
    by_mac = f"{DIR}/by-mac.nmconnection"
    other = f"{DIR}/eth1.nmconnection"
    existing = {
        by_name: "[connection]\nid=old\ntype=ethernet\ninterface-name=eth0\n",
        by_mac: "[connection]\nid=m\ntype=ethernet\n[ethernet]\nmac-address=02:48:56:00:00:01\n",
        other: "[connection]\nid=eth1\ntype=ethernet\ninterface-name=eth1\n",
    }
    found = EL9.preflight("hv01", said(), rendered(), existing)
    assert found.displaced == (by_mac, by_name)
    assert found.problems == ()


@pytest.mark.parametrize(
    ("active", "general", "problem"),
    [
        ("inactive", "", "hv01: NetworkManager is not running (systemctl is-active"
         " NetworkManager: inactive): refusing to change the host; start it first"
         " (systemctl start NetworkManager)"),
        ("active", "Error: NetworkManager is not running.", "hv01: NetworkManager does not"
         " answer (nmcli general: Error: NetworkManager is not running.): refusing to change"
         " the host"),
    ],
)  # fmt: skip
def test_networkmanager_not_running_or_not_answering_is_refused(
    active: str, general: str, problem: str
) -> None:
    assert EL9.preflight("hv01", said(active, general), rendered(), {}).problems == (problem,)


def test_profiles_that_clash_by_name_or_interface_are_refused() -> None:
    profiles = (
        "br0:9:bridge::/etc/NetworkManager/system-connections/other.nmconnection:no\n"
        "lan:8:bridge:br0:/etc/NetworkManager/system-connections/lan.nmconnection:yes\n"
        "mem:7:802-3-ethernet:eth0::yes\n"
        "vendor:6:802-3-ethernet:eth0:/usr/lib/NetworkManager/system-connections/v:yes\n"
    )
    existing = {f"{DIR}/x.nmconnection": "[connection]\nid=y\ntype=bridge\ninterface-name=br0\n"}
    assert EL9.preflight("hv01", said(profiles=profiles), rendered(), existing).problems == (
        "hv01: a profile named br0 already exists"
        " (/etc/NetworkManager/system-connections/other.nmconnection): rename or delete it,"
        " hvbridge writes its own",
        "hv01: profile lan (/etc/NetworkManager/system-connections/lan.nmconnection) is active"
        " on br0: delete it, hvbridge writes its own",
        "hv01: profile mem on eth0 is kept in memory only, with no file to keep for the"
        " revert: save or delete it first (nmcli connection modify/delete)",
        "hv01: profile vendor on eth0 comes with the system"
        " (/usr/lib/NetworkManager/system-connections/v): delete it first",
        f"hv01: {DIR}/x.nmconnection also configures br0: delete it",
    )


def test_the_keyfiles_nm_reads_are_candidates_but_not_hidden_or_backup_files() -> None:
    names = [
        "eth0.nmconnection",
        ".br0.nmconnection.hvbridge-tmp",
        "a.bak",
        "b~",
        "br0.nmconnection",
    ]
    assert EL9.conflict_candidates([BR0], names) == [f"{DIR}/eth0.nmconnection"]


# --- apply, revert, services ------------------------------------------------------------------


def test_the_checkpoint_covers_every_device_for_the_guard_s_time() -> None:
    checkpoint = EL9.checkpoint("/var/lib/hvbridge/runs/r 1", 30)
    assert checkpoint is not None
    assert "CheckpointCreate aouu 0 30 6 > '/var/lib/hvbridge/runs/r 1'/checkpoint.out" in (
        checkpoint.create
    )
    assert "CheckpointRollback" in checkpoint.rollback
    assert "CheckpointDestroy" in checkpoint.destroy
    assert platforms.get("el6").checkpoint("/x", 30) is None


def test_the_revert_rolls_the_checkpoint_back_before_it_puts_the_files_back() -> None:
    checkpoint = EL9.checkpoint("/run dir", 30)
    script = guard.revert_script("/run dir", EL9, checkpoint)
    assert checkpoint is not None
    assert script.index("CheckpointRollback") < script.index("restored $path")
    assert script.rstrip().endswith("touch '/run dir'/reverted")
    assert "nmcli connection reload" in script.split("restored $path")[1]
    el6 = guard.revert_script("/run dir", platforms.get("el6"))
    assert el6 == guard.revert_script("/run dir", platforms.get("el6"), None)
    assert "Checkpoint" not in el6


def test_applying_is_reloading_the_profiles_and_networkmanager_is_never_stopped() -> None:
    assert EL9.network_command("restart").startswith("nmcli connection reload && ")
    assert EL9.network_command("stop") == "true"
    assert EL9.revert_commands() == ("true", EL9.network_command("restart"))
    assert EL9.file_mode == 0o600


def test_el9_restarts_libvirt_s_modular_daemons_and_el8_libvirtd() -> None:
    assert EL9.service_command("libvirtd", "restart") == "systemctl restart virtqemud virtnetworkd"
    assert EL8.service_command("libvirtd", "status") == "systemctl status libvirtd"
    assert EL9.service_command("sshd", "restart") == "systemctl restart sshd"


def test_what_keyfiles_do_not_carry_yet_and_what_networkmanager_refuses_is_refused() -> None:
    host = model(mtu=9000, delay=1)
    host.nics["eth1"] = SimpleNamespace(hwaddr="02:00:00:00:00:02", mtu=1400)
    # A NIC under no bridge's chain; a forward delay of 1 s, STP on or off (NetworkManager
    # refuses the whole profile); MTUs are written now.
    assert EL9.inventory_problems(host) == [
        (("nics", "eth1"), "'eth1': a NIC outside a bridge is not written on NetworkManager"
         " platforms yet"),
        (("bridges", "br0", "delay"), "NetworkManager takes a forward delay of 0 or 2-30"),
    ]  # fmt: skip
    # A NIC that only carries a VLAN is in a chain.
    host.vlans = {"vlan7": SimpleNamespace(parent="eth1", id=7, mtu=None)}
    host.bridges["br7"] = SimpleNamespace(**{**vars(host.bridges["br0"]), "ports": ["vlan7"]})
    host.bridges["br0"].delay = 0
    host.bridges["br7"].delay = 0
    assert EL9.inventory_problems(host) == []


@pytest.mark.parametrize(
    ("ipv6", "refused"),
    [({}, True), ({"ipv6_autoconf": False}, True), ({"ipv6_autoconf": True}, False),
     ({"ipv6addr": "2001:db8::5/64"}, False), ({"ipv6_gateway": "fe80::1"}, False)],
)  # fmt: skip
def test_an_ipv6_dns_server_needs_ipv6_on_the_bridge_itself(
    ipv6: dict[str, object], refused: bool
) -> None:
    dns = SimpleNamespace(servers=["198.18.0.53", "2001:db8::53"], search=[])
    found = EL9.inventory_problems(model(dns=dns, **ipv6))
    assert found == (
        [(("bridges", "br0", "dns", "servers"), "an IPv6 DNS server needs IPv6 on the bridge"
          " itself: NetworkManager refuses ipv6.dns on a profile without (set ipv6addr, or"
          " ipv6_autoconf: true)")]
        if refused else []
    )  # fmt: skip
    assert EL9.inventory_problems(model(dns=SimpleNamespace(servers=["198.18.0.53"]))) == []
