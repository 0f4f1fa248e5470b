"""hvbridge.platforms ubuntu (netplan for systemd-networkd): hvbridge's own file rendered,
the files netplan reads and which of them configure a port, what is refused, DNS carried
to the bridge, the commands; pure, no network."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hvbridge import platforms
from hvbridge.inventory.models import HostData
from hvbridge.platforms.interfaces import MARK as DUMP_MARK
from hvbridge.platforms.netplan import MARK, OWN_FILE, effective, netplan_value
from hvbridge.render import RenderError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
UBUNTU = platforms.get("ubuntu")
OLD = "/etc/netplan/50-cloud-init.yaml"
CLOUD_INIT = """\
# This file is generated from information provided by the datasource.
network:
  version: 2
  ethernets:
    enp1s0:
      addresses: [198.18.129.1/17]
      routes:
        - to: default
          via: 198.18.128.1
      nameservers:
        addresses: [198.18.0.53]
        search: [lab.example]
"""
RENDERED = """\
# Written by hvbridge: edit the inventory, not this file.
network:
  version: 2
  renderer: networkd
  ethernets:
    enp1s0:
      dhcp4: false
  bridges:
    br0:
      interfaces: [enp1s0]
      macaddress: "02:48:56:00:00:01"
      dhcp4: false
      addresses: ["198.18.129.1/17"]
      routes:
        - to: default
          via: "198.18.128.1"
      parameters:
        stp: false
        forward-delay: 0
"""
WITH_DNS = RENDERED.replace(
    "    br0:\n",
    '    br0:\n      nameservers:\n        addresses: ["198.18.0.53"]\n'
    '        search: ["lab.example"]\n',
)

# cloud-init's port said nothing of router advertisements and had an IPv6 link-local
# address: networkd accepted them there, and on the bridge only when told.
WITH_DNS_RA = WITH_DNS.replace("    br0:\n", "    br0:\n      accept-ra: true\n")


def model(**bridge_changes: object) -> HostData:
    bridge: dict[str, object] = dict(
        ports=["enp1s0"], bootproto="static", ipaddr="198.18.129.1", netmask="255.255.128.0",
        gateway="198.18.128.1",
    )  # fmt: skip
    bridge.update(bridge_changes)
    return HostData.model_validate(
        {
            "platform": "ubuntu",
            "nics": {"enp1s0": {"hwaddr": "02:48:56:00:00:01"}},
            "bridges": {"br0": bridge},
        }
    )


def rendered(**bridge_changes: object) -> dict[str, str]:
    return UBUNTU.render(TEMPLATES, model(**bridge_changes))


def output(files: dict[str, str], head: str = "netplan.io 0.106-2+deb12u1\nactive\n") -> str:
    dump = "".join(f"{DUMP_MARK} file {p}\n{t}\n{DUMP_MARK} end\n" for p, t in files.items())
    return f"{head}{MARK}\n{dump}"


def test_the_bridge_is_rendered_with_el6_s_values_for_networkd() -> None:
    assert rendered() == {OWN_FILE: RENDERED}
    data = yaml.safe_load(RENDERED)["network"]
    assert data["bridges"]["br0"]["parameters"] == {"stp": False, "forward-delay": 0}
    dhcp = yaml.safe_load(rendered(bootproto="dhcp", defroute=False)[OWN_FILE])["network"]
    assert dhcp["bridges"]["br0"]["dhcp4"] is True
    assert dhcp["bridges"]["br0"]["dhcp4-overrides"] == {"use-routes": False}
    assert "routes" not in dhcp["bridges"]["br0"]
    stp = yaml.safe_load(rendered(stp=True, delay=4)[OWN_FILE])["network"]
    assert stp["bridges"]["br0"]["parameters"] == {"stp": True, "forward-delay": 4}
    assert UBUNTU.file_mode == 0o600


def test_values_netplan_would_misread_are_refused() -> None:
    assert netplan_value("02:48:56:00:00:01") == '"02:48:56:00:00:01"'
    for bad in ('a"b', "x y", "a\\b", "{x}"):
        with pytest.raises(RenderError, match="cannot be written safely to a netplan file"):
            netplan_value(bad)


def test_netplan_reads_one_file_per_name_the_last_directory_s() -> None:
    files = {
        "/lib/netplan/00-a.yaml": "x",
        "/etc/netplan/00-a.yaml": "y",
        "/run/netplan/10-b.yaml": "z",
        "/etc/netplan/10-b.yaml": "w",
        "/etc/netplan/20-c.yaml": "v",
    }
    assert effective(files) == {
        "/etc/netplan/00-a.yaml": "y",
        "/run/netplan/10-b.yaml": "z",
        "/etc/netplan/20-c.yaml": "v",
    }


def test_the_port_s_file_goes_whole_and_its_nameservers_go_to_the_bridge() -> None:
    foreign = "network:\n  ethernets:\n    eth1:\n      dhcp4: true\n"
    found = UBUNTU.preflight(
        "hv01", output({OLD: CLOUD_INIT, "/etc/netplan/60-s.yaml": foreign}), rendered(), {}
    )
    assert found.problems == ()
    assert found.displaced == (OLD,)
    assert dict(found.rewritten) == {OWN_FILE: WITH_DNS_RA}
    assert found.notes == ("netplan.io 0.106-2+deb12u1",)


def test_a_file_matching_the_port_by_mac_or_a_wildcard_is_the_port_s() -> None:
    by_mac = (
        "network:\n  ethernets:\n    nic0:\n      match:\n        macaddress: 02:48:56:00:00:01\n"
        "      set-name: enp1s0\n      dhcp4: true\n"
    )
    found = UBUNTU.preflight("hv01", output({OLD: by_mac}), rendered(), {})
    assert (found.problems, found.displaced) == ((), (OLD,))
    wildcard = (
        "network:\n  ethernets:\n    all:\n      match:\n        name: en*\n      dhcp4: true\n"
    )
    found = UBUNTU.preflight("hv01", output({OLD: wildcard}), rendered(), {})
    assert (found.problems, found.displaced) == ((), (OLD,))


def test_a_rerun_keeps_the_nameservers_and_takes_nothing() -> None:
    found = UBUNTU.preflight("hv01", output({OWN_FILE: WITH_DNS}), rendered(), {})
    assert found.problems == () and found.displaced == ()
    assert dict(found.rewritten) == {OWN_FILE: WITH_DNS}


IPV6_PORT = """\
network:
  version: 2
  ethernets:
    enp1s0:
      dhcp6: true
      accept-ra: false
      addresses: [198.18.129.1/17, "2001:db8::10/64"]
      gateway6: "2001:db8::1"
      routes:
        - to: default
          via: 198.18.128.1
        - to: "2001:db8:1::/48"
          via: "2001:db8::2"
          metric: 100
"""
WITH_IPV6 = RENDERED.replace(
    "    br0:\n",
    '    br0:\n      dhcp6: true\n      accept-ra: false\n      gateway6: "2001:db8::1"\n',
).replace(
    '      addresses: ["198.18.129.1/17"]\n      routes:\n',
    '      addresses: ["198.18.129.1/17", "2001:db8::10/64"]\n      routes:\n'
    '        - {"to": "2001:db8:1::/48", "via": "2001:db8::2", "metric": 100}\n',
)


def test_the_port_s_ipv6_goes_to_the_bridge_and_a_rerun_keeps_it() -> None:
    found = UBUNTU.preflight("hv01", output({OLD: IPV6_PORT}), rendered(), {})
    assert (found.problems, found.displaced) == ((), (OLD,))
    assert dict(found.rewritten) == {OWN_FILE: WITH_IPV6}
    bridge = yaml.safe_load(WITH_IPV6)["network"]["bridges"]["br0"]
    assert bridge["routes"][0] == {"to": "2001:db8:1::/48", "via": "2001:db8::2", "metric": 100}
    assert bridge["routes"][1] == {"to": "default", "via": "198.18.128.1"}
    again = UBUNTU.preflight("hv01", output({OWN_FILE: WITH_IPV6}), rendered(), {})
    assert dict(again.rewritten) == {OWN_FILE: WITH_IPV6}


def test_a_dhcp_bridge_gets_the_port_s_ipv6_addresses_as_a_list_of_its_own() -> None:
    port = 'network:\n  ethernets:\n    enp1s0:\n      addresses: ["2001:db8::10/64"]\n'
    found = UBUNTU.preflight("hv01", output({OLD: port}), rendered(bootproto="dhcp"), {})
    bridge = yaml.safe_load(found.rewritten[OWN_FILE])["network"]["bridges"]["br0"]
    assert bridge["addresses"] == ["2001:db8::10/64"]
    assert bridge["accept-ra"] is True and bridge["dhcp4"] is True


def test_a_port_without_an_ipv6_link_local_address_did_not_accept_ras() -> None:
    port = "network:\n  ethernets:\n    enp1s0:\n      link-local: []\n      dhcp4: true\n"
    found = UBUNTU.preflight("hv01", output({OLD: port}), rendered(), {})
    assert dict(found.rewritten) == {}


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (
            {OLD: CLOUD_INIT + "    eth1:\n      dhcp4: true\n"},
            f"hv01: {OLD} configures enp1s0 and also eth1: move enp1s0 to a file of its own"
            " first (hvbridge takes whole netplan files out of the way, never rewrites YAML it"
            " does not own)",
        ),
        (
            {
                OLD: CLOUD_INIT.replace(
                    "  version: 2\n", "  version: 2\n  renderer: NetworkManager\n"
                )
            },
            f"hv01: {OLD} hands devices to NetworkManager (renderer: NetworkManager): netplan"
            " rendered for NetworkManager is not supported, only for networkd",
        ),
        (
            {"/lib/netplan/50-x.yaml": CLOUD_INIT},
            "hv01: /lib/netplan/50-x.yaml comes with the system: override it in /etc/netplan",
        ),
        (
            {OLD: "network:\n  bridges:\n    br0:\n      dhcp4: true\n"},
            f"hv01: {OLD} also defines br0: remove it, hvbridge writes its own",
        ),
        ({OLD: "network: [\n"}, f"hv01: {OLD}: not YAML netplan reads"),
    ],
)
def test_what_hvbridge_will_not_rewrite_is_refused(files: dict[str, str], problem: str) -> None:
    found = UBUNTU.preflight("hv01", output(files), rendered(), {})
    assert len(found.problems) == 1 and found.problems[0].startswith(problem), found.problems
    assert found.displaced == () and dict(found.rewritten) == {}


def test_without_netplan_or_networkd_running_the_host_is_refused() -> None:
    missing = UBUNTU.preflight("hv01", output({}, "no netplan.io\ninactive\n"), rendered(), {})
    assert missing.problems == ("hv01: netplan does not answer (no netplan.io): is it installed?",)
    stopped = UBUNTU.preflight("hv01", output({}, "netplan.io 0.106\ninactive\n"), rendered(), {})
    assert stopped.problems == (
        "hv01: systemd-networkd is not running (systemctl is-active: inactive): refusing to"
        " change the host",
    )


def test_netplan_applies_and_the_revert_gives_it_the_new_files_as_its_previous_state() -> None:
    # Done when every bridge of our file is up (STP's listening and learning over), or 70 s.
    assert UBUNTU.network_command("restart") == (
        "{ netplan apply && i=0 && for b in $(sed -n '/^  bridges:/,$s/^    \\([^ ]*\\):$/\\1/p'"
        " /etc/netplan/90-hvbridge.yaml); do while [ $i -lt 700 ]"
        ' && [ "$(cat "/sys/class/net/$b/operstate" 2>/dev/null)" != up ];'
        " do sleep 0.1; i=$((i + 1)); done; done; }"
    )
    stop, start = UBUNTU.revert_commands()
    assert stop == (
        "rm -rf /run/hvbridge-netplan && mkdir -p /run/hvbridge-netplan/etc"
        " && cp -a /etc/netplan /run/hvbridge-netplan/etc/"
    )
    assert start == "netplan apply --state /run/hvbridge-netplan"
    assert UBUNTU.checkpoint("/var/lib/hvbridge/runs/x", 30) is None
    assert UBUNTU.service_command("libvirtd", "restart") == "systemctl restart libvirtd"
    assert UBUNTU.template_dirs == ("ubuntu", "netplan")
