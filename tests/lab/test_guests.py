"""The seed's whole procedure (runbooks/bridge.yaml) on three hypervisors with libvirt."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hvbridge.domainxml import interfaces
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.runner import EXIT_CHANGED, EXIT_FAILED

from .conftest import HostPlatform, LabFactory
from .rollout_support import PROJECT, copy_inventory, edit_yaml, rollout
from .test_lab_hypervisors import brctl_ports

BRIDGE = PROJECT / "runbooks" / "bridge.yaml"
HOSTS = ("hv01", "hv02", "hv03")


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=3, direct=False, libvirt=True, profile="modern")


def host_state(lab: Lab, name: str) -> dict[str, Any]:
    """What an operator would compare: files, domain XML, networks, bridges."""
    with lab.connect(name) as conn:
        return {
            "ifcfg": conn.run("cat /etc/sysconfig/network-scripts/ifcfg-*").stdout,
            "v1": conn.run("virsh dumpxml --inactive v1").stdout,
            "nets": conn.run("virsh net-list --all").stdout,
            "bridges": conn.run("brctl show").stdout,
        }


def step(outcome: Any, host: str, name: str) -> Any:
    return next(s for s in outcome.hosts[host].steps if s.name == name)


def test_check_mode_shows_the_xml_diff_and_defines_nothing(lab: tuple[Lab, LabState]) -> None:
    the_lab, _ = lab
    before = {name: host_state(the_lab, name) for name in HOSTS}
    outcome = rollout(the_lab.paths.inventory, BRIDGE, check=True)
    assert outcome.exit_code == EXIT_CHANGED
    for name in HOSTS:
        edit = step(outcome, name, "guests onto their bridges")
        assert edit.changed and "would change" in edit.message
        assert "bridge" in edit.diff and "br0" in edit.diff
        nat = step(outcome, name, "remove NAT network default")
        assert nat.message == "would run virsh net-destroy, net-autostart, net-undefine"
        assert host_state(the_lab, name) == before[name]


def _one_host(inventory: Path, name: str, change: Any) -> None:
    def edit(hosts: dict[str, Any]) -> None:
        for other in [h for h in hosts if h != name]:
            del hosts[other]
        change(hosts[name]["data"])

    edit_yaml(inventory / "hosts.yaml", edit)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing domain", "domain v9 does not exist on this host"),
        ("pci clash", "already used"),
        ("libvirtd stopped", "libvirtd does not answer"),
    ],
)
def test_preflight_failures_change_nothing(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform, case: str, expected: str
) -> None:
    the_lab, _ = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")
    if case == "missing domain":
        _one_host(
            inventory,
            "hv01",
            lambda d: d["guests"].update(v9=d["guests"]["v1"]) or d["guests"].pop("v1"),
        )
    elif case == "pci clash":
        with the_lab.connect("hv01") as conn:
            xml = conn.run("virsh dumpxml --inactive v1").stdout
        used = re.findall(
            r"<address type='pci' domain='(0x[0-9a-f]+)' bus='(0x[0-9a-f]+)'"
            r" slot='(0x[0-9a-f]+)' function='(0x[0-9a-f]+)'",
            xml,
        )
        nic = next(i for i in interfaces(xml) if i.mac)
        other = next(
            tuple(int(x, 16) for x in a) for a in used if tuple(int(x, 16) for x in a) != nic.pci
        )
        address = dict(zip(("domain", "bus", "slot", "function"), other, strict=True))
        _one_host(
            inventory, "hv01", lambda d: d["guests"]["v1"]["interfaces"][0].update(address=address)
        )
    else:
        with the_lab.connect("hv01") as conn:
            assert conn.run(platform.service("libvirtd", "stop")).ok
        _one_host(inventory, "hv01", lambda d: None)
    before = host_state(the_lab, "hv01") if case != "libvirtd stopped" else None
    try:
        outcome = rollout(inventory, BRIDGE)
    finally:
        if case == "libvirtd stopped":
            with the_lab.connect("hv01") as conn:
                assert conn.run(platform.service("libvirtd", "start")).ok
    host = outcome.hosts["hv01"]
    assert outcome.exit_code == EXIT_FAILED
    assert [s.name for s in host.steps] == ["check libvirt and guests"]
    assert expected in host.steps[0].message
    after = host_state(the_lab, "hv01")
    if before is not None:
        assert after == before
    assert "ifcfg-br0" not in after["ifcfg"] and "TYPE=Bridge" not in after["ifcfg"]


def test_duplicate_mac_in_the_inventory_is_refused_before_any_connection(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def dup(hosts: dict[str, Any]) -> None:
        hosts["hv02"]["data"]["guests"]["v1"]["interfaces"][0]["mac"] = state.hosts[
            "hv01"
        ].guest_mac

    edit_yaml(inventory / "hosts.yaml", dup)
    with pytest.raises(Exception, match="52:54:00:48:00:01"):
        rollout(inventory, BRIDGE)


def _full_inventory(the_lab: Lab, tmp_path: Path) -> Path:
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def settings(hosts: dict[str, Any]) -> None:
        for name in HOSTS:
            hosts[name]["data"]["libvirt"] = {"restart_guests": True, "shutdown_timeout": 2.0}
        hosts["hv03"]["data"]["libvirt"]["edit_mode"] = "file"

    edit_yaml(inventory / "hosts.yaml", settings)
    return inventory


def test_full_procedure_puts_v1_on_br0_beside_the_nic(
    lab: tuple[Lab, LabState], tmp_path: Path, platform: HostPlatform
) -> None:
    the_lab, state = lab
    for name in HOSTS:
        with the_lab.connect(name) as conn:
            assert conn.run("virsh start v1").ok  # running on NAT, as before the seed
    inventory = _full_inventory(the_lab, tmp_path)
    outcome = rollout(inventory, BRIDGE)
    assert outcome.exit_code == EXIT_CHANGED, {h: outcome.hosts[h].steps for h in HOSTS}
    for name in HOSTS:
        assert outcome.hosts[name].status == "changed"
        with the_lab.connect(name) as conn:
            assert "default" not in conn.run("virsh net-list --all").stdout
            v1 = [i for i in interfaces(conn.run("virsh dumpxml --inactive v1").stdout) if i.mac]
            assert [(i.type, i.source, i.mac, i.model) for i in v1] == [
                ("bridge", "br0", state.hosts[name].guest_mac, "virtio")
            ]
            assert conn.run("virsh domstate v1").stdout.strip() == "running"
            # The seed's final `brctl show`: br0 with the NIC and the guest's tap, no virbr0. The
            # tap is vnet1 here, not the seed's vnet0: v1 was started once before, on NAT.
            tap = conn.run("virsh domiflist v1").stdout.split("\n")[2].split()[0]
            assert re.fullmatch(r"vnet\d+", tap)
            assert brctl_ports(conn.run("brctl show").stdout) == {"br0": [platform.nic, tap]}
    assert "libvirtd restarted" in step(outcome, "hv03", "restart libvirtd").message
    with the_lab.connect("hv03") as conn:
        on_disk = conn.run("cat /etc/libvirt/qemu/v1.xml").stdout
        assert on_disk.startswith("<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.")
        assert [(i.type, i.source) for i in interfaces(on_disk) if i.mac] == [("bridge", "br0")]


def test_rerun_changes_nothing(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    the_lab, _ = lab
    outcome = rollout(_full_inventory(the_lab, tmp_path), BRIDGE)
    assert outcome.exit_code == 0, {h: outcome.hosts[h].steps for h in HOSTS}
    for name in HOSTS:
        assert step(outcome, name, "restart libvirtd").message.startswith("not needed")
        assert (
            step(outcome, name, "remove NAT network default").message
            == "network default already absent"
        )
