"""The wheel's layout: tasks/, templates/ and runbooks/ installed inside the package, and a
project's own directories first."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import hvbridge.tasks.network

from hvbridge import render, shipped
from hvbridge.runbook import load, locate, task_module, task_modules

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_under_hvbridge_is_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "hvbridge").rglob("__init__.py")
    }
    assert found <= listed, f"not in pyproject's packages: {sorted(found - listed)}"
    assert config["package-dir"] == {
        "hvbridge.tasks": "tasks", "hvbridge.templates": "templates",
        "hvbridge.runbooks": "runbooks",
    }  # fmt: skip


def test_the_shipped_directories_are_found_through_the_package() -> None:
    assert shipped.tasks() == (ROOT / "tasks").resolve()
    assert (shipped.templates() / "initscripts" / "ifcfg-bridge.j2").is_file()
    assert (shipped.runbooks() / "bridge.yaml").is_file()


def test_the_repository_as_project_gets_hvbridge_tasks_itself() -> None:
    assert task_module(ROOT / "tasks", "network") is hvbridge.tasks.network


def test_a_project_module_overrides_the_shipped_one_and_adds_its_own(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "network.py").write_text(
        "from nornir.core.task import Result, Task\n\n\n"
        "def render(task: Task) -> Result:\n    return Result(host=task.host, result='ours')\n"
    )
    (tasks / "extra.py").write_text(
        "from nornir.core.task import Result, Task\n\n\n"
        "def hello(task: Task) -> Result:\n    return Result(host=task.host)\n"
    )
    modules = task_modules(tasks)
    assert modules["network"] == tasks / "network.py" and modules["extra"] == tasks / "extra.py"
    assert modules["facts"] == shipped.tasks() / "facts.py"
    ours = task_module(tasks, "network")
    assert ours is not hvbridge.tasks.network and ours.__name__ in sys.modules
    runbook = tmp_path / "r.yaml"
    runbook.write_text("- task: network.render\n- task: extra.hello\n- task: facts.collect\n")
    steps = load(runbook, tasks).steps
    assert steps[0].func is ours.render
    assert steps[2].func is hvbridge.tasks.facts.collect  # type: ignore[attr-defined]


def test_a_project_template_overrides_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "initscripts").mkdir()
    (tmp_path / "initscripts" / "ifcfg-nic.j2").write_text("ours {{ name }}\n")
    assert render.render(tmp_path, ("initscripts",), "ifcfg-nic.j2", name="eth1") == "ours eth1\n"
    loader = render.environment(tmp_path, ("initscripts",), ()).loader
    assert loader is not None
    _, filename, _ = loader.get_source(render.environment(tmp_path, ("initscripts",), ()),
                                       "ifcfg-port.j2")  # fmt: skip
    assert filename == str(shipped.templates() / "initscripts" / "ifcfg-port.j2")


def test_the_readme_shows_the_python_api_script_verbatim() -> None:
    """The lab test runs docs/examples/bridge_network.py: the README shows that text."""
    example = (ROOT / "docs" / "examples" / "bridge_network.py").read_text()
    assert f"```python\n{example}```\n" in (ROOT / "README.md").read_text()


def test_a_runbook_is_the_projects_else_the_shipped_one(tmp_path: Path) -> None:
    assert locate(tmp_path, Path("runbooks/bridge.yaml")) == shipped.runbooks() / "bridge.yaml"
    assert locate(tmp_path, Path("facts.yaml")) == shipped.runbooks() / "facts.yaml"
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "bridge.yaml").write_text("- task: facts.collect\n")
    assert locate(tmp_path, Path("runbooks/bridge.yaml")) == tmp_path / "runbooks" / "bridge.yaml"
    # Anything else is as given, and a missing file says so when it is read.
    assert locate(tmp_path, Path("mine/x.yaml")) == tmp_path / "mine" / "x.yaml"
    assert locate(tmp_path, Path("runbooks/none.yaml")) == tmp_path / "runbooks" / "none.yaml"
