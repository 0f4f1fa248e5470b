"""hvbridge as a Nornir library, installed from its wheel: the README's script
(docs/examples/bridge_network.py) in a fresh venv outside the repository, on a lab
inventory, in check mode and then for real; the host checked apart from hvbridge.

The venv gets its dependencies from `.wheelhouse/` (filled by scripts/install): the
tests run in a network namespace of their own, without the package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

from .conftest import HostPlatform, LabFactory
from .rollout_support import PROJECT
from .test_lab_hypervisors import brctl_ports, ipv4_of

EXAMPLE = PROJECT / "docs" / "examples" / "bridge_network.py"
WHEELHOUSE = PROJECT / ".wheelhouse"
SCRIPTS = "/etc/sysconfig/network-scripts"
# What a copy of the repository to build from leaves out.
NOT_SOURCE = (".git", ".venv", ".lab", ".wheelhouse", ".hvbridge", "build", "reports",
              "artifacts", "*.egg-info", "__pycache__", ".*_cache")  # fmt: skip


@pytest.fixture(scope="module")
def platform() -> HostPlatform:
    """el6 hosts only: this module proves the installed library (the wheel, a plain Nornir
    script, the installed CLI), which is the same code on every platform; each platform's
    own rollout is proven by the platform-parametrized and per-platform modules. Its
    script's expectations (eth0, ifcfg files) are el6's."""
    return HostPlatform("el6")


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=1, direct=False, libvirt=False, profile="el6")


def run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """A command as a user runs it: nothing of the repository's on its path."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv's python, with hvbridge installed from a wheel built here."""
    assert WHEELHOUSE.is_dir() and any(WHEELHOUSE.glob("nornir-*.whl")), (
        f"{WHEELHOUSE} has no wheels: scripts/install fills it (pip download of hvbridge's"
        " dependencies and setuptools), as this test cannot reach the package index"
    )
    root = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info where it builds.
    source = root / "source"
    shutil.copytree(PROJECT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    offline = ["--no-index", "--find-links", str(WHEELHOUSE)]
    ok(run([sys.executable, "-m", "pip", "wheel", "-q", ".", "--no-deps", "-w", str(root),
            *offline], source))  # fmt: skip
    (wheel,) = root.glob("hvbridge-*.whl")
    ok(run([sys.executable, "-m", "venv", str(root / "venv")], root))
    python = root / "venv" / "bin" / "python"
    ok(run([str(python), "-m", "pip", "install", "-q", *offline, str(wheel)], root))
    return python


def test_the_wheel_installs_tasks_templates_and_runbooks_in_the_package(
    python: Path, tmp_path: Path
) -> None:
    out = ok(run([str(python), "-c", (
        "import sys, hvbridge, hvbridge.tasks.network as n; from hvbridge import shipped\n"
        "print(hvbridge.__file__); print(n.__file__); print(shipped.templates());"
        " print(shipped.runbooks()); print(sys.path)"
    )], tmp_path))  # fmt: skip
    package, network, templates, runbooks, path = out.splitlines()
    venv = python.parent.parent
    assert Path(package).is_relative_to(venv) and Path(network).is_relative_to(venv)
    assert (Path(templates) / "initscripts" / "ifcfg-bridge.j2").is_file()
    assert (Path(templates) / "report" / "report.html.j2").is_file()
    assert (Path(runbooks) / "bridge-network.yaml").is_file()
    assert str(PROJECT) not in path


def test_the_readme_script_in_check_mode_then_for_real(
    lab: tuple[Lab, LabState], python: Path, tmp_path: Path
) -> None:
    the_lab, state = lab
    inventory = str(the_lab.paths.inventory)
    (tmp_path / "bridge_network.py").write_text(EXAMPLE.read_text())

    checked = ok(run([str(python), "bridge_network.py", inventory, "--check"], tmp_path))
    # print_result's sentences, then the script's own lines from the Results' data.
    assert "check mode: would restart the network (guarded, 120s)" in checked
    assert f"hv01: would write {SCRIPTS}/ifcfg-br0, {SCRIPTS}/ifcfg-eth0" in checked
    assert "hv01: ['render', 'push', 'apply', 'verify', 'collect']; facts:" in checked
    with the_lab.connect("hv01", state) as conn:
        assert conn.run(f"test -e {SCRIPTS}/ifcfg-br0").exit_status == 1, "check mode wrote"
        assert "br0" not in brctl_ports(conn.run("brctl show").stdout)
        assert ipv4_of(conn, "eth0") == ["198.18.129.1/17"]

    done = ok(run([str(python), "bridge_network.py", inventory], tmp_path))
    assert "network restarted and verified in " in done
    assert f"hv01: wrote {SCRIPTS}/ifcfg-br0, {SCRIPTS}/ifcfg-eth0" in done
    assert "hv01: ['render', 'push', 'apply', 'verify', 'collect']; facts: {" in done
    assert "'device': 'br0'" in done
    with the_lab.connect("hv01", state) as conn:
        assert brctl_ports(conn.run("brctl show").stdout)["br0"] == ["eth0"]
        assert ipv4_of(conn, "br0") == ["198.18.129.1/17"]
        assert ipv4_of(conn, "eth0") == []

    # The installed command line, from a directory with no tasks/, templates/ or
    # runbooks/: the shipped runbook, tasks and report templates.
    facts = run([str(python.parent / "hvbridge"), "run", "runbooks/facts.yaml", "-i", inventory,
                 "--reports-dir", "reports"], tmp_path)  # fmt: skip
    assert facts.returncode == 0, facts.stdout + facts.stderr
    (html,) = (tmp_path / "reports").glob("*/report.html")
    assert "br0" in html.read_text() and "198.18.129.1/17" in html.read_text()
