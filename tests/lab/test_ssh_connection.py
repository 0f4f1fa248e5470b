"""hvbridge.ssh against real sshd: hops, ssh_config, accept-new, big output, timeouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from hvbridge import lock
from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState
from hvbridge.lab.topology import JUMP_INNER_ADDR
from hvbridge.remote import run_dir, upload, write_all_atomic
from hvbridge.ssh import Connection, Endpoint, HostKeyError, SSHError, SSHOptions, resolve

from .conftest import LabFactory


@pytest.fixture(scope="module")
def lab(make_lab: LabFactory) -> tuple[Lab, LabState]:
    return make_lab(hosts=1, direct=False, libvirt=False, profile="modern")


def options(lab: Lab, **changes: object) -> SSHOptions:
    base: dict[str, object] = {
        "known_hosts": lab.paths.known_hosts,
        "key_filename": lab.paths.key,
        "jump": (Endpoint(lab.require_state().hosts["jump"].address),),
        "platform": "modern",
    }
    base.update(changes)
    return SSHOptions(**base)  # type: ignore[arg-type]


def test_two_hops_each_with_its_key_checked(lab: tuple[Lab, LabState], tmp_path: Path) -> None:
    the_lab, state = lab
    jump = state.hosts["jump"]
    known = tmp_path / "known_hosts"
    jump_key = next(
        line.split(" ", 1)[1]
        for line in the_lab.paths.known_hosts.read_text().splitlines()
        if line.startswith(jump.address + " ")
    )
    # The jump host reached again on its inner address: a second hop with its own entry.
    known.write_text(the_lab.paths.known_hosts.read_text() + f"{JUMP_INNER_ADDR} {jump_key}\n")
    hops = (Endpoint(jump.address), Endpoint(str(JUMP_INNER_ADDR)))
    with Connection(
        Endpoint(state.hosts["hv01"].address), options(the_lab, known_hosts=known, jump=hops)
    ) as conn:
        assert conn.run("hostname").stdout.strip() == "hv01"
    with pytest.raises(
        HostKeyError, match=f"jump host root@{JUMP_INNER_ADDR}:22: host key unknown"
    ):
        Connection(Endpoint(state.hosts["hv01"].address), options(the_lab, jump=hops)).open()


def test_ssh_config_supplies_hostname_key_known_hosts_and_proxyjump(
    lab: tuple[Lab, LabState],
) -> None:
    the_lab, _ = lab
    target, opts = resolve(
        "hv01", None, None, None, "modern", {"ssh_config": str(the_lab.paths.ssh_config)}
    )
    assert target == Endpoint(the_lab.require_state().hosts["hv01"].address, 22, "root")
    assert opts.jump == (Endpoint(the_lab.require_state().hosts["jump"].address),)
    assert opts.key_filename == the_lab.paths.key
    assert opts.known_hosts == the_lab.paths.known_hosts
    with Connection(target, opts) as conn:
        assert conn.run("hostname").stdout.strip() == "hv01"


def test_accept_new_records_unknown_keys_and_still_refuses_changed_ones(
    lab: tuple[Lab, LabState], tmp_path: Path
) -> None:
    the_lab, state = lab
    known = tmp_path / "known_hosts"
    target = Endpoint(state.hosts["hv01"].address)
    with Connection(target, options(the_lab, known_hosts=known, accept_new=True)) as conn:
        assert conn.run("hostname").ok
    recorded = sorted(line.split()[0] for line in known.read_text().splitlines())
    assert recorded == sorted([state.hosts["jump"].address, state.hosts["hv01"].address])
    with Connection(target, options(the_lab, known_hosts=known)) as conn:
        assert conn.run("hostname").ok
    # The same address now presenting another key (jump's key written for hv01): refused.
    hv01, jump = state.hosts["hv01"].address, state.hosts["jump"].address
    lines = known.read_text().splitlines()
    jump_key = next(line.split(" ", 1)[1] for line in lines if line.startswith(jump + " "))
    swapped = [f"{hv01} {jump_key}" if line.startswith(hv01 + " ") else line for line in lines]
    known.write_text("\n".join(swapped) + "\n")
    with pytest.raises(HostKeyError, match="host key CHANGED"):
        Connection(target, options(the_lab, known_hosts=known, accept_new=True)).open()


@pytest.mark.parametrize("first", ["stdout", "stderr"])
def test_large_stdout_and_stderr_do_not_deadlock(lab: tuple[Lab, LabState], first: str) -> None:
    """Either stream may fill its window while the other is being read."""
    the_lab, state = lab
    out = "head -c 3000000 /dev/zero | tr '\\0' o"
    err = "head -c 3000000 /dev/zero | tr '\\0' e >&2"
    both = f"{out}; {err}" if first == "stdout" else f"{err}; {out}"
    with the_lab.connect("hv01", state) as conn:
        result = conn.run(f"{both}; exit 3", timeout=60)
    assert result.exit_status == 3
    assert len(result.stdout) == 3_000_000 and set(result.stdout) == {"o"}
    assert len(result.stderr) == 3_000_000 and set(result.stderr) == {"e"}


def test_a_command_that_prints_nothing_for_a_while_is_waited_for(
    lab: tuple[Lab, LabState],
) -> None:
    the_lab, state = lab
    with the_lab.connect("hv01", state) as conn:
        result = conn.run("echo a; sleep 1.5; echo b >&2; sleep 1.5; echo c", timeout=5)
    assert (result.stdout, result.stderr, result.exit_status) == ("a\nc\n", "b\n", 0)


def test_command_timeout_is_an_error_naming_the_host(lab: tuple[Lab, LabState]) -> None:
    the_lab, state = lab
    with the_lab.connect("hv01", state) as conn, pytest.raises(SSHError, match="timed out after 1"):
        conn.run("sleep 5", timeout=1)


def test_sftp_session_is_reused(lab: tuple[Lab, LabState]) -> None:
    the_lab, state = lab
    with the_lab.connect("hv01", state) as conn:
        assert conn.sftp() is conn.sftp()


def test_a_sudo_user_runs_commands_and_writes_root_files(lab: tuple[Lab, LabState]) -> None:
    the_lab, state = lab
    target = Endpoint(state.hosts["hv01"].address, 22, "ops")
    path = "/etc/sysconfig/network-scripts/.hvbridge-sudo-test"
    with Connection(target, options(the_lab)) as conn:
        assert conn.run("id -un").stdout.strip() == "ops"
        with pytest.raises(SSHError, match="cannot write"):
            upload(conn, path, "X=1\n", 0o644)
    with Connection(target, options(the_lab, sudo=True)) as conn:
        assert conn.run("id -un").stdout.strip() == "root"
        upload(conn, path, "X=1\n", 0o644)
        assert (
            conn.run(f"stat -c '%U %a' {path}; cat {path}; rm {path}").stdout == "root 644\nX=1\n"
        )
        assert conn.run("ls /tmp/.hvbridge-* 2>/dev/null").stdout == ""


@pytest.mark.parametrize("user", ["root", "ops"])
def test_files_written_together_keep_the_old_ones_and_list_the_new(
    lab: tuple[Lab, LabState], user: str
) -> None:
    """One round trip renames every temp file; `before/` and `created` record the run."""
    the_lab, state = lab
    scripts = "/etc/sysconfig/network-scripts"
    old, new = f"{scripts}/ifcfg-hvtest-old", f"{scripts}/ifcfg-hvtest-new"
    run_id = f"test-{user}"
    with the_lab.connect("hv01", state) as root:
        root.run(f"printf 'OLD=1\\n' > {old}; rm -f {new}")
    target = Endpoint(state.hosts["hv01"].address, 22, user)
    with Connection(target, options(the_lab, sudo=user != "root")) as conn:
        write_all_atomic(conn, {old: "OLD=2\n", new: "NEW=1\n"}, run_id, 0o640)
    with the_lab.connect("hv01", state) as root:
        keep = run_dir(run_id)
        shown = root.run(
            f"stat -c '%U %a' {old} {new}; cat {old} {new} {keep}/before{old}"
            f" {keep}/created {keep}/saved; ls -A {scripts} | grep -c hvbridge-tmp;"
            f" ls /tmp/.hvbridge-* 2>&1;"
            f" rm -rf {old} {new} {keep}"
        ).stdout
    assert shown.splitlines()[:8] == [
        "root 640", "root 640", "OLD=2", "NEW=1", "OLD=1", new, old, "0",
    ]  # fmt: skip
    assert "No such file" in shown.splitlines()[8]


@pytest.mark.parametrize("user", ["root", "ops"])
def test_the_host_lock_is_the_same_over_sftp_and_the_shell(
    lab: tuple[Lab, LabState], user: str
) -> None:
    """root takes and releases the lock over SFTP, a sudo user through the shell: the
    same directory, holder and modes either way, and a held lock refused either way."""
    the_lab, state = lab
    me, other = lock.Holder.me(f"run-{user}"), lock.Holder.me("run-other")
    target = Endpoint(state.hosts["hv01"].address, 22, user)
    show = f"stat -c '%a %U' {lock.LOCK_DIR} {lock.HOLDER}; cat {lock.HOLDER}"
    with Connection(target, options(the_lab, sudo=user != "root")) as conn:
        assert lock.acquire(conn, me) is None
        with the_lab.connect("hv01", state) as root:
            assert root.run(show).stdout == f"755 root\n644 root\n{me.line()}\n"
            with pytest.raises(lock.LockError, match=f"locked by run run-{user} "):
                lock.acquire(root, other)
        lock.release(conn, other)  # not its lock: left alone
        with the_lab.connect("hv01", state) as root:
            assert root.run(f"cat {lock.HOLDER}").stdout == f"{me.line()}\n"
        lock.release(conn, me)
        assert conn.run(f"test -e {lock.LOCK_DIR}").exit_status == 1


def test_a_host_without_sftp_is_locked_through_the_shell(lab: tuple[Lab, LabState]) -> None:
    """No SFTP subsystem: a clear SSHError from sftp(), and the lock goes the shell's way."""
    the_lab, state = lab
    hup = "kill -HUP $(cat /run/sshd.pid) && sleep 1"
    with the_lab.connect("hv01", state) as root:
        assert root.run(f"sed -i 's/^Subsystem/#Subsystem/' /etc/ssh/sshd_config && {hup}").ok
    try:
        me = lock.Holder.me("run-no-sftp")
        with the_lab.connect("hv01", state) as conn:
            with pytest.raises(SSHError, match="cannot open SFTP"):
                conn.sftp()
            assert lock.acquire(conn, me) is None
            assert conn.run(f"cat {lock.HOLDER}").stdout == f"{me.line()}\n"
            lock.release(conn, me)
            assert conn.run(f"test -e {lock.LOCK_DIR}").exit_status == 1
    finally:
        with the_lab.connect("hv01", state) as root:
            root.run(f"sed -i 's/^#Subsystem/Subsystem/' /etc/ssh/sshd_config && {hup}")
    with the_lab.connect("hv01", state) as conn:
        assert conn.sftp() is not None
