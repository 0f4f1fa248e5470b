"""Reports from real runs: content checked against the lab, `report` changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.report import validate

from .conftest import LabFactory
from .rollout_support import RUNBOOK, cli, copy_inventory, edit_yaml, runbook_with_timeout
from .test_lab_hypervisors import brctl_ports

SNAPSHOT = (
    "md5sum /etc/sysconfig/network-scripts/* /etc/libvirt/qemu/*.xml"
    " /etc/libvirt/qemu/networks/*.xml 2>/dev/null; virsh list --all; virsh net-list --all;"
    " ls -la /var/lock/ /var/lib/ | grep -i hvbridge; brctl show; ip -o -4 addr show"
)


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=2, direct=False, libvirt=True, profile="modern")


def snapshot(lab: Lab) -> dict[str, str]:
    state = lab.require_state()
    found = {}
    for name, rec in state.hosts.items():
        if rec.hypervisor:
            with lab.connect(name, state) as conn:
                found[name] = conn.run(SNAPSHOT).stdout
    return found


def only_run_dir(reports: Path) -> Path:
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    return run_dir


def load_json(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_report_is_read_only_and_matches_the_hosts(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    before = snapshot(the_lab)
    reports = tmp_path / "reports"
    done = cli("report", "--nornir-output", "-i", str(the_lab.paths.inventory),
               "--reports-dir", str(reports), "--state-dir", str(tmp_path / "state"))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert snapshot(the_lab) == before
    # nornir_utils' print_result, as Nornir users know it.
    assert "* hv01 ** changed : False" in done.stdout
    assert "---- collect facts ** changed : False" in done.stdout
    run_dir = only_run_dir(reports)
    for name in ("hv01", "hv02"):
        document = load_json(run_dir / "hosts" / f"{name}.json")
        validate(document)
        with the_lab.connect(name, state) as conn:
            seen = brctl_ports(conn.run("brctl show").stdout)
        assert {b: v["ports"] for b, v in document["facts"]["bridges"].items()} == seen
        assert document["facts"]["libvirt"]["networks"]["default"]["active"] is True
        assert document["facts"]["libvirt"]["domains"]["v1"]["state"] == "shut off"
    summary = load_json(run_dir / "summary.json")
    validate(summary)
    html = (run_dir / "report.html").read_text()
    assert sorted(re.findall(r'<tr[^>]*data-host="([^"]+)"', html)) == ["hv01", "hv02"]


def test_rollout_reports_changes_and_the_rollback(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    inventory = copy_inventory(the_lab, tmp_path / "inventory")

    def cut_off_hv02(hosts: dict[str, Any]) -> None:
        hosts["hv02"]["data"]["bridges"]["br0"].update(
            ipaddr="198.18.202.5", netmask="255.255.255.0", gateway="198.18.202.1"
        )

    edit_yaml(inventory / "hosts.yaml", cut_off_hv02)
    runbook = runbook_with_timeout(tmp_path / "runbook.yaml", 15)
    reports = tmp_path / "reports"
    done = cli("run", str(runbook), "-i", str(inventory), "--reports-dir", str(reports),
               "--state-dir", str(tmp_path / "state"))  # fmt: skip
    # hv01 and hv03 changed (2), hv02 rolled back (8 alone: no host failed).
    assert done.returncode == 2 | 8, done.stdout + done.stderr
    run_dir = only_run_dir(reports)
    hv01 = load_json(run_dir / "hosts" / "hv01.json")
    hv02 = load_json(run_dir / "hosts" / "hv02.json")
    validate(hv01)
    validate(hv02)
    assert hv01["status"] == "changed" and hv01["rollback"] is None
    assert any("+TYPE=Bridge" in change["diff"] for change in hv01["changes"])
    with the_lab.connect("hv01", state) as conn:
        assert {b: v["ports"] for b, v in hv01["facts"]["bridges"].items()} == brctl_ports(
            conn.run("brctl show").stdout
        )
    assert hv02["status"] == "rolled back"
    assert "could not reconnect and verify in time" in hv02["rollback"]["reason"]
    summary = load_json(run_dir / "summary.json")
    assert summary["exit_code"] == summary["bits"] == 10
    markdown = (run_dir / "hosts" / "hv02.md").read_text()
    assert "could not reconnect" in markdown
    assert (summary["counts"]["rolled_back"], summary["counts"]["failed"]) == (1, 0)
    assert [(c["step"], c["reverted"]) for c in hv02["changes"]] == [("push network files", True)]
    assert "### push network files (reverted)" in markdown
    assert str(RUNBOOK) not in done.stderr
