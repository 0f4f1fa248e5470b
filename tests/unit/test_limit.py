"""hvbridge.limit: --limit terms by name, glob, group and data, and every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from hvbridge.inventory import LoadedInventory, load_inventory
from hvbridge.limit import (
    DataTerm,
    GroupTerm,
    LimitError,
    LimitExpr,
    NameTerm,
    parse_limit,
    select,
)

# Not in name order, so that "inventory order" and "sorted" differ.
HOSTS_YAML = """\
hv10:
  hostname: 198.18.129.10
  groups: [rack2]
  platform: el7
  data:
    nics: {eth0: {hwaddr: "02:48:56:00:00:10"}}
    bridges:
      br0: {ports: [eth0], bootproto: dhcp}
hv01:
  hostname: 198.18.129.1
  groups: [rack1]
  data:
    nics: {eth0: {hwaddr: "02:48:56:00:00:01"}, eth1: {hwaddr: "02:48:56:00:01:01"}}
    bridges:
      br0: {ports: [eth0], bootproto: static, ipaddr: 198.18.129.1, prefix: 17}
      br1: {ports: [eth1], bootproto: static, ipaddr: 10.0.9.1, prefix: 24, defroute: false}
    guests:
      web.example.com: {interfaces: [{bridge: br1, mac: "52:54:00:48:00:01", model: e1000}]}
hv02:
  hostname: 198.18.129.2
  groups: [rack1]
  data:
    libvirt: {edit_mode: file, shutdown_timeout: 30}
hv03:
  hostname: 198.18.129.3
  groups: [lab]
db01:
  hostname: 198.18.130.1
"""

GROUPS_YAML = """\
lab:
  username: root
  platform: el6
rack1:
  groups: [lab]
rack2: {}
empty:
  groups: [lab]
"""

DEFAULTS_YAML = "data: {}\n"


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> LoadedInventory:
    directory: Path = tmp_path_factory.mktemp("limit")
    (directory / "hosts.yaml").write_text(HOSTS_YAML)
    (directory / "groups.yaml").write_text(GROUPS_YAML)
    (directory / "defaults.yaml").write_text(DEFAULTS_YAML)
    return load_inventory(directory)


def hosts(text: str | list[str], inventory: LoadedInventory) -> list[str]:
    return select(parse_limit(text), inventory)


# ---------------------------------------------------------------------------------------------
# Terms.


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("hv01", ["hv01"]),
        ("hv02,hv01", ["hv01", "hv02"]),
        (" hv02 , hv01 ", ["hv01", "hv02"]),
        ("hv0*", ["hv01", "hv02", "hv03"]),
        ("hv?0", ["hv10"]),
        ("hv[01][03]", ["hv10", "hv03"]),
        ("hv0[!1]", ["hv02", "hv03"]),
        ("*", ["hv10", "hv01", "hv02", "hv03", "db01"]),
        ("hv01,hv01,hv0[1]", ["hv01"]),
    ],
)
def test_names_and_globs(limit: str, expected: list[str], inventory: LoadedInventory) -> None:
    assert hosts(limit, inventory) == expected


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("@rack1", ["hv01", "hv02"]),
        # rack1 is a child of lab: its hosts are lab's too.
        ("@lab", ["hv01", "hv02", "hv03"]),
        ("@rack2", ["hv10"]),
        ("@rack2,@rack1", ["hv10", "hv01", "hv02"]),
    ],
)
def test_groups_with_inheritance(
    limit: str, expected: list[str], inventory: LoadedInventory
) -> None:
    assert hosts(limit, inventory) == expected


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("platform=el7", ["hv10"]),
        # Set by group lab for three hosts, a default for db01.
        ("platform=el6", ["hv01", "hv02", "hv03", "db01"]),
        ("platform!=el6", ["hv10"]),
        ("libvirt.edit_mode=file", ["hv02"]),
        # Nobody writes define: it is the model's default.
        ("libvirt.edit_mode=define", ["hv10", "hv01", "hv03", "db01"]),
        ("libvirt.edit_mode!=define", ["hv02"]),
        ("libvirt.shutdown_timeout=30", ["hv02"]),
        ("libvirt.shutdown_timeout=60", ["hv10", "hv01", "hv03", "db01"]),
        ("libvirt.restart_guests=false", ["hv10", "hv01", "hv02", "hv03", "db01"]),
        ("bridges.br0.bootproto=dhcp", ["hv10"]),
        # Hosts without br0 are among those whose br0 is not dhcp.
        ("bridges.br0.bootproto!=dhcp", ["hv01", "hv02", "hv03", "db01"]),
        ("bridges.br1.defroute=false", ["hv01"]),
        ("bridges.br0.defroute=true", ["hv10", "hv01"]),
        ("bridges.br0.mtu=null", ["hv10", "hv01"]),
        ("bridges.br1.ipaddr=10.0.9.1", ["hv01"]),
        ("bridges=br0", ["hv10", "hv01"]),
        ("bridges.br0.ports=eth0", ["hv10", "hv01"]),
        ("nics=eth1", ["hv01"]),
        ("guests=web.example.com", ["hv01"]),
        ("guests.web.example.com.interfaces.model=e1000", ["hv01"]),
        ("guests.web.example.com.interfaces.bridge=br1", ["hv01"]),
        ("name=db01", ["db01"]),
        ("connection.username=root", ["hv01", "hv02", "hv03"]),
        ("connection.port=22", ["hv10", "hv01", "hv02", "hv03", "db01"]),
        (" platform = el7 ", ["hv10"]),
    ],
)
def test_data_terms_with_defaults(
    limit: str, expected: list[str], inventory: LoadedInventory
) -> None:
    assert hosts(limit, inventory) == expected


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("@lab,&platform=el6", ["hv01", "hv02", "hv03"]),
        ("&platform=el6,@lab", ["hv01", "hv02", "hv03"]),
        ("@lab,!hv01", ["hv02", "hv03"]),
        ("!hv01,@lab", ["hv02", "hv03"]),
        ("!@lab", ["hv10", "db01"]),
        ("&@rack1", ["hv01", "hv02"]),
        ("!libvirt.edit_mode=file", ["hv10", "hv01", "hv03", "db01"]),
        ("hv*,!@rack2", ["hv01", "hv02", "hv03"]),
        ("@rack1,@rack2,&bridges=br0,!hv01", ["hv10"]),
        ("@lab,&hv0[12],&@rack1", ["hv01", "hv02"]),
        ("hv03,db01,hv01,!db01,!hv0[3]", ["hv01"]),
        ("hv01,&hv01,!nics=eth9", ["hv01"]),
    ],
)
def test_union_intersection_exclusion(
    limit: str, expected: list[str], inventory: LoadedInventory
) -> None:
    assert hosts(limit, inventory) == expected


def test_several_limit_options_add_up(inventory: LoadedInventory) -> None:
    assert hosts(["@rack1", "hv10", "!hv02"], inventory) == ["hv10", "hv01"]
    assert parse_limit(["@rack1", "!hv02"]).text == "@rack1,!hv02"


def test_parsed_expression() -> None:
    expr = parse_limit("hv0*, &@lab, !bridges.br0.bootproto!=dhcp, guests.a.b.interfaces.mac=x")
    assert expr == LimitExpr(
        "hv0*, &@lab, !bridges.br0.bootproto!=dhcp, guests.a.b.interfaces.mac=x",
        union=(NameTerm("hv0*"), DataTerm(("guests", "a.b", "interfaces", "mac"), "x")),
        intersect=(GroupTerm("lab"),),
        exclude=(DataTerm(("bridges", "br0", "bootproto"), "dhcp", negated=True),),
    )
    assert [str(term) for term in expr.terms] == [
        "hv0*",
        "guests.a.b.interfaces.mac=x",
        "@lab",
        "bridges.br0.bootproto!=dhcp",
    ]
    assert NameTerm("hv0*").is_glob
    assert not NameTerm("hv01").is_glob


def test_a_value_keeps_what_follows_its_first_equals_sign() -> None:
    assert parse_limit("nics.eth0.name=a=b").union == (DataTerm(("nics", "eth0", "name"), "a=b"),)


# ---------------------------------------------------------------------------------------------
# Errors found by parsing.


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("", "--limit is empty: give host names, globs, @groups or key=value"),
        (" , ", "--limit ' , ': term 1 '': empty"),
        ("hv01,,hv02", "--limit 'hv01,,hv02': term 2 '': empty (two commas in a row,"),
        ("hv01,", "--limit 'hv01,': term 2 '': empty"),
        ("&", "--limit '&': term 1 '&': '&' needs a term after it"),
        ("! ", "--limit '! ': term 1 '!': '!' needs a term after it"),
        ("!&hv01", "--limit '!&hv01': term 1 '!&hv01': one of & and ! per term"),
        ("!!hv01", "--limit '!!hv01': term 1 '!!hv01': one of & and ! per term"),
        ("hv 01", "--limit 'hv 01': term 1 'hv 01': not a host name, a glob, @group or key=value"),
        ("hv01;ls", "--limit 'hv01;ls': term 1 'hv01;ls': not a host name, a glob"),
        ("@", "--limit '@': term 1 '@': @ is followed by a group name (A-Z a-z 0-9 _ . -)"),
        ("@-lab", "--limit '@-lab': term 1 '@-lab': @ is followed by a group name"),
        ("=el6", "--limit '=el6': term 1 '=el6': key=value needs a key and a value"),
        ("platform=", "--limit 'platform=': term 1 'platform=': key=value needs a key and"),
        ("a..b=1", "--limit 'a..b=1': term 1 'a..b=1': 'a..b' is not a path such as libvirt"),
        (
            "platfrom=el6",
            "--limit 'platfrom=el6': term 1 'platfrom=el6': 'platfrom' is not a field of a host"
            " (did you mean 'platform'?)",
        ),
        (
            "libvirt.zzz=1",
            "--limit 'libvirt.zzz=1': term 1 'libvirt.zzz=1': 'zzz' is not a field in libvirt"
            " (fields: remove_default_network, edit_mode, restart_guests, shutdown_timeout,"
            " restart_timeout)",
        ),
        (
            "!libvirt.edit_mod=file",
            "--limit '!libvirt.edit_mod=file': term 1 '!libvirt.edit_mod=file': 'edit_mod' is"
            " not a field in libvirt (did you mean 'edit_mode'?)",
        ),
        (
            "bridges.br0.bootprot=dhcp",
            "term 1 'bridges.br0.bootprot=dhcp': 'bootprot' is not a field in bridges.br0"
            " (did you mean 'bootproto'?)",
        ),
        (
            "libvirt=file",
            "term 1 'libvirt=file': libvirt has several fields; name one: libvirt.remove_default",
        ),
        ("bridges.br0=x", "term 1 'bridges.br0=x': bridges.br0 has several fields; name one:"),
        (
            "guests.v1.interfaces=x",
            "term 1 'guests.v1.interfaces=x': guests.v1.interfaces has several fields; name one:"
            " guests.v1.interfaces.bridge,",
        ),
        (
            "guests.web.example.com=x",
            "term 1 'guests.web.example.com=x': 'example' is not a field in guests.web"
            " (fields: interfaces)",
        ),
        ("platform.x=1", "term 1 'platform.x=1': platform is a single value: it has no field 'x'"),
        (
            "bridges.br0.ports.x=1",
            "term 1 'bridges.br0.ports.x=1': bridges.br0.ports is a single value: it has no field",
        ),
        (
            "connection.password=x",
            "term 1 'connection.password=x': connection.password is a secret: it cannot select",
        ),
    ],
)
def test_parse_errors(limit: str, message: str) -> None:
    with pytest.raises(LimitError) as caught:
        parse_limit(limit)
    assert message in str(caught.value)


def test_parse_errors_are_all_reported() -> None:
    with pytest.raises(LimitError) as caught:
        parse_limit(["hv01,,@", "platfrom=el6"])
    assert str(caught.value).splitlines() == [
        "--limit 'hv01,,@,platfrom=el6': term 2 '': empty (two commas in a row, or a comma at"
        " an end)",
        "--limit 'hv01,,@,platfrom=el6': term 3 '@': @ is followed by a group name"
        " (A-Z a-z 0-9 _ . -)",
        "--limit 'hv01,,@,platfrom=el6': term 4 'platfrom=el6': 'platfrom' is not a field of"
        " a host (did you mean 'platform'?)",
    ]


def test_an_empty_list_is_empty() -> None:
    with pytest.raises(LimitError, match=r"^--limit is empty"):
        parse_limit([])


# ---------------------------------------------------------------------------------------------
# Errors found against the inventory.


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("hv99", "--limit 'hv99': no host 'hv99' in the inventory"),
        ("hv011", "--limit 'hv011': no host 'hv011' in the inventory (did you mean 'hv01'?)"),
        ("zzz", "--limit 'zzz': no host 'zzz' in the inventory"),
        ("lab", "--limit 'lab': 'lab' is a group, not a host: write @lab"),
        ("@lab,!hv1", "--limit '@lab,!hv1': no host 'hv1' in the inventory (did you mean"),
        ("hv3*", "--limit 'hv3*': 'hv3*' matches no host in the inventory"),
        ("@lab,!hv3*", "--limit '@lab,!hv3*': 'hv3*' matches no host in the inventory"),
        ("HV01", "--limit 'HV01': no host 'HV01' in the inventory (did you mean 'hv01'?)"),
        ("HV0*", "--limit 'HV0*': 'HV0*' matches no host in the inventory"),
        (
            "@rack3",
            "--limit '@rack3': no group 'rack3' in the inventory (groups: lab, rack1, rack2,"
            " empty)",
        ),
        ("@empty", "--limit '@empty' matches no host"),
        ("platform=el5", "--limit 'platform=el5' matches no host"),
        ("platform=EL6", "--limit 'platform=EL6' matches no host"),
        ("@rack1,&@rack2", "--limit '@rack1,&@rack2' matches no host"),
        ("hv01,!@lab", "--limit 'hv01,!@lab' matches no host"),
    ],
)
def test_select_errors(limit: str, message: str, inventory: LoadedInventory) -> None:
    with pytest.raises(LimitError) as caught:
        hosts(limit, inventory)
    assert str(caught.value).startswith(message)


def test_select_errors_are_all_reported(inventory: LoadedInventory) -> None:
    with pytest.raises(LimitError) as caught:
        hosts("hv01,hv99,&@nope,!x*", inventory)
    assert str(caught.value).splitlines() == [
        "--limit 'hv01,hv99,&@nope,!x*': no host 'hv99' in the inventory",
        "--limit 'hv01,hv99,&@nope,!x*': no group 'nope' in the inventory"
        " (groups: lab, rack1, rack2, empty)",
        "--limit 'hv01,hv99,&@nope,!x*': 'x*' matches no host in the inventory",
    ]
