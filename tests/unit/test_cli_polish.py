"""The command line's own help per command, `--version` without the heavy imports,
`run --list-hosts`, `hvbridge tasks`, the runbook reference, and where the inventory
comes from."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hvbridge import rundir
from hvbridge.cli import main
from hvbridge.tasklist import tasks

PROJECT = Path(__file__).resolve().parents[2]
SEED = PROJECT / "inventory" / "seed"
RUNBOOK = PROJECT / "runbooks" / "bridge.yaml"
RANGES = Path(__file__).parent / "data" / "tasks_ranges"


def invoke(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--project", str(PROJECT), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def words(text: str) -> str:
    return " ".join(text.split())


def test_report_has_its_own_epilog_and_every_option_has_help() -> None:
    code, out, _ = invoke("report", "--help")
    assert code == 0
    assert "0 every host's facts were read" in words(out)
    assert "--retry-failed" not in out and "16 the failure budget" not in words(out)
    assert "--workers INTEGER RANGE Hosts read at once." in words(out)
    code, out, _ = invoke("run", "--help")
    assert "16 the failure budget stopped the rollout" in words(out)
    assert "--retry-failed runs the hosts whose newest run" in words(out)
    code, out, _ = invoke("demo", "--help")
    assert "--hosts INTEGER RANGE Number of lab hypervisors (hv01..hvNN)." in words(out)


def test_version_imports_neither_nornir_nor_paramiko_nor_rich() -> None:
    script = (
        "import sys\n"
        "from hvbridge.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = {'nornir', 'paramiko', 'rich', 'pydantic', 'jinja2'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    version, imported = done.stdout.splitlines()
    assert version == "hvbridge, version 0.1.0"
    assert imported == "[]"


def fleet(tmp_path: Path, count: int = 5) -> Path:
    """A valid inventory of `count` hosts k1..kN, shaped like the seed's."""
    inventory = tmp_path / "fleet"
    shutil.copytree(SEED, inventory)
    seed = yaml.safe_load((SEED / "hosts.yaml").read_text())["kvm01"]
    hosts = {}
    for n in range(1, count + 1):
        host = json.loads(json.dumps(seed))
        host["hostname"] = f"198.18.9.{n}"
        host["data"]["nics"]["eth0"]["hwaddr"] = f"02:00:00:00:00:0{n}"
        host["data"]["bridges"]["br0"]["ipaddr"] = f"10.0.112.{n + 10}"
        host["data"]["guests"]["v1"]["interfaces"][0]["mac"] = f"52:54:00:00:00:0{n}"
        hosts[f"k{n}"] = host
    (inventory / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    # A run checks the controller's files before anything else: they must exist.
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    groups = yaml.safe_load((inventory / "groups.yaml").read_text())
    groups["el6"]["connection_options"]["hvbridge"]["extras"]["known_hosts"] = str(known_hosts)
    (inventory / "groups.yaml").write_text(yaml.safe_dump(groups))
    return inventory


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("--list-hosts opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_connections")
def test_list_hosts_prints_the_batches_after_limit_and_connects_to_nothing(
    tmp_path: Path,
) -> None:
    inventory = fleet(tmp_path)
    code, out, err = invoke("run", str(RUNBOOK), "-i", str(inventory), "--list-hosts",
                            "--serial", "1,50%", "--limit", "k*,!k3")  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "batch 1/3: 1 host(s)",
        "  k1",
        "batch 2/3: 2 host(s)",
        "  k2",
        "  k4",
        "batch 3/3: 1 host(s)",
        "  k5",
    ]


@pytest.mark.usefixtures("no_connections")
def test_list_hosts_with_retry_failed_lists_the_hosts_that_did_not_end_ok(
    tmp_path: Path,
) -> None:
    inventory = fleet(tmp_path)
    states = tmp_path / "state"
    statuses = {"k1": "ok", "k2": "failed", "k3": "changed", "k4": "rolled back", "k5": "not run"}
    rundir.save(states, rundir.RunState("20260101T000000-aaaaaa", str(RUNBOOK.resolve()),
                                        str(inventory.resolve()), False, statuses))  # fmt: skip
    code, out, _ = invoke("run", str(RUNBOOK), "-i", str(inventory), "--state-dir", str(states),
                          "--retry-failed", "--list-hosts", "--limit", "!k5")  # fmt: skip
    assert code == 0
    assert out.splitlines() == [
        "retrying run 20260101T000000-aaaaaa: the hosts that did not end ok",
        "batch 1/1: 2 host(s)",
        "  k2",
        "  k4",
    ]


def test_list_hosts_refuses_bad_input_like_a_run(tmp_path: Path) -> None:
    code, out, err = invoke("run", str(RUNBOOK), "-i", str(fleet(tmp_path)), "--list-hosts",
                            "--limit", "k9")  # fmt: skip
    assert code == 1 and out == ""
    assert "--limit 'k9': no host 'k9'" in err


def test_tasks_lists_arguments_types_defaults_and_ranges(tmp_path: Path) -> None:
    shutil.copytree(RANGES, tmp_path / "tasks")
    result = CliRunner().invoke(main, ["--project", str(tmp_path), "tasks"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # The project's tasks extend the shipped ones, listed with them by name.
    assert lines[0].startswith("bridge.verify: ") and "network.apply: " in result.stdout
    assert lines[lines.index("polish_sizes.plain: No arguments at all.") :] == [
        "polish_sizes.plain: No arguments at all.",
        "    (no arguments)",
        "",
        "polish_sizes.resize: Grow a thing.",
        "    size: int  (required)  [1 to 64]  GiB",
        "    mode: 'fast' | 'safe' = 'safe'",
        "    ratio: float = 0.5  [> 0, < 1]",
        "    names: list[str] | None = None",
        "    label: str = 'x'  [length <= 15]",
        "    wait: int = 120  [10 to 3600]",
        "    `size`: how big.",
    ]


def test_tasks_lists_the_shipped_tasks_and_selects_by_name() -> None:
    code, out, _ = invoke("tasks")
    assert code == 0
    assert "network.apply: Restart the network (the platform's command) when this run" in out
    assert "network.push: Write the rendered files that differ" in out
    assert "    timeout: int = 120" in out and "libvirt.restart_libvirtd" in out
    code, out, _ = invoke("tasks", "network")
    assert code == 0 and out.startswith("network.apply: ") and "libvirt." not in out
    code, _, err = invoke("tasks", "network.reboot")
    assert code == 1
    assert "no task 'network.reboot'; have: bridge.verify," in err


def test_docs_runbooks_names_every_task_and_argument() -> None:
    doc = (PROJECT / "docs" / "runbooks.md").read_text()
    for info in tasks(PROJECT / "tasks"):
        assert f"`{info.name}`" in doc, info.name
        for argument in info.arguments:
            assert f"`{argument.name}`" in doc, f"{info.name}: {argument.name}"


def test_inventory_from_hvbridge_inventory() -> None:
    code, out, _ = invoke("inventory", "validate", env={"HVBRIDGE_INVENTORY": str(SEED)})
    assert (code, out.strip()) == (0, f"{SEED}: 1 host(s) valid")


def test_a_missing_default_inventory_says_how_to_give_one(tmp_path: Path) -> None:
    for args in (("inventory", "validate"), ("run", str(RUNBOOK), "--list-hosts")):
        result = CliRunner().invoke(main, ["--project", str(tmp_path), *args],
                                    env={"HVBRIDGE_INVENTORY": None})  # fmt: skip
        assert result.exit_code == 1
        message = words(result.stderr)
        assert f"the default {tmp_path / 'inventory'} has no hosts.yaml" in message
        assert "with -i DIR" in message and "or HVBRIDGE_INVENTORY=DIR" in message
