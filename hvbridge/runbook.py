"""Runbooks: YAML lists of steps naming tasks: the project's `tasks/`, then hvbridge's own
(`hvbridge.tasks`); a project module overrides a shipped one of the same name.

```yaml
- name: restart the network, guarded
  task: network.apply          # tasks/network.py, function apply
  args: {timeout: 120}
  timeout: 300                 # this step may take at most 300 s on a host
```

or, with a rollout strategy, a mapping:

```yaml
serial: [1, 25%]               # a canary, then a quarter of the hosts at a time
max_fail_percentage: 10        # a batch with more than 10% failed stops the rollout
steps:
  - task: network.render
```

A runbook is checked whole before anything runs: every task must exist, every
argument must be one the task takes, with a value of the type it declares and
within the range its signature gives (`Annotated[int, Field(ge=10, le=3600)]`),
and every required argument must be given. Errors name the file, the step and the
field, all at once.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints

import pydantic
import yaml

from hvbridge import shipped
from hvbridge.errors import InputError
from hvbridge.strategy import Strategy, StrategyError, parse_max_fail, parse_serial

TASKS_PACKAGE = "hvbridge_project_tasks"
# Parameters the engine passes itself; a runbook may not set them.
ENGINE_PARAMS = frozenset({"task", "ctx"})
STEP_KEYS = frozenset({"name", "task", "args", "timeout"})
RUNBOOK_KEYS = frozenset({"steps", "serial", "max_fail_percentage"})


class RunbookError(InputError, ValueError):
    pass


@dataclass(frozen=True)
class Step:
    name: str
    task_name: str
    func: Callable[..., Any]
    args: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None


@dataclass(frozen=True)
class Runbook:
    path: Path
    steps: tuple[Step, ...]
    strategy: Strategy = field(default_factory=Strategy)

    @property
    def name(self) -> str:
        return self.path.stem


def _tasks_package(tasks_dir: Path) -> str:
    """The package a project's `tasks/` is loaded as: one per resolved directory, so that
    two projects' `tasks/t.py` in one process are two modules, not one cached twice."""
    resolved = tasks_dir.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    name = f"{TASKS_PACKAGE}.p{digest}"
    if TASKS_PACKAGE not in sys.modules:
        root = ModuleType(TASKS_PACKAGE)
        root.__path__ = []
        sys.modules[TASKS_PACKAGE] = root
    if name not in sys.modules:
        package = ModuleType(name)
        package.__path__ = [str(resolved)]
        sys.modules[name] = package
    return name


def load_tasks_module(tasks_dir: Path, module: str) -> ModuleType:
    """Import tasks/<module>.py from the project, under a name of our own.

    The project's `tasks/` is loaded the way Ansible loads a project's
    `library/`: from the project directory, never installed as a generic `tasks`.
    """
    qualified = f"{_tasks_package(tasks_dir)}.{module}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    path = tasks_dir / f"{module}.py"
    if not path.is_file():
        raise FileNotFoundError(path)
    spec = importlib.util.spec_from_file_location(qualified, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[qualified]
        raise
    return loaded


def task_modules(tasks_dir: Path) -> dict[str, Path]:
    """Every task module a runbook may name, and its file: the project's `tasks_dir` first,
    then the shipped ones it does not override."""
    found: dict[str, Path] = {}
    for directory in (tasks_dir, shipped.tasks()):
        for path in sorted(directory.glob("*.py")):
            if not path.stem.startswith("_"):
                found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def task_module(tasks_dir: Path, module: str) -> ModuleType:
    """Task module `module`: the project's when `tasks_dir` has it, else the shipped one.
    A project whose `tasks/` is the shipped directory (this repository) gets
    `hvbridge.tasks` itself, not a second copy of it."""
    path = task_modules(tasks_dir).get(module)
    if path is None:
        raise FileNotFoundError(tasks_dir / f"{module}.py")
    if path.parent.resolve() == shipped.tasks():
        return importlib.import_module(f"{shipped.TASKS}.{module}")
    return load_tasks_module(path.parent, module)


def _resolve(tasks_dir: Path, task_name: str) -> Callable[..., Any]:
    module, _, func_name = task_name.partition(".")
    if not module or not func_name or func_name.startswith("_") or not module.isidentifier():
        raise RunbookError(f"task {task_name!r} is not MODULE.FUNCTION (e.g. network.apply)")
    try:
        loaded = task_module(tasks_dir, module)
    except FileNotFoundError:
        available = ", ".join(task_modules(tasks_dir))
        raise RunbookError(
            f"task {task_name!r}: no module {module!r} in {tasks_dir} or hvbridge's own tasks"
            f" (have: {available})"
        ) from None
    func: Callable[..., Any] | None = getattr(loaded, func_name, None)
    if func is None or getattr(func, "__module__", None) != loaded.__name__:
        raise RunbookError(f"task {task_name!r}: tasks/{module}.py has no task {func_name!r}")
    return func


def _check_args(func: Callable[..., Any], args: dict[str, Any]) -> list[str]:
    signature = inspect.signature(func)
    # With the Annotated constraints (ranges), which the check enforces as well as types.
    hints = get_type_hints(func, include_extras=True)
    params = {n: p for n, p in signature.parameters.items() if n not in ENGINE_PARAMS}
    problems = [
        f"args.{name}: unknown argument (takes: {', '.join(params) or 'none'})"
        for name in args
        if name not in params
    ]
    for name, param in params.items():
        if name not in args:
            if param.default is inspect.Parameter.empty:
                problems.append(f"args.{name}: required")
            continue
        try:
            pydantic.TypeAdapter(hints.get(name, Any)).validate_python(args[name], strict=True)
        except pydantic.ValidationError as exc:
            message = exc.errors()[0]["msg"]
            problems.append(f"args.{name}: {message} (got {args[name]!r})")
    return problems


def _parse_step(tasks_dir: Path, index: int, raw: Any) -> tuple[Step | None, list[str]]:
    where = f"step {index + 1}"
    if not isinstance(raw, dict):
        return None, [f"{where}: a step is a mapping with task, and optionally name and args"]
    name = raw.get("name") or raw.get("task")
    where = f"step {index + 1} ({name})" if name else where
    problems = [f"{where}: {key}: unknown key" for key in raw if key not in STEP_KEYS]
    task_name = raw.get("task")
    args = raw.get("args") or {}
    if not isinstance(task_name, str):
        return None, [*problems, f"{where}: task: required, as MODULE.FUNCTION"]
    if not isinstance(args, dict):
        return None, [*problems, f"{where}: args: must be a mapping"]
    try:
        func = _resolve(tasks_dir, task_name)
    except RunbookError as exc:
        return None, [*problems, f"{where}: {exc}"]
    problems += [f"{where}: {p}" for p in _check_args(func, args)]
    timeout = raw.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout <= 86400
    ):
        problems.append(
            f"{where}: timeout: seconds, more than 0 and at most 86400 (got {timeout!r})"
        )
        timeout = None
    return Step(str(name), task_name, func, dict(args), timeout), problems


def locate(project: Path, path: Path) -> Path:
    """A runbook's file: `path` (under `project` when relative) when it exists, else the
    shipped runbook of that name (`runbooks/bridge.yaml` or `bridge.yaml`): a project's
    runbooks come first, and an installed hvbridge finds its own from any directory."""
    given = path if path.is_absolute() else project / path
    if given.exists() or path.is_absolute() or path.parent not in (Path(), Path("runbooks")):
        return given
    ours = shipped.runbooks() / path.name
    return ours if ours.is_file() else given


def load(path: Path, tasks_dir: Path) -> Runbook:
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RunbookError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RunbookError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RunbookError(f"{path}: not valid YAML: {exc}") from exc
    problems: list[str] = []
    strategy = Strategy()
    if isinstance(raw, dict):
        problems += [f"{key}: unknown key (have: {', '.join(sorted(RUNBOOK_KEYS))})"
                     for key in raw if key not in RUNBOOK_KEYS]  # fmt: skip
        try:
            strategy = Strategy(
                parse_serial(raw.get("serial"), f"{path}: serial"),
                parse_max_fail(raw.get("max_fail_percentage"), f"{path}: max_fail_percentage"),
            )
        except StrategyError as exc:
            problems.append(str(exc).removeprefix(f"{path}: "))
        raw = raw.get("steps")
    if not isinstance(raw, list) or not raw:
        raise RunbookError(
            f"{path}: a runbook is a non-empty YAML list of steps, or a mapping with steps"
        )
    steps: list[Step] = []
    for index, item in enumerate(raw):
        step, found = _parse_step(tasks_dir, index, item)
        problems += found
        if step is not None:
            steps.append(step)
    if problems:
        raise RunbookError(f"{path}: invalid runbook:\n" + "\n".join(f"  {p}" for p in problems))
    return Runbook(path, tuple(steps), strategy)
