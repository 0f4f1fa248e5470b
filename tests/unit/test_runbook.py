"""Runbooks are checked whole before anything runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest

from hvbridge.hosttask import is_host_task
from hvbridge.runbook import RunbookError, load, load_tasks_module

PROJECT = Path(__file__).resolve().parents[2]
TASKS = PROJECT / "tasks"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "runbook.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["bridge-network.yaml"])
def test_project_runbooks_load(name: str) -> None:
    runbook = load(PROJECT / "runbooks" / name, TASKS)
    assert [s.task_name for s in runbook.steps] == [
        "network.render", "network.push", "network.apply", "bridge.verify", "facts.collect",
    ]  # fmt: skip
    assert runbook.steps[2].args == {"timeout": 120}
    assert runbook.steps[2].func.__name__ == "apply"


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("bridge.yaml", "libvirt.preflight", "facts.collect"),
        ("guests.yaml", "libvirt.preflight", "libvirt.verify"),
        ("remove-nat.yaml", "libvirt.preflight", "libvirt.restart_libvirtd"),
    ],
)
def test_every_project_runbook_loads(name: str, first: str, last: str) -> None:
    steps = load(PROJECT / "runbooks" / name, TASKS).steps
    assert (steps[0].task_name, steps[-1].task_name) == (first, last)


def test_every_problem_is_reported_with_step_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
- task: network.restart_everything
- name: apply
  task: network.apply
  args: {timeout: "soon", reboot: true}
- task: nosuch.thing
- task: network.push
  retries: 3
- task: network._private
""",
    )
    with pytest.raises(RunbookError) as caught:
        load(path, TASKS)
    message = str(caught.value)
    assert str(path) in message
    assert (
        "step 1 (network.restart_everything): task 'network.restart_everything':"
        " tasks/network.py has no task 'restart_everything'" in message
    )
    assert "step 2 (apply): args.reboot: unknown argument (takes: timeout, force)" in message
    assert "step 2 (apply): args.timeout: Input should be a valid integer (got 'soon')" in message
    assert "step 3 (nosuch.thing): task 'nosuch.thing': no module 'nosuch'" in message
    assert "step 4 (network.push): retries: unknown key" in message
    assert "step 5 (network._private): task 'network._private' is not MODULE.FUNCTION" in message


@pytest.mark.parametrize(
    ("timeout", "problem"),
    [
        (5, "Input should be greater than or equal to 10 (got 5)"),
        (3601, "Input should be less than or equal to 3600 (got 3601)"),
    ],
)
def test_task_arguments_are_checked_against_their_range(
    tmp_path: Path, timeout: int, problem: str
) -> None:
    path = write(
        tmp_path, f"- name: apply\n  task: network.apply\n  args: {{timeout: {timeout}}}\n"
    )
    with pytest.raises(RunbookError) as caught:
        load(path, TASKS)
    assert (
        str(caught.value) == f"{path}: invalid runbook:\n  step 1 (apply): args.timeout: {problem}"
    )
    for edge in (10, 3600):
        write(tmp_path, f"- task: network.apply\n  args: {{timeout: {edge}}}\n")
        assert load(path, TASKS).steps[0].args == {"timeout": edge}


def _numbers(func: Callable[..., Any]) -> dict[str, Any]:
    """The int and float parameters of `func`, bare or Annotated."""
    hints = get_type_hints(func, include_extras=True)
    hints.pop("return", None)
    return {
        name: hint
        for name, hint in hints.items()
        if (get_args(hint)[:1] or (hint,))[0] in (int, float)
    }


def test_every_number_a_task_takes_has_a_range() -> None:
    """A timeout or count without bounds lets a runbook through that fails on the host."""
    found = {}
    for module_path in sorted(TASKS.glob("*.py")):
        module = load_tasks_module(TASKS, module_path.stem)
        for name, func in vars(module).items():
            if name.startswith("_") or getattr(func, "__module__", None) != module.__name__:
                continue
            if not callable(func) or not is_host_task(func):
                continue
            for arg, hint in _numbers(func).items():
                infos = getattr(hint, "__metadata__", ())
                bounds = [bound for info in infos for bound in getattr(info, "metadata", [])]
                kinds = {type(b).__name__ for b in bounds}
                found[f"{module_path.stem}.{name}({arg})"] = kinds
    assert found == {
        "network.apply(timeout)": {"Ge", "Le"},
        "network.bridge(timeout)": {"Ge", "Le"},
    }


def test_a_bool_is_not_an_int(tmp_path: Path) -> None:
    path = write(tmp_path, "- task: network.apply\n  args: {timeout: true}\n")
    with pytest.raises(RunbookError, match=r"args\.timeout"):
        load(path, TASKS)


def test_engine_parameters_cannot_be_set(tmp_path: Path) -> None:
    path = write(tmp_path, "- task: network.render\n  args: {ctx: 1}\n")
    with pytest.raises(RunbookError, match=r"args\.ctx: unknown argument"):
        load(path, TASKS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "non-empty YAML list"),
        ("task: network.render\n", "non-empty YAML list"),
        ("- [1, 2]\n", "step 1: a step is a mapping"),
        ("- name: x\n", "task: required"),
        ("- task: network.render\n  args: [1]\n", "args: must be a mapping"),
        ("- task: [unclosed\n", "not valid YAML"),
    ],
)
def test_malformed_runbooks(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(RunbookError, match=expected.replace("[", r"\[")):
        load(write(tmp_path, text), TASKS)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="cannot read"):
        load(tmp_path / "nope.yaml", TASKS)


def test_tasks_are_not_imported_as_a_generic_tasks_package() -> None:
    load(PROJECT / "runbooks" / "bridge-network.yaml", TASKS)
    import sys

    assert "tasks" not in sys.modules or not hasattr(sys.modules["tasks"], "push")
    loaded = [name for name in sys.modules if name.startswith("hvbridge_project_tasks.")]
    assert any(name.endswith(".network") for name in loaded), loaded


def test_two_projects_tasks_of_one_name_are_two_modules(tmp_path: Path) -> None:
    """Keyed by the resolved directory, not by the module's name: the second project's
    tasks/t.py is its own, not the first one's from the cache."""
    loaded = []
    for project in ("one", "two"):
        tasks = tmp_path / project / "tasks"
        tasks.mkdir(parents=True)
        (tasks / "t.py").write_text(f"def which(task, ctx):\n    return {project!r}\n")
        loaded.append(load_tasks_module(tasks, "t"))
    first, second = loaded
    assert first is not second
    assert (first.which(None, None), second.which(None, None)) == ("one", "two")
    assert load_tasks_module(tmp_path / "one" / "tasks", "t") is first
