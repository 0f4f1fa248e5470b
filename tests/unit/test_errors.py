"""One exception root: every class hvbridge defines is under HvbridgeError, and the CLI
turns each into one line and exit 1 (what bare `ValueError` used to catch included)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import hvbridge
from hvbridge import cli
from hvbridge.errors import HostError, HvbridgeError, InputError, ParseError
from hvbridge.runbook import TASKS_PACKAGE, load_tasks_module

PROJECT = Path(__file__).resolve().parents[2]
SEED = PROJECT / "inventory" / "seed"
KINDS = (InputError, HostError, ParseError)


def _import_everything() -> None:
    """Every module of hvbridge/ and tasks/, so that each class they define exists."""
    for module in pkgutil.walk_packages(hvbridge.__path__, "hvbridge."):
        importlib.import_module(module.name)
    for path in sorted((PROJECT / "tasks").glob("*.py")):
        load_tasks_module(PROJECT / "tasks", path.stem)


def _subclasses(cls: type[BaseException]) -> Iterator[type[BaseException]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours() -> dict[str, type[BaseException]]:
    _import_everything()
    return {
        f"{cls.__module__}.{cls.__qualname__}": cls
        for cls in _subclasses(BaseException)
        if cls.__module__.split(".")[0] in ("hvbridge", TASKS_PACKAGE)
    }


def test_every_exception_class_of_hvbridge_and_tasks_is_under_the_root() -> None:
    ours = _ours()
    outside = sorted(name for name, cls in ours.items() if not issubclass(cls, HvbridgeError))
    assert outside == []
    # The walk sees the classes of the whole package, the lab's too.
    assert {"hvbridge.ssh.SSHError", "hvbridge.lab.lifecycle.LabError"} <= set(ours)


def test_every_exception_class_is_one_of_the_three_kinds() -> None:
    roots = {HvbridgeError, *KINDS}
    kindless = sorted(
        name for name, cls in _ours().items() if cls not in roots and not issubclass(cls, KINDS)
    )
    assert kindless == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("hvbridge.inventory.problems.InventoryError", InputError),
        ("hvbridge.runbook.RunbookError", InputError),
        ("hvbridge.runner.RunInputError", InputError),
        ("hvbridge.limit.LimitError", InputError),
        ("hvbridge.lab.fleet.PlatformSpecError", InputError),
        ("hvbridge.strategy.StrategyError", InputError),
        ("hvbridge.render.RenderError", InputError),
        ("hvbridge.report.render.ReportRenderError", InputError),
        ("hvbridge.lab.preflight.PreflightError", InputError),
        ("hvbridge.ssh.ConfigValueError", InputError),
        ("hvbridge.ssh.SSHError", HostError),
        ("hvbridge.ssh.HostKeyError", HostError),
        ("hvbridge.guards.GuardError", HostError),
        ("hvbridge.lock.LockError", HostError),
        ("hvbridge.virsh.VirshError", HostError),
        ("hvbridge.lab.lifecycle.LabError", HostError),
        ("hvbridge.lab.network_service.LiveStateError", HostError),
        ("hvbridge.netstate.ParseError", ParseError),
        ("hvbridge.platforms.ifcfg.IfcfgError", ParseError),
        ("hvbridge.domainxml.DomainXmlError", ParseError),
        ("hvbridge.report.schema.ReportSchemaError", ParseError),
    ],
)
def test_each_class_is_of_its_kind(name: str, kind: type[HvbridgeError]) -> None:
    assert issubclass(_ours()[name], kind)


@pytest.mark.parametrize(
    "name",
    [
        # Caught as ValueError by code that also catches the standard library's.
        "hvbridge.netstate.ParseError",
        "hvbridge.platforms.ifcfg.IfcfgError",
        "hvbridge.domainxml.DomainXmlError",
        "hvbridge.report.schema.ReportSchemaError",
        "hvbridge.runner.RunInputError",
        "hvbridge.strategy.StrategyError",
        "hvbridge.limit.LimitError",
        "hvbridge.runbook.RunbookError",
        "hvbridge.render.RenderError",
    ],
)
def test_the_value_errors_stay_value_errors(name: str) -> None:
    assert issubclass(_ours()[name], ValueError)


def test_the_errors_block_says_ours_in_one_line_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hvbridge.ssh import SSHError

    with pytest.raises(SystemExit) as exited, cli._errors():
        raise SSHError("hv02 (root@198.18.129.2): connection refused")
    assert exited.value.code == 1
    assert capsys.readouterr().err == "error: hv02 (root@198.18.129.2): connection refused\n"


def test_the_errors_block_leaves_a_bug_its_traceback() -> None:
    with pytest.raises(KeyError), cli._errors():
        raise KeyError("a bug")


def _cli(tmp_path: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(cli.main, ["--project", str(PROJECT), *args])
    escaped = None if isinstance(result.exception, SystemExit) else result.exception
    return result.exit_code, result.stderr, escaped


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("inventory", "show", "kvm99", "-i", str(SEED)), "error: no host 'kvm99' in "),
        (("tasks", "network.reboot"), "error: no task 'network.reboot'; have: "),
        (
            ("run", "runbooks/bridge.yaml", "-i", str(SEED), "--serial", "0"),
            "error: --serial: a count is at least 1, got 0",
        ),
        (
            ("run", "runbooks/bridge.yaml", "-i", str(SEED), "--limit", "platform="),
            "error: --limit 'platform=': term 1 'platform=': key=value needs a key and a value",
        ),
        (
            ("run", "runbooks/bridge.yaml", "-i", str(SEED), "--limit", "@rack9"),
            "error: --limit '@rack9': no group 'rack9'",
        ),
    ],
)
def test_input_errors_once_caught_as_value_error_still_exit_1_in_one_line(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    code, err, escaped = _cli(tmp_path, *args)
    assert escaped is None
    assert code == 1
    assert err.startswith(said)


def test_a_runbook_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    runbook = tmp_path / "latin1.yaml"
    runbook.write_bytes("- task: facts.collect\n  name: caf\xe9\n".encode("latin-1"))
    code, err, escaped = _cli(tmp_path, "run", str(runbook), "-i", str(SEED))
    assert escaped is None
    assert code == 1
    assert err.startswith(f"error: {runbook}: cannot read: 'utf-8' codec can't decode byte 0xe9")


def test_an_inventory_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    inventory = tmp_path / "inv"
    inventory.mkdir()
    for name in ("hosts.yaml", "groups.yaml", "defaults.yaml"):
        (inventory / name).write_bytes((SEED / name).read_bytes())
    (inventory / "groups.yaml").write_bytes(b"# caf\xe9\n" + (SEED / "groups.yaml").read_bytes())
    code, err, escaped = _cli(tmp_path, "inventory", "validate", "-i", str(inventory))
    assert escaped is None
    assert code == 1
    assert err.startswith(f"error: {inventory / 'groups.yaml'}: 'utf-8' codec can't decode")


def test_retry_failed_without_an_earlier_run_is_an_input_error(tmp_path: Path) -> None:
    code, err, escaped = _cli(
        tmp_path, "run", "runbooks/bridge.yaml", "-i", str(SEED),
        "--retry-failed", "--state-dir", str(tmp_path / "state"),
    )  # fmt: skip
    assert escaped is None
    assert code == 1
    assert err.startswith("error: --retry-failed: no earlier run of ")


def test_reports_that_cannot_be_rendered_leave_the_runs_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hvbridge.runner import RunOutcome

    # A project whose report template is broken: the run is over, its hosts were touched.
    (tmp_path / "templates" / "report").mkdir(parents=True)
    (tmp_path / "templates" / "report" / "summary.md.j2").write_text("{{ nothing_here }}\n")
    outcome = RunOutcome("R1", "bridge", False, {}, 1.0)
    with pytest.raises(SystemExit) as exited:
        cli._finish(outcome, tmp_path, tmp_path / "inv", tmp_path / "reports", False, False)
    assert exited.value.code == 0
    assert capsys.readouterr().err == (
        "error: the reports could not be written: report template summary.md.j2:"
        " 'nothing_here' is undefined\n"
    )
