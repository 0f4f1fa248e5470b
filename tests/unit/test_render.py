"""The network files el6 and el7 render from templates/ mean what the seed's files mean."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from hvbridge import platforms
from hvbridge.guard import guard_script, revert_script
from hvbridge.platforms.ifcfg import parse_ifcfg
from hvbridge.platforms.initscripts import ifcfg_value
from hvbridge.render import RenderError

EL6 = platforms.get("el6")

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SEED_BR0 = {
    "DEVICE": "br0", "ONBOOT": "yes", "TYPE": "Bridge", "BOOTPROTO": "static",
    "IPADDR": "10.0.112.39", "NETMASK": "255.255.255.0", "GATEWAY": "10.0.112.1", "DEFROUTE": "yes",
}  # fmt: skip
# STP and its forward delay are always written: a platform default (EL6's kernel: 15 s when
# STP is on) would hold a new guest's port for 30 s.
EXPLICIT_STP = {"STP": "off", "DELAY": "0"}
SEED_ETH0 = {
    "DEVICE": "eth0", "NM_CONTROLLED": "no", "ONBOOT": "yes", "TYPE": "Ethernet",
    "BOOTPROTO": "none", "BRIDGE": "br0", "NAME": "System eth0", "HWADDR": "44:37:E6:4A:62:AD",
}  # fmt: skip


def bridge(**changes: object) -> SimpleNamespace:
    fields = dict(
        ports=["eth0"], bootproto="static", ipaddr="10.0.112.39", netmask="255.255.255.0",
        prefix=None, gateway="10.0.112.1", defroute=True, stp=False, delay=0, mtu=None,
    )  # fmt: skip
    fields.update(changes)
    return SimpleNamespace(**fields)


def nic(**changes: object) -> SimpleNamespace:
    fields = dict(
        hwaddr="44:37:e6:4a:62:ad", mtu=None, nm_controlled=False, name="System eth0",
        bootproto=None, ipaddr=None, netmask=None, prefix=None, gateway=None, defroute=True,
    )  # fmt: skip
    fields.update(changes)
    return SimpleNamespace(**fields)


def seed_host(**bridge_changes: object) -> SimpleNamespace:
    return SimpleNamespace(bridges={"br0": bridge(**bridge_changes)}, nics={"eth0": nic()})


def rendered(model: SimpleNamespace, platform: str = "el6") -> dict[str, dict[str, str]]:
    files = platforms.get(platform).render(TEMPLATES, model)
    return {path.rsplit("/", 1)[1]: parse_ifcfg(text, path) for path, text in files.items()}


def test_seed_host_renders_the_seed_files() -> None:
    files = rendered(seed_host(), "el6")
    assert files == {"ifcfg-br0": {**SEED_BR0, **EXPLICIT_STP}, "ifcfg-eth0": SEED_ETH0}


def test_el7_renders_the_seed_files_with_the_bridge_left_to_initscripts() -> None:
    # NetworkManager, which EL7 may run beside initscripts, would otherwise manage br0.
    files = rendered(seed_host(), "el7")
    br0 = {**SEED_BR0, "NM_CONTROLLED": "no", **EXPLICIT_STP}
    assert files == {"ifcfg-br0": br0, "ifcfg-eth0": SEED_ETH0}


def test_dhcp_bridge_renders_the_seed_dhcp_variant() -> None:
    files = rendered(seed_host(bootproto="dhcp", ipaddr=None, netmask=None, gateway=None))
    assert files["ifcfg-br0"] == {
        "DEVICE": "br0", "ONBOOT": "yes", "TYPE": "Bridge", "BOOTPROTO": "dhcp", "DEFROUTE": "yes",
        **EXPLICIT_STP,
    }  # fmt: skip


def test_prefix_stp_and_mtu() -> None:
    files = rendered(seed_host(prefix=24, netmask=None, stp=True, delay=2, mtu=9000))
    br0 = files["ifcfg-br0"]
    assert br0["PREFIX"] == "24" and "NETMASK" not in br0
    assert (br0["STP"], br0["DELAY"], br0["MTU"]) == ("on", "2", "9000")


def test_a_nic_outside_any_bridge_keeps_its_own_address() -> None:
    model = seed_host()
    model.nics["eth1"] = nic(
        hwaddr="02:00:00:00:00:02", name=None, bootproto="static", ipaddr="198.18.5.2",
        netmask="255.255.255.0", defroute=False,
    )  # fmt: skip
    eth1 = rendered(model)["ifcfg-eth1"]
    assert eth1["IPADDR"] == "198.18.5.2" and eth1["BOOTPROTO"] == "static"
    assert "BRIDGE" not in eth1 and "GATEWAY" not in eth1


def test_rendering_is_canonical() -> None:
    files = EL6.render(TEMPLATES, seed_host())
    again = EL6.render(TEMPLATES, seed_host())
    assert files == again
    assert all(text.endswith("\n") and "\n\n" not in text for text in files.values())


@pytest.mark.parametrize(
    ("value", "written"),
    [("br0", "br0"), ("10.0.112.39", "10.0.112.39"), ("System eth0", '"System eth0"')],
)
def test_ifcfg_value_quotes_as_the_shell_reads(value: str, written: str) -> None:
    assert ifcfg_value(value) == written
    assert parse_ifcfg(f"K={written}\n", "t") == {"K": value}


@pytest.mark.parametrize("value", ["$(reboot)", "a`id`", 'x"y', "a\nb", "a;b", "a\\b"])
def test_unsafe_values_are_refused(value: str) -> None:
    with pytest.raises(RenderError, match="cannot be written safely"):
        ifcfg_value(value)


def test_missing_model_field_is_an_error_not_a_blank() -> None:
    model = SimpleNamespace(bridges={"br0": SimpleNamespace(ports=["eth0"])}, nics={})
    with pytest.raises(RenderError, match=r"template ifcfg-bridge\.j2"):
        EL6.render(TEMPLATES, model)


@pytest.mark.parametrize(
    "script", [revert_script("/var/lib/hvbridge/runs/x y", EL6), guard_script("/r", 30)]
)
def test_guard_scripts_are_valid_posix_sh(script: str) -> None:
    checked = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_revert_stops_with_new_files_before_restoring_old_ones() -> None:
    script = revert_script("/var/lib/hvbridge/runs/r1", EL6)
    order = [
        script.index(s)
        for s in ("mv ", "service network stop", "rm -f", "cp -p", "service network start")
    ]
    assert order == sorted(order)
