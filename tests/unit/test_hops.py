"""hvbridge.hops: one hop type and one grammar, used by the inventory and the connection;
a bare word in `jump` is an inventory host through plain Nornir as through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nornir.core.configuration import Config
from nornir.core.inventory import ConnectionOptions, Host, Hosts, Inventory
from nornir.core.plugins.connections import ConnectionPluginRegister

from hvbridge import ssh
from hvbridge.hops import Hop, inventory_hop, parse_hop
from hvbridge.inventory import load_inventory, validate_hosts
from hvbridge.runner import connection_params
from tests.unit.inventory_support import DATA

# --- the grammar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port", "user"),
    [
        ("root@198.18.0.2:22", "198.18.0.2", 22, "root"),
        ("198.18.0.2", "198.18.0.2", 22, None),
        ("admin@jump.example:2222", "jump.example", 2222, "admin"),
        ("jump.example:2200", "jump.example", 2200, None),
        ("ops@[2001:DB8::1]:2200", "2001:db8::1", 2200, "ops"),
    ],
)
def test_parse(text: str, host: str, port: int, user: str | None) -> None:
    hop = parse_hop(text)
    assert hop == Hop(host, port, user)
    assert (hop.host, hop.port, hop.user) == (host, port, user)


def test_a_hop_without_a_user_takes_the_targets() -> None:
    assert parse_hop("198.18.0.2").with_user("ops").user == "ops"
    assert parse_hop("admin@198.18.0.2").with_user("ops").user == "admin"
    assert Hop("198.18.0.2").user == "root", "hvbridge's own default"


def test_str_round_trips_and_labels() -> None:
    hop = parse_hop("admin@jump.example:2222")
    assert str(hop) == "admin@jump.example:2222"
    assert parse_hop(str(hop)) == hop
    assert str(Hop("198.18.0.2")) == "root@198.18.0.2:22"
    assert str(parse_hop("[2001:db8::1]:2200")) == "[2001:db8::1]:2200"
    assert Hop("198.18.0.2", 2222).short == "root@198.18.0.2:2222"
    assert Hop("198.18.0.2").short == "root@198.18.0.2"
    named = Hop("198.18.0.2", name="gw")
    assert (named.label, Hop("198.18.0.2").label) == ("gw", "root@198.18.0.2:22")
    assert named == Hop("198.18.0.2"), "a name is for messages: the same place, the same hop"


@pytest.mark.parametrize(
    "text",
    [
        "a b",
        "root@",
        "x;reboot",
        "$(id)",
        "",
        "@host",
        "`id`",
        "  jump.example:2200\n",
        "root@[1.2.3.4]:22",
        "a@b@c",
        "-oProxyCommand=x:22",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"jump host|IPv6"):
        parse_hop(text)


@pytest.mark.parametrize("text", ["jump.example:0", "jump.example:65536", "root@198.18.0.2:65558"])
def test_parse_rejects_ports_outside_1_to_65535(text: str) -> None:
    # getaddrinfo() wraps ports modulo 65536: ":65558" would silently reach port 22.
    with pytest.raises(ValueError, match="not between 1 and 65535"):
        parse_hop(text)


@pytest.mark.parametrize(
    "text", ["jump.example:", "jump.example:abc", "root@jump.example:22:33", "::1"]
)
def test_parse_rejects_a_malformed_port_or_a_bare_ipv6_address(text: str) -> None:
    with pytest.raises(ValueError, match="jump host"):
        parse_hop(text)


@pytest.mark.parametrize(
    ("hop", "canonical"),
    [
        ("gw", "gw"),
        ("root@198.18.0.2:22", "root@198.18.0.2:22"),
        ("root@198.18.0.2", "root@198.18.0.2:22"),
        ("198.18.0.2:2222", "198.18.0.2:2222"),
        ("admin@[2001:db8::1]:2200", "admin@[2001:db8::1]:2200"),
    ],
)
def test_inventory_hop_accepts(hop: str, canonical: str) -> None:
    assert str(inventory_hop(hop)) == canonical
    assert isinstance(inventory_hop(hop), str) == (canonical == "gw"), "a bare word is a name"


@pytest.mark.parametrize(
    "hop",
    ["", "@h", "root@", "root@h:", "root@h:0", "root@[1.2.3.4]:22", "ro ot@h", "h;x", "a@b@c"],
)
def test_inventory_hop_refuses(hop: str) -> None:
    with pytest.raises(ValueError):
        inventory_hop(hop)


# --- the connection reads the same grammar ----------------------------------------------------


def _resolve(tmp_path: Path, extras: dict[str, Any], config: str = "") -> tuple[Hop, Any]:
    (tmp_path / "ssh_config").write_text(config)
    return ssh.resolve(
        "198.18.129.1",
        "ops",
        None,
        22,
        "el6",
        {"ssh_config": str(tmp_path / "ssh_config"), **extras},
    )


def test_the_connection_takes_resolved_hops_and_written_ones(tmp_path: Path) -> None:
    target, options = _resolve(
        tmp_path, {"jump": [Hop("198.18.0.2", 2222, None, name="gw"), "admin@198.18.0.3"]}
    )
    assert target == Hop("198.18.129.1", 22, "ops")
    assert options.jump == (Hop("198.18.0.2", 2222, "ops"), Hop("198.18.0.3", 22, "admin"))
    assert ssh.Connection(target, options).label == "ops@198.18.129.1 via gw, admin@198.18.0.3:22"


def test_the_connection_refuses_a_bare_word_nothing_resolved(tmp_path: Path) -> None:
    """Never a DNS name: the same word is an inventory host through the CLI."""
    with pytest.raises(ssh.UnresolvedHopError, match="'gw' is the name of an inventory host"):
        _resolve(tmp_path, {"jump": ["gw"]})


def test_proxyjump_keeps_openssh_meaning(tmp_path: Path) -> None:
    config = (
        "Host 198.18.129.1\n    ProxyJump gw, admin@198.18.0.3:2200\n"
        "Host gw\n    HostName 198.18.0.2\n    User jumper\n"
    )
    _, options = _resolve(tmp_path, {}, config)
    assert options.jump == (Hop("198.18.0.2", 22, "jumper"), Hop("198.18.0.3", 2200, "admin"))
    assert options.via == ("gw", "admin@198.18.0.3:2200")


# --- one rule through plain Nornir and through the CLI ----------------------------------------


class _Recorded(Exception):
    pass


def _opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Hop, tuple[Hop, ...]]]:
    """What each connection would connect to, recorded instead of connecting."""
    ConnectionPluginRegister.auto_register()  # InitNornir does this: hvbridge's entry point
    seen: list[tuple[Hop, tuple[Hop, ...]]] = []

    def record(self: ssh.Connection) -> None:
        seen.append((self.target, self.hops))
        raise _Recorded

    monkeypatch.setattr(ssh.Connection, "open", record)
    return seen


def test_a_bare_word_jump_reaches_the_same_hops_through_plain_nornir_and_the_cli(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _opened(monkeypatch)
    # Plain Nornir on an inventory made in Python: validate, then Nornir's own connection.
    hosts = {
        "gw": Host("gw", hostname="198.18.0.2", port=2222, username="ops"),
        "hv01": Host(
            "hv01",
            hostname="198.18.129.1",
            username="root",
            connection_options={"hvbridge": ConnectionOptions(extras={"jump": ["gw"]})},
        ),
    }
    inventory = Inventory(hosts=Hosts(hosts))
    validate_hosts(inventory)
    with pytest.raises(_Recorded):
        inventory.hosts["hv01"].open_connection("hvbridge", Config())
    # The CLI on the same hosts, from files (tests/unit/inventory_data/jump).
    loaded = load_inventory(DATA / "jump")
    with pytest.raises(_Recorded):
        ssh.NornirConnection().open(**connection_params("hv01", loaded, None))
    nornir_path, cli_path = seen
    assert (
        nornir_path
        == cli_path
        == (
            Hop("198.18.129.1", 22, "root"),
            (Hop("198.18.0.2", 2222, "ops"),),
        )
    )


def test_without_validation_a_bare_word_jump_is_refused_not_looked_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _opened(monkeypatch)
    host = Host(
        "hv01",
        hostname="198.18.129.1",
        connection_options={"hvbridge": ConnectionOptions(extras={"jump": ["gw"]})},
    )
    with pytest.raises(ssh.UnresolvedHopError, match="validate_hosts"):
        host.open_connection("hvbridge", Config())
