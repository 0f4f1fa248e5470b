"""hvbridge.ssh: the parts that need no network (endpoints, options, the socket on loopback)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hvbridge.ssh import Endpoint, SSHOptions, _cached, open_socket


@pytest.mark.parametrize(
    ("text", "host", "port", "user"),
    [
        ("root@198.18.0.2:22", "198.18.0.2", 22, "root"),
        ("198.18.0.2", "198.18.0.2", 22, "root"),
        ("admin@jump.example:2222", "jump.example", 2222, "admin"),
        ("  jump.example:2200\n", "jump.example", 2200, "root"),
    ],
)
def test_parse(text: str, host: str, port: int, user: str) -> None:
    endpoint = Endpoint.parse(text)
    assert endpoint == Endpoint(host, port, user)
    assert (endpoint.host, endpoint.port, endpoint.username) == (host, port, user)


def test_parse_default_user() -> None:
    assert Endpoint.parse("198.18.0.2", default_user="ops").username == "ops"
    assert Endpoint.parse("admin@198.18.0.2", default_user="ops").username == "admin"


def test_str_round_trips() -> None:
    endpoint = Endpoint.parse("admin@jump.example:2222")
    assert str(endpoint) == "admin@jump.example:2222"
    assert Endpoint.parse(str(endpoint)) == endpoint
    assert str(Endpoint("198.18.0.2")) == "root@198.18.0.2:22"


@pytest.mark.parametrize("text", ["a b", "root@", "x;reboot", "$(id)", "", "@host", "`id`"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="jump host"):
        Endpoint.parse(text)


def test_el6_disables_rsa_sha2_signatures(tmp_path: Path) -> None:
    options = SSHOptions(known_hosts=tmp_path / "known_hosts", platform="el6")
    assert options.disabled_algorithms == {"pubkeys": ["rsa-sha2-512", "rsa-sha2-256"]}
    assert SSHOptions(known_hosts=tmp_path / "kh").disabled_algorithms == {
        "pubkeys": ["rsa-sha2-512", "rsa-sha2-256"]
    }, "el6 is the default platform"


@pytest.mark.parametrize("platform", ["el7", "modern"])
def test_other_platforms_disable_nothing(tmp_path: Path, platform: str) -> None:
    options = SSHOptions(known_hosts=tmp_path / "known_hosts", platform=platform)
    assert options.disabled_algorithms == {}


def test_repr_hides_the_password(tmp_path: Path) -> None:
    options = SSHOptions(
        known_hosts=tmp_path / "known_hosts",
        password="s3cret",
        jump=(Endpoint.parse("root@198.18.0.2:22"),),
    )
    text = repr(options)
    assert "s3cret" not in text
    assert "known_hosts" in text
    assert options.password == "s3cret"


@pytest.mark.parametrize("text", ["jump.example:0", "jump.example:65536", "root@198.18.0.2:65558"])
def test_parse_rejects_ports_outside_1_to_65535(text: str) -> None:
    # getaddrinfo() wraps ports modulo 65536: ":65558" would silently reach port 22.
    try:
        endpoint = Endpoint.parse(text)
    except ValueError:
        return
    pytest.fail(
        f"BUG: Endpoint.parse({text!r}) accepted port {endpoint.port}; a TCP port is 1-65535,"
        " and getaddrinfo() wraps larger ones modulo 65536 to a different, real port"
    )


@pytest.mark.parametrize("text", ["jump.example:", "jump.example:abc", "root@jump.example:22:33"])
def test_parse_rejects_a_malformed_port(text: str) -> None:
    try:
        endpoint = Endpoint.parse(text)
    except ValueError:
        return
    pytest.fail(
        f"BUG: Endpoint.parse({text!r}) gave host {endpoint.host!r} port {endpoint.port}:"
        " `:` is allowed inside the host, so a malformed port is folded into the host name"
        " instead of being refused"
    )


def test_parse_does_not_split_an_ipv6_address() -> None:
    try:
        endpoint = Endpoint.parse("::1")
    except ValueError:
        return
    assert (endpoint.host, endpoint.port) == ("::1", 22), (
        f"BUG: Endpoint.parse('::1') gave host {endpoint.host!r} port {endpoint.port}:"
        " the host grammar admits `:` but the last `:N` is always taken as the port"
    )


def test_the_socket_has_nagle_off() -> None:
    """SSH's small request/answer packets must not wait for delayed ACKs."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with open_socket(Endpoint("127.0.0.1", port), 5.0) as sock:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert sock.getpeername() == ("127.0.0.1", port)


def test_a_refused_socket_raises_oserror() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    with pytest.raises(OSError):
        open_socket(Endpoint("127.0.0.1", port), 5.0)


def test_a_file_is_parsed_again_only_when_it_changes(tmp_path: Path) -> None:
    """known_hosts and the key are read once for all of a run's connections."""
    path = tmp_path / "known_hosts"
    path.write_text("one\n")
    parsed: list[str] = []

    def parse(p: Path) -> str:
        parsed.append(p.read_text())
        return p.read_text()

    assert _cached(path, parse) == _cached(path, parse) == "one\n"
    assert parsed == ["one\n"]
    path.write_text("one\ntwo\n")  # accept-new appends a line
    assert _cached(path, parse) == "one\ntwo\n"
    assert parsed == ["one\n", "one\ntwo\n"]
