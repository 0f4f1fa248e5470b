"""The controller's own files and ssh_config values, checked before any connection."""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest
import yaml

from hvbridge import ssh, sshfiles
from hvbridge.inventory import InventoryError, controller_problems, load_inventory
from hvbridge.validators import tcp_port

PROJECT = Path(__file__).resolve().parents[2]
SEED = PROJECT / "inventory" / "seed"
RUNBOOK = PROJECT / "runbooks" / "bridge-network.yaml"


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.Ed25519Key.from_private_key_file(str(_keygen(Path("/tmp"), "unit-host")))


_KEYS: dict[str, Path] = {}


def _keygen(directory: Path, name: str, passphrase: str = "") -> Path:
    """An ed25519 key made by ssh-keygen, as an operator's would be."""
    path = directory / f"hvbridge-test-{name}"
    if name not in _KEYS:
        for old in (path, path.with_suffix(".pub")):
            old.unlink(missing_ok=True)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(path)], check=True
        )
        _KEYS[name] = path
    return _KEYS[name]


def good_line(host: str, key: paramiko.PKey) -> str:
    return f"{host} {key.get_name()} {key.get_base64()}"


# -- known_hosts, line by line ------------------------------------------------------------------


def test_a_corrupt_known_hosts_line_is_named_by_file_and_line(
    tmp_path: Path, host_key: paramiko.PKey
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(
        "# comment\n\n"
        + good_line("198.18.129.1", host_key)
        + "\n198.18.129.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n"  # cut short
        + "198.18.129.3 ssh-ed25519\n"
        + "@revoked * "
        + host_key.get_name()
        + " "
        + host_key.get_base64()
        + "\n198.18.129.4 sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t\n"
    )
    # paramiko itself names neither: this is what a connection used to fail with.
    with pytest.raises(paramiko.hostkeys.InvalidHostKey):
        paramiko.HostKeys(str(known))
    assert sshfiles.known_hosts_problems(known) == [
        f"{known} line 4: the ssh-ed25519 key is not valid base64 (Incorrect padding)",
        f"{known} line 5: want `host[,host...] key-type base64-key`",
        f"{known} line 6: @revoked is not supported (paramiko ignores revocations, so the"
        " revoked key would be trusted: remove the key from the hosts' lines instead)",
    ]


def test_a_key_of_the_wrong_length_is_refused_not_skipped(
    tmp_path: Path, host_key: paramiko.PKey
) -> None:
    """Valid base64 that is no ed25519 key: paramiko skips the line, so the host's key
    would read as unknown rather than as a broken file."""
    known = tmp_path / "known_hosts"
    known.write_text("198.18.129.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAAQA=\n")
    (problem,) = sshfiles.known_hosts_problems(known)
    assert problem.startswith(f"{known} line 1: the ssh-ed25519 key cannot be read (")


def test_the_line_holding_a_hosts_key_is_found_hashed_or_not(
    tmp_path: Path, host_key: paramiko.PKey
) -> None:
    hashed = paramiko.HostKeys.hash_host("198.18.129.7")
    known = tmp_path / "known_hosts"
    known.write_text(
        good_line("other", host_key)
        + "\n"
        + good_line("a,198.18.129.2", host_key)
        + "\n"
        + good_line(hashed, host_key)
        + "\n"
    )
    assert sshfiles.known_hosts_problems(known) == []
    assert sshfiles.known_key_line(known, "198.18.129.2", "ssh-ed25519") == 2
    assert sshfiles.known_key_line(known, "198.18.129.7", "ssh-ed25519") == 3
    assert sshfiles.known_key_line(known, "198.18.129.7", "ssh-rsa") is None


# -- private keys -------------------------------------------------------------------------------


def test_key_files_that_cannot_be_used(tmp_path: Path) -> None:
    assert sshfiles.key_problem(_keygen(tmp_path, "plain")) is None
    assert sshfiles.key_problem(tmp_path / "absent") == "no such file"
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key\n")
    assert (sshfiles.key_problem(garbage) or "").startswith("not a private key paramiko can read")
    encrypted = _keygen(tmp_path, "encrypted", passphrase="correct horse")
    assert (sshfiles.key_problem(encrypted) or "").startswith("it is encrypted")


# -- ssh_config values through the inventory's grammar ------------------------------------------


def test_tcp_port_grammar() -> None:
    assert tcp_port("2222") == 2222
    for bad in ("0", "65536", "22x", "-1", "", " 22", "0x16"):
        with pytest.raises(ValueError, match="is not a TCP port"):
            tcp_port(bad)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Port 22x", "Host hv01: Port: '22x' is not a TCP port (1 to 65535)"),
        ("HostName -oProxyCommand=x", "Host hv01: HostName: '-oProxyCommand=x' is not a host"),
        ("User a;b", "Host hv01: User: 'a;b' is not a valid user name"),
        ("ProxyJump jump;x", "Host jump;x: HostName: 'jump;x' is not a host name"),
        ("ProxyJump root@-bad", "ProxyJump: not a jump host"),
    ],
)
def test_ssh_config_values_pass_the_inventory_grammar(
    tmp_path: Path, line: str, message: str
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(f"Host hv01\n    {line}\n")
    with pytest.raises(ssh.ConfigValueError) as caught:
        ssh.resolve("hv01", None, None, None, "el6", {"ssh_config": str(config)})
    assert str(caught.value).startswith(message), caught.value


def test_good_ssh_config_values_are_used(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host hv01\n    HostName 198.18.129.1\n    Port 2222\n    User ops\n    ProxyJump jump\n"
        "Host jump\n    HostName 198.18.0.2\n    User gate\n"
        "Host hv02\n    ProxyJump none\n"
    )
    target, options = ssh.resolve("hv01", None, None, None, "el6", {"ssh_config": str(config)})
    assert (target.host, target.port, target.user) == ("198.18.129.1", 2222, "ops")
    assert [str(hop) for hop in options.jump] == ["gate@198.18.0.2:22"]
    _, options = ssh.resolve("hv02", None, None, None, "el6", {"ssh_config": str(config)})
    assert options.jump == ()


# -- the whole inventory, as a run loads it ------------------------------------------------------


def inventory_with(tmp_path: Path, **extras: Any) -> Path:
    """The seed inventory, connecting with `extras` (and an empty ssh_config of its own)."""
    inventory = tmp_path / "inventory"
    shutil.copytree(SEED, inventory)
    config = tmp_path / "ssh_config"
    config.touch()
    hosts = yaml.safe_load((inventory / "hosts.yaml").read_text())
    hosts["kvm01"]["connection_options"] = {
        "hvbridge": {"extras": {"ssh_config": str(config), **extras}}
    }
    (inventory / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    return inventory


def test_controller_problems_name_each_file(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("10.0.112.39 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n")
    inventory = inventory_with(tmp_path, key_file=str(tmp_path / "id_none"), known_hosts=str(known))
    loaded = load_inventory(inventory)  # the model itself is fine
    assert controller_problems(loaded, ["kvm01"]) == [
        f"{tmp_path / 'id_none'}: SSH key: no such file (host kvm01)",
        f"{known} line 1: the ssh-ed25519 key is not valid base64 (Incorrect padding) (host kvm01)",
    ]
    with pytest.raises(InventoryError):
        loaded.check_controller(["kvm01"])


def test_a_missing_known_hosts_is_fine_only_with_accept_new(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    strict = load_inventory(inventory_with(tmp_path / "a", known_hosts=str(known)))
    (problem,) = controller_problems(strict, ["kvm01"])
    assert problem.startswith(f"{known}: known_hosts: no such file")
    lenient = load_inventory(
        inventory_with(tmp_path / "b", known_hosts=str(known), accept_new=True)
    )
    assert controller_problems(lenient, ["kvm01"]) == []


def test_a_bad_ssh_config_value_names_the_file(tmp_path: Path) -> None:
    inventory = inventory_with(tmp_path)
    (tmp_path / "ssh_config").write_text("Host 10.0.112.39\n    HostName -oProxyCommand=x\n")
    (problem,) = controller_problems(load_inventory(inventory), ["kvm01"])
    assert problem.startswith(f"{tmp_path / 'ssh_config'}: Host 10.0.112.39: HostName: ")


# -- through the CLI: exit 1, and nothing connected to -------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on this machine's loopback that the run must never connect to."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


def connected(sock: socket.socket) -> bool:
    """Whether a connection is waiting: the kernel completes it without accept()."""
    return bool(select.select([sock], [], [], 0.5)[0])


def run_cli(inventory: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable, "-m", "hvbridge.cli", "--project", str(PROJECT), "run", str(RUNBOOK),
        "-i", str(inventory), "--check", "--state-dir", str(tmp_path / "state"),
        "--reports-dir", str(tmp_path / "reports"),
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def loopback_inventory(tmp_path: Path, port: int, **extras: Any) -> Path:
    inventory = inventory_with(tmp_path, connect_timeout=1.0, **extras)
    hosts = yaml.safe_load((inventory / "hosts.yaml").read_text())
    hosts["kvm01"].update(hostname="127.0.0.1", port=port)
    (inventory / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    return inventory


def test_cli_refuses_a_corrupt_known_hosts_before_connecting(
    tmp_path: Path, listener: socket.socket, host_key: paramiko.PKey
) -> None:
    port = listener.getsockname()[1]
    key = _keygen(tmp_path, "client")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n")
    done = run_cli(
        loopback_inventory(tmp_path, port, key_file=str(key), known_hosts=str(known)), tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == (
        f"error: {known} line 1: the ssh-ed25519 key is not valid base64 (Incorrect padding)"
        " (host kvm01)\n"
    )
    assert not connected(listener)
    assert not (tmp_path / "reports").exists()
    # The same inventory with a readable known_hosts does connect: the check above is
    # what kept the run away.
    known.write_text(good_line(f"[127.0.0.1]:{port}", host_key) + "\n")
    again = run_cli(
        loopback_inventory(tmp_path / "again", port, key_file=str(key), known_hosts=str(known)),
        tmp_path / "again",
    )
    assert again.returncode == 4, again.stdout + again.stderr
    assert connected(listener)


def test_cli_refuses_a_missing_key_file_before_connecting(
    tmp_path: Path, listener: socket.socket, host_key: paramiko.PKey
) -> None:
    port = listener.getsockname()[1]
    known = tmp_path / "known_hosts"
    known.write_text(good_line(f"[127.0.0.1]:{port}", host_key) + "\n")
    missing = tmp_path / "id_missing"
    done = run_cli(
        loopback_inventory(tmp_path, port, key_file=str(missing), known_hosts=str(known)),
        tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == f"error: {missing}: SSH key: no such file (host kvm01)\n"
    assert not connected(listener)
