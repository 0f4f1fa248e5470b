"""hvbridge.ssh: the parts that need no network (options, the socket on loopback)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hvbridge.hops import Hop
from hvbridge.ssh import SSHOptions, _cached, open_socket


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
        jump=(Hop("198.18.0.2"),),
    )
    text = repr(options)
    assert "s3cret" not in text
    assert "known_hosts" in text
    assert options.password == "s3cret"


def test_the_socket_has_nagle_off() -> None:
    """SSH's small request/answer packets must not wait for delayed ACKs."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with open_socket(Hop("127.0.0.1", port), 5.0) as sock:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert sock.getpeername() == ("127.0.0.1", port)


def test_a_refused_socket_raises_oserror() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    with pytest.raises(OSError):
        open_socket(Hop("127.0.0.1", port), 5.0)


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
