"""hvbridge.platforms: the registry, and each platform's pieces (files, commands, checks)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from hvbridge import platforms
from hvbridge.hoststate import parse_state
from hvbridge.platforms.base import Preflight
from hvbridge.platforms.ifcfg import parse_ifcfg
from hvbridge.platforms.initscripts import SCRIPTS_DIR
from hvbridge.platforms.iproute import MARK, PARTS

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EL6, EL7 = platforms.get("el6"), platforms.get("el7")
OURS = [f"{SCRIPTS_DIR}/ifcfg-br0", f"{SCRIPTS_DIR}/ifcfg-eth0"]


def seed_model() -> SimpleNamespace:
    bridge = SimpleNamespace(
        ports=["eth0"], bootproto="dhcp", ipaddr=None, netmask=None, prefix=None, gateway=None,
        defroute=True, stp=False, delay=0, mtu=None,
    )  # fmt: skip
    nic = SimpleNamespace(hwaddr="02:00:00:00:00:01", mtu=None, nm_controlled=False, name=None)
    guest = SimpleNamespace(interfaces=[SimpleNamespace(bridge="br0")])
    return SimpleNamespace(bridges={"br0": bridge}, nics={"eth0": nic}, guests={"v1": guest})


# --- the registry ------------------------------------------------------------------------------


def test_the_registry_names_el6_to_el9_debian_proxmox_ubuntu_and_defaults_to_el6() -> None:
    assert platforms.names() == ("el6", "el7", "el8", "el9", "debian", "proxmox", "ubuntu")
    assert [platforms.get(name).name for name in platforms.names()] == list(platforms.names())
    assert platforms.DEFAULT == "el6"


@pytest.mark.parametrize("name", ["el10", "EL6", "", "suse"])
def test_an_unknown_name_says_which_exist(name: str) -> None:
    with pytest.raises(platforms.UnknownPlatform) as caught:
        platforms.get(name)
    assert str(caught.value) == (
        f"unknown platform {name!r}: expected one of 'el6', 'el7', 'el8', 'el9', 'debian',"
        " 'proxmox', 'ubuntu'"
    )
    assert isinstance(caught.value, ValueError)


def test_check_name_returns_a_known_name_unchanged() -> None:
    assert platforms.check_name("el7") == "el7"


# --- what each platform decides ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "restart", "stop", "start", "libvirtd"),
    [
        (EL6, "service network restart", "service network stop", "service network start",
         "service libvirtd restart"),
        (EL7, "systemctl restart network", "systemctl stop network", "systemctl start network",
         "systemctl restart libvirtd"),
    ],
)  # fmt: skip
def test_network_and_service_commands(
    platform: platforms.Platform, restart: str, stop: str, start: str, libvirtd: str
) -> None:
    assert platform.network_command("restart") == restart
    assert platform.network_command("stop") == stop
    assert platform.network_command("start") == start
    assert platform.service_command("libvirtd", "restart") == libvirtd


@pytest.mark.parametrize("platform", [EL6, EL7])
def test_a_service_name_reaches_the_shell_quoted(platform: platforms.Platform) -> None:
    assert "'a b; reboot'" in platform.service_command("a b; reboot", "status")


def test_el6_disables_rsa_sha2_signatures_and_el7_nothing() -> None:
    assert dict(EL6.ssh_disabled_algorithms) == {"pubkeys": ["rsa-sha2-512", "rsa-sha2-256"]}
    assert dict(EL7.ssh_disabled_algorithms) == {}


@pytest.mark.parametrize("platform", [EL6, EL7])
def test_the_network_files_are_ifcfg_files_in_network_scripts(
    platform: platforms.Platform,
) -> None:
    files = platform.render(TEMPLATES, seed_model())
    assert sorted(files) == OURS
    assert platform.config_dir == SCRIPTS_DIR
    assert parse_ifcfg(files[OURS[1]], OURS[1])["BRIDGE"] == "br0"


def test_a_platforms_own_template_overrides_the_shared_one(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES / "initscripts", tmp_path / "initscripts")
    (tmp_path / "el7").mkdir()
    (tmp_path / "el7" / "ifcfg-bridge.j2").write_text("DEVICE={{ name }}\nTYPE=Bridge\n")
    el7 = EL7.render(tmp_path, seed_model())[OURS[0]]
    el6 = EL6.render(tmp_path, seed_model())[OURS[0]]
    assert el7 == "DEVICE=br0\nTYPE=Bridge\n"
    assert "BOOTPROTO=dhcp" in el6
    assert EL7.template_dirs == ("el7", "initscripts")


def test_only_ifcfg_files_initscripts_read_are_read_ours_included() -> None:
    # Ours too: what a bridge keeps of its ports' old files (DNS, IPv6) is read from them.
    names = [
        "ifcfg-br0", "ifcfg-eth0", "ifcfg-eth0.bak", "ifcfg-eth0:1", "ifcfg-old", "route-eth0",
        ".ifcfg-eth0.hvbridge-tmp", "ifcfg-eth1",
    ]  # fmt: skip
    assert EL6.conflict_candidates(OURS, names) == [
        f"{SCRIPTS_DIR}/ifcfg-br0",
        f"{SCRIPTS_DIR}/ifcfg-eth0",
        f"{SCRIPTS_DIR}/ifcfg-old",
        f"{SCRIPTS_DIR}/ifcfg-eth1",
    ]


def test_our_own_files_on_the_host_are_no_conflict() -> None:
    existing = {f"{SCRIPTS_DIR}/ifcfg-eth0": "DEVICE=eth0\nIPADDR=198.18.0.5\n"}
    assert EL6.conflicts(OURS, existing) == []


def test_a_conflict_is_another_file_for_one_of_our_devices() -> None:
    existing = {
        f"{SCRIPTS_DIR}/ifcfg-old": 'DEVICE="eth0"\nONBOOT=yes\n',
        f"{SCRIPTS_DIR}/ifcfg-eth1": "DEVICE=eth1\n",
        f"{SCRIPTS_DIR}/ifcfg-br1": "BOOTPROTO=dhcp\n",
        f"{SCRIPTS_DIR}/ifcfg-weird": "DEVICE=$(echo eth0)\n",
    }
    assert EL6.conflicts(OURS, existing) == [
        f"{SCRIPTS_DIR}/ifcfg-old also configures DEVICE=eth0: remove it, or rename it so that"
        " initscripts ignore it (e.g. with a .bak suffix)"
    ]


def test_a_file_without_device_configures_the_device_of_its_name() -> None:
    existing = {f"{SCRIPTS_DIR}/ifcfg-eth0": "ONBOOT=yes\n"}
    assert len(EL7.conflicts([f"{SCRIPTS_DIR}/ifcfg-br0", "/elsewhere/ifcfg-eth0"], existing)) == 1


@pytest.mark.parametrize("platform", [EL6, EL7])
def test_names_initscripts_ignore_are_found_wherever_they_are_used(
    platform: platforms.Platform,
) -> None:
    model = seed_model()
    model.nics["eth1.bak"] = model.nics["eth0"]
    model.bridges["br0-range0"] = model.bridges.pop("br0")
    model.guests["v1"].interfaces[0].bridge = "br0~"
    assert [loc for loc, _ in platform.inventory_problems(model)] == [
        ("nics", "eth1.bak"),
        ("bridges", "br0-range0"),
        ("guests", "v1", "interfaces", 0, "bridge"),
    ]
    assert platform.inventory_problems(seed_model()) == []


@pytest.mark.parametrize("platform", [EL6, EL7])
def test_the_state_command_prints_what_hoststate_parses(platform: platforms.Platform) -> None:
    assert platform.state_command.count(f"echo {MARK}") == PARTS - 1
    printed = (
        f"brctl\nbridge name\tbridge id\t\tSTP enabled\tinterfaces\n{MARK}\n"
        "2: eth0: <BROADCAST,UP> mtu 1500 qdisc noop state UP \\    link/ether"
        " 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
        f"{MARK}\n{MARK}\n"
    ) + f"{MARK}\n" * (PARTS - 4)
    state = parse_state("hv01", printed)
    assert [link.name for link in state.links] == ["eth0"]


def test_reverts_stop_the_network_whatever_its_service_manager_thinks() -> None:
    """EL7's systemd ignores a stop of a unit whose start failed, and a start of one it
    thinks active: its revert stops through the init script and restarts the unit."""
    assert platforms.get("el6").revert_commands() == (
        "service network stop",
        "service network start",
    )
    assert platforms.get("el7").revert_commands() == (
        "SYSTEMCTL_SKIP_REDIRECT=1 service network stop",
        "systemctl restart network",
    )


def test_only_el7_reads_the_journal_to_explain_a_failed_restart() -> None:
    assert platforms.get("el6").restart_diagnostics == ""
    assert platforms.get("el7").restart_diagnostics.startswith("journalctl -u network.service ")


# --- EL7 and NetworkManager --------------------------------------------------------------------

NM_OFF = {path: f"DEVICE={path[-4:]}\nNM_CONTROLLED=no\n" for path in OURS}


def test_el7_asks_whether_networkmanager_runs_and_el6_asks_nothing() -> None:
    assert EL7.preflight_command == "systemctl is-active NetworkManager.service 2>/dev/null || true"
    assert EL6.preflight_command == ""
    assert EL6.preflight("hv01", "active\n", {OURS[0]: "DEVICE=br0\n"}, {}) == Preflight()


@pytest.mark.parametrize("said", ["inactive\n", "unknown\n", "failed\n", ""])
def test_el7_accepts_a_host_where_networkmanager_does_not_run(said: str) -> None:
    assert EL7.preflight("hv01", said, {OURS[0]: "DEVICE=br0\n"}, {}).problems == ()


@pytest.mark.parametrize("said", ["active\n", "activating\n"])
def test_el7_accepts_networkmanager_when_every_file_says_nm_controlled_no(said: str) -> None:
    files = {**NM_OFF, OURS[1]: "DEVICE=eth0\nNM_CONTROLLED=False\n"}
    assert EL7.preflight("hv01", said, files, {}).problems == ()


def test_el7_refuses_networkmanager_naming_each_file_it_would_manage() -> None:
    files = {OURS[0]: "DEVICE=br0\n", OURS[1]: "DEVICE=eth0\nNM_CONTROLLED=yes\n"}
    assert EL7.preflight("hv01", "active\n", files, {}).problems == (
        "hv01: NetworkManager is running and would manage ifcfg-br0 (NM_CONTROLLED=unset),"
        " ifcfg-eth0 (NM_CONTROLLED=yes) beside initscripts: refusing to change the host."
        " Stop and disable NetworkManager (systemctl disable --now NetworkManager),"
        " or set nm_controlled: false",
    )


def test_el7_files_as_rendered_pass_with_networkmanager_unless_a_nic_is_nm_controlled() -> None:
    model = seed_model()
    files = EL7.render(TEMPLATES, model)
    assert parse_ifcfg(files[OURS[0]], OURS[0])["NM_CONTROLLED"] == "no"
    assert EL7.preflight("hv01", "active\n", files, {}).problems == ()
    model.nics["eth0"].nm_controlled = True
    (problem,) = EL7.preflight("hv01", "active\n", EL7.render(TEMPLATES, model), {}).problems
    assert "would manage ifcfg-eth0 (NM_CONTROLLED=yes) beside" in problem
    assert "NM_CONTROLLED" not in EL6.render(TEMPLATES, seed_model())[OURS[0]]
