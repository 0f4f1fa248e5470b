"""The el6 SSH profile: sshd offers only what EL6's OpenSSH 5.3 offers."""

from __future__ import annotations

import subprocess
import sys

import paramiko
import pytest

from hvbridge import platforms
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

from .conftest import HostPlatform, LabFactory


@pytest.fixture(scope="module")
def platform() -> HostPlatform:
    """el6 hosts only: the el6 profile is what EL6's OpenSSH 5.3 offers; an el7 host's sshd
    (OpenSSH 7.4) offers more whatever the lab's profile (test_trace.py and
    test_rollout_el6_and_jump.py run the el6 profile on el7 hosts too)."""
    return HostPlatform("el6")


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=1, direct=False, libvirt=False, profile="el6")


def openssh(the_lab: Lab, state: LabState, *options: str) -> subprocess.CompletedProcess[str]:
    """OpenSSH's client with its own (modern) defaults, straight to the jump host."""
    argv = [
        "ssh", "-F", "/dev/null", "-i", str(the_lab.paths.key),
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={the_lab.paths.known_hosts}", "-o", "ConnectTimeout=5",
        *options, f"root@{state.hosts['jump'].address}", "hostname",
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_a_client_offering_only_modern_algorithms_is_refused(lab: tuple[Lab, LabState]) -> None:
    the_lab, state = lab
    refused = openssh(the_lab, state)
    assert refused.returncode == 255
    assert "no matching" in refused.stderr
    # The same client, told to offer what OpenSSH 5.3 speaks, gets in.
    legacy = openssh(
        the_lab, state,
        "-o", "HostKeyAlgorithms=ssh-rsa", "-o", "PubkeyAcceptedAlgorithms=ssh-rsa",
        "-o", "KexAlgorithms=diffie-hellman-group14-sha1",
    )  # fmt: skip
    assert legacy.returncode == 0, legacy.stderr
    assert legacy.stdout.strip() == "jump"


def _paramiko_login(the_lab: Lab, address: str, disabled: dict[str, list[str]]) -> str:
    client = paramiko.SSHClient()
    client.load_host_keys(str(the_lab.paths.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            address, username="root", pkey=paramiko.PKey.from_path(the_lab.paths.key), timeout=10,
            allow_agent=False, look_for_keys=False, disabled_algorithms=disabled,
        )  # fmt: skip
        _, stdout, _ = client.exec_command("hostname")
        return stdout.read().decode().strip()
    finally:
        client.close()


def test_paramiko_needs_rsa_sha2_disabled_and_then_gets_in(lab: tuple[Lab, LabState]) -> None:
    the_lab, state = lab
    assert paramiko.__version__.startswith("4.")
    jump = state.hosts["jump"].address
    with pytest.raises(paramiko.AuthenticationException):
        _paramiko_login(the_lab, jump, {})
    el6 = platforms.get("el6").ssh_disabled_algorithms
    el6_disabled = {kind: list(names) for kind, names in el6.items()}
    assert _paramiko_login(the_lab, jump, el6_disabled) == "jump"


def test_el6_hypervisor_through_the_jump_host(lab: tuple[Lab, LabState]) -> None:
    the_lab, state = lab
    assert the_lab.ssh_options("hv01", state).disabled_algorithms == {
        "pubkeys": ["rsa-sha2-512", "rsa-sha2-256"]
    }
    with the_lab.connect("hv01", state) as conn:
        assert conn.run("hostname").stdout.strip() == "hv01"
        transport = conn._clients[-1].get_transport()
        assert transport is not None
        assert transport.host_key_type == "ssh-rsa"
        # Only what OpenSSH 5.3 offers could have been negotiated.
        assert transport.local_cipher in {"aes128-ctr", "aes192-ctr", "aes256-ctr"}
        assert transport.local_mac == "hmac-sha1"


def test_lab_ssh_reaches_an_el6_hypervisor_through_the_jump_host(lab: tuple[Lab, LabState]) -> None:
    the_lab, _ = lab
    argv = [sys.executable, "-m", "hvbridge.cli", "--lab-dir", str(the_lab.paths.root),
            "lab", "ssh", "hv01", "hostname"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hv01"
