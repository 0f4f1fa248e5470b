"""The benchmark checks every tool's work against the files hvbridge renders: its copy of
them (bench/rollout.py's Host.files, which the floors also write) and Ansible's templates
must stay byte for byte what hvbridge renders for a lab host, or every hvbridge run is
reported failed (issue 16 added STP and DELAY to the bridge file)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import jinja2

from hvbridge import platforms
from hvbridge.inventory.models import HostData

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = "/etc/sysconfig/network-scripts"


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_rollout", ROOT / "bench" / "rollout.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def lab_host_model() -> HostData:
    # What hvbridge.lab.inventory.hypervisor_data writes for an el6 lab host.
    return HostData.model_validate(
        {
            "nics": {"eth0": {"hwaddr": "02:48:56:00:00:2A"}},
            "bridges": {
                "br0": {
                    "ports": ["eth0"],
                    "bootproto": "static",
                    "ipaddr": "198.18.1.42",
                    "netmask": "255.255.128.0",
                    "gateway": "198.18.0.1",
                    "defroute": True,
                }
            },
        }
    )


def test_the_bench_expects_the_files_hvbridge_renders_for_a_lab_host() -> None:
    bench = bench_module()
    host = bench.Host(
        "hv42", "198.18.1.42", 1, "02:48:56:00:00:2a", "198.18.1.42", "255.255.128.0",
        "198.18.0.1", 17,
    )  # fmt: skip
    rendered = platforms.get("el6").render(ROOT / "templates", lab_host_model())
    assert host.files() == rendered


def test_ansible_templates_write_the_same_bytes() -> None:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "bench" / "ansible" / "templates")),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    values = {
        "eth0_hwaddr": "02:48:56:00:00:2a",
        "br0_ipaddr": "198.18.1.42",
        "br0_netmask": "255.255.128.0",
        "br0_gateway": "198.18.0.1",
    }
    rendered = platforms.get("el6").render(ROOT / "templates", lab_host_model())
    for name in ("br0", "eth0"):
        text = env.get_template(f"ifcfg-{name}.j2").render(**values)
        assert text == rendered[f"{SCRIPTS}/ifcfg-{name}"], name
