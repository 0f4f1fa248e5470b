"""The benchmark's expectation for a bridged debian or ubuntu lab host (bench/rollout.py's
expected_files) is hvbridge's own render of the host's data, with what its preflight makes
of the files the lab wrote: the NIC's stanzas taken out of /etc/network/interfaces (its DNS
and IPv6 carried to br0), netplan's file for the NIC taken away. If it drifted from that,
every run on those platforms would be reported failed, or a wrong one passed; and the
check must report a host whose files are not that (rolled back, never written)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2

from hvbridge import platforms
from hvbridge.inventory.models import HostData
from hvbridge.lab import ifupdown, networkd
from hvbridge.platforms.interfaces import INTERFACES
from hvbridge.platforms.interfaces import MARK as IFUPDOWN_MARK
from hvbridge.platforms.netplan import MARK as NETPLAN_MARK

ROOT = Path(__file__).resolve().parents[2]
OWN = {"debian": "/etc/network/interfaces.d/hvbridge", "ubuntu": "/etc/netplan/90-hvbridge.yaml"}


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_rollout", ROOT / "bench" / "rollout.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def lab_data(nic: str) -> dict[str, Any]:
    # What hvbridge.lab.inventory.hypervisor_data writes for a lab host.
    return {
        "nics": {nic: {"hwaddr": "02:48:56:00:00:2A"}},
        "bridges": {
            "br0": {
                "ports": [nic],
                "bootproto": "static",
                "ipaddr": "198.18.1.42",
                "netmask": "255.255.128.0",
                "gateway": "198.18.0.1",
                "defroute": True,
            }
        },
    }


def lab_files(platform: str) -> dict[str, str]:
    """The network files the lab writes for the host (hvbridge.lab.hostfiles)."""
    if platform == "debian":
        text = ifupdown.interfaces("eth0", "198.18.1.42/17", "198.18.0.1", ipv6=True)
        return {INTERFACES: text}
    return {
        networkd.NETPLAN_FILE: networkd.netplan_file("enp1s0", "198.18.1.42/17", "198.18.0.1"),
        networkd.FOREIGN_FILE: networkd.FOREIGN,
    }


def preflight_output(platform: str, files: dict[str, str]) -> str:
    """What the platform's preflight command prints on such a host (a dump of its files)."""
    mark = IFUPDOWN_MARK
    dump = "".join(f"{mark} file {path}\n{text}\n{mark} end\n" for path, text in files.items())
    if platform == "debian":
        return f"ifup version 0.8.41\n@@hvbridge-ifup@@\n{dump}"
    return f"netplan.io 0.106-2\nactive\n{NETPLAN_MARK}\n{dump}"


def test_the_bench_expects_what_hvbridge_writes_on_a_debian_lab_host() -> None:
    bench = bench_module()
    files = lab_files("debian")
    data = lab_data("eth0")
    expected = bench.expected_files(
        "debian", "hv42", data, files, preflight_output("debian", files)
    )
    platform = platforms.get("debian")
    rendered = platform.render(ROOT / "templates", HostData.model_validate(data))
    assert set(expected) == {INTERFACES, OWN["debian"]}
    # Our file: the render, with the old stanza's DNS and inet6 stanza carried to br0.
    assert expected[OWN["debian"]].startswith(rendered[OWN["debian"]])
    assert "dns-nameservers 198.18.0.53" in expected[OWN["debian"]]
    assert "iface br0 inet6 auto" in expected[OWN["debian"]]
    # The lab's file without eth0's stanzas, the rest (the storage NIC's) byte for byte.
    assert "iface eth0" not in expected[INTERFACES]
    assert expected[INTERFACES] != files[INTERFACES]
    assert expected[INTERFACES].endswith(ifupdown.FOREIGN_STANZA)


def test_the_bench_expects_what_hvbridge_writes_on_an_ubuntu_lab_host() -> None:
    bench = bench_module()
    files = lab_files("ubuntu")
    data = lab_data("enp1s0")
    expected = bench.expected_files(
        "ubuntu", "hv42", data, files, preflight_output("ubuntu", files)
    )
    platform = platforms.get("ubuntu")
    rendered = platform.render(ROOT / "templates", HostData.model_validate(data))
    # The NIC's netplan file gone, the storage one left, ours with the DNS carried.
    assert set(expected) == {networkd.FOREIGN_FILE, OWN["ubuntu"]}
    assert expected[networkd.FOREIGN_FILE] == networkd.FOREIGN
    assert expected[OWN["ubuntu"]] != rendered[OWN["ubuntu"]]
    assert 'addresses: ["198.18.0.53"]' in expected[OWN["ubuntu"]]
    assert "interfaces: [enp1s0]" in expected[OWN["ubuntu"]]


def test_the_check_reports_a_host_left_with_the_lab_files() -> None:
    bench = bench_module()
    for platform, nic in (("debian", "eth0"), ("ubuntu", "enp1s0")):
        files = lab_files(platform)
        said = preflight_output(platform, files)
        expected = bench.expected_files(platform, "hv42", lab_data(nic), files, said)
        assert bench.files_problem(expected, expected) == ""
        problem = bench.files_problem(files, expected)
        assert problem.startswith("network files differ from hvbridge's rendering (missing: ")
        assert OWN[platform] in problem


def test_the_bench_reads_back_the_files_its_dump_prints() -> None:
    bench = bench_module()
    files = lab_files("ubuntu")
    mark = bench.DUMP_MARK
    printed = "".join(f"{mark} file {path}\n{text}\n{mark} end\n" for path, text in files.items())
    assert bench.parse_dump(printed) == files


# el6: the bench's copy of the two ifcfg files (bench/rollout.py's Host.files, which the
# floors write too) and Ansible's templates must be byte for byte what hvbridge renders
# for a lab host, or every hvbridge run is reported failed (issue 16 added STP and DELAY
# to the bridge file, and every run was, until the bench followed).
SCRIPTS = "/etc/sysconfig/network-scripts"


def el6_render() -> dict[str, str]:
    return platforms.get("el6").render(
        ROOT / "templates", HostData.model_validate(lab_data("eth0"))
    )


def test_the_bench_expects_the_files_hvbridge_renders_for_an_el6_lab_host() -> None:
    host = bench_module().Host(
        "hv42", "198.18.1.42", 1, "02:48:56:00:00:2a", "198.18.1.42", "255.255.128.0",
        "198.18.0.1", 17,
    )  # fmt: skip
    assert host.files() == el6_render()


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
    rendered = el6_render()
    for name in ("br0", "eth0"):
        text = env.get_template(f"ifcfg-{name}.j2").render(**values)
        assert text == rendered[f"{SCRIPTS}/ifcfg-{name}"], name
