"""The command line: help that tells the truth, input errors before any host is touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hvbridge.cli import main

PROJECT = Path(__file__).resolve().parents[2]
SEED = PROJECT / "inventory" / "seed"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--project", str(PROJECT), *args])
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_the_commands_and_run_explains_exit_codes() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for command in ("run", "inventory", "lab", "demo"):
        assert f"  {command} " in out
    code, out, _ = invoke("run", "--help")
    assert code == 0
    assert "--check" in out and "--limit" in out and "--workers" in out and "--ask-pass" in out
    assert "8 a host was rolled back" in " ".join(out.split())


def test_inventory_validate_and_show_the_seed_example() -> None:
    code, out, _ = invoke("inventory", "validate", "-i", str(SEED))
    assert (code, out.strip()) == (0, f"{SEED}: 1 host(s) valid")
    code, out, _ = invoke("inventory", "show", "kvm01", "-i", str(SEED))
    shown = yaml.safe_load(out)
    assert code == 0
    assert shown["data"]["bridges"]["br0"]["ipaddr"] == "10.0.112.39"
    assert shown["data"]["nics"]["eth0"]["hwaddr"] == "44:37:E6:4A:62:AD"


def test_inventory_show_masks_the_password(tmp_path: Path) -> None:
    inventory = tmp_path / "inv"
    shutil.copytree(SEED, inventory)
    hosts = yaml.safe_load((inventory / "hosts.yaml").read_text())
    hosts["kvm01"]["password"] = "hunter2-secret"
    (inventory / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    code, out, _ = invoke("inventory", "show", "kvm01", "-i", str(inventory))
    assert code == 0
    assert "hunter2-secret" not in out
    assert "********" in out


def test_run_refuses_bad_input_with_exit_1(tmp_path: Path) -> None:
    runbook = tmp_path / "rb.yaml"
    runbook.write_text("- task: network.reboot\n")
    code, _, err = invoke("run", str(runbook), "-i", str(SEED))
    assert code == 1
    assert "tasks/network.py has no task 'reboot'" in err
    code, _, err = invoke(
        "run", "runbooks/bridge-network.yaml", "-i", str(SEED), "--limit", "kvm99"
    )
    assert code == 1
    assert "--limit 'kvm99': no host 'kvm99'" in err
    code, _, err = invoke("run", "runbooks/bridge-network.yaml", "-i", str(tmp_path / "none"))
    assert code == 1
    assert f"{tmp_path / 'none'}: not a directory" in err
    (tmp_path / "empty").mkdir()
    code, _, err = invoke("run", "runbooks/bridge-network.yaml", "-i", str(tmp_path / "empty"))
    assert code == 1
    assert "hosts.yaml" in err


def test_inventory_errors_name_file_host_and_field(tmp_path: Path) -> None:
    inventory = tmp_path / "inv"
    shutil.copytree(SEED, inventory)
    hosts = yaml.safe_load((inventory / "hosts.yaml").read_text())
    hosts["kvm01"]["data"]["bridges"]["br0"]["gateway"] = "10.0.9.1"
    hosts["kvm01"]["data"]["nics"]["eth0"]["hwaddr"] = "44:37:E6:4A:62:AD\nreboot"
    (inventory / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    code, _, err = invoke("inventory", "validate", "-i", str(inventory))
    assert code == 1
    assert "hosts.yaml: host kvm01: bridges.br0.gateway" in err
    assert "hosts.yaml: host kvm01: nics.eth0.hwaddr" in err


def test_inventory_validate_the_bonded_example_and_its_cross_checks(tmp_path: Path) -> None:
    bonded = PROJECT / "inventory" / "bonded"
    code, out, _ = invoke("inventory", "validate", "-i", str(bonded))
    assert (code, out.strip()) == (0, f"{bonded}: 1 host(s) valid")
    inventory = tmp_path / "inv"
    shutil.copytree(bonded, inventory)
    hosts = yaml.safe_load((inventory / "hosts.yaml").read_text())
    data = hosts["hv01"]["data"]
    data["bonds"]["bond0"]["lacp_rate"] = "fast"
    data["vlans"]["bond0.200"]["id"] = 300
    data["bridges"]["br200"]["ports"] = ["bond0.200", "eth1"]
    (inventory / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    code, out, err = invoke("inventory", "validate", "-i", str(inventory))
    where = f"{inventory}/hosts.yaml: host hv01"
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"error: {where}: bridges.br200.ports[1]: eth1 is already a slave of bond0",
        f"{where}: vlans.bond0.200.id: bond0.200 names VLAN 200, not 300: a PARENT.ID name must"
        " agree with parent and id",
        f"{where}: bonds.bond0.lacp_rate: only for mode 802.3ad (bond0 is active-backup): the"
        " driver would ignore it",
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("run", "--chek", "runbooks/bridge.yaml"), "No such option '--chek'"),
        (("run", "runbooks/bridge.yaml", "--workers", "0"), "'--workers': 0 is not in the range"),
        (
            ("run", "runbooks/bridge.yaml", "--max-fail-percentage", "200"),
            "'--max-fail-percentage': 200.0 is not in the range 0<=x<=100",
        ),
        (("run", str(PROJECT / "runbooks")), f"'{PROJECT / 'runbooks'}' is a directory"),
        (("report", "--workers", "x"), "'--workers': 'x' is not a valid integer"),
        (("no-such-command",), "No such command 'no-such-command'"),
    ],
)
def test_usage_errors_exit_1_not_click_s_2(args: tuple[str, ...], says: str) -> None:
    """Exit 2 means "something changed": a typo must never say that."""
    code, _, err = invoke(*args)
    assert code == 1, err
    assert says in err


def test_help_and_version_exit_0() -> None:
    assert invoke("--version")[0] == 0
    assert invoke("run", "--help")[0] == 0


def test_demo_help_says_it_exits_with_the_runs_bits() -> None:
    code, out, _ = invoke("demo", "--help")
    assert code == 0
    assert "2 when the lab was bridged (something changed)" in " ".join(out.split())
