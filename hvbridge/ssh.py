"""SSH to a hypervisor with paramiko: host keys checked, jump hosts, EL6 algorithms.

A connection is a chain of paramiko clients: one per jump hop, each carried in
a `direct-tcpip` channel of the one before, and the target last. Every hop's
host key is checked against the same known_hosts file; an unknown or changed
key is refused unless `accept_new` is set, and then only unknown keys are
recorded (OpenSSH's `StrictHostKeyChecking=accept-new`).

Every message names the host as the inventory does, with its address and hops
(`hv02 (root@198.18.129.2 via jump)`). The trace (logger `hvbridge.ssh`, see
hvbridge.trace) gets each connection with the algorithms negotiated, each command
with its exit status, duration and first lines of stderr, and each SFTP operation.
"""

from __future__ import annotations

import logging
import os
import select
import shlex
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import paramiko
from nornir.core.configuration import Config
from paramiko.hostkeys import InvalidHostKey

from hvbridge import jumps, platforms, sshfiles
from hvbridge.errors import HostError, InputError
from hvbridge.hops import DEFAULT_PORT, DEFAULT_USER, Hop, parse_hop
from hvbridge.validators import login_name, ssh_host, tcp_port

log = logging.getLogger(__name__)
# The first lines of a command's stderr the trace keeps: enough to see why it failed.
STDERR_LINES = 5


class SSHError(HostError):
    """A connection could not be made or used; the message says which host and why."""


class HostKeyError(SSHError):
    pass


# The lab and its tests call the target and each hop an Endpoint: the same type.
Endpoint = Hop


@dataclass(frozen=True)
class SSHOptions:
    known_hosts: Path
    key_filename: Path | None = None
    password: str | None = field(default=None, repr=False)
    jump: tuple[Hop, ...] = ()
    platform: str = platforms.DEFAULT
    connect_timeout: float = 10.0
    command_timeout: float = 120.0
    keepalive: int = 15
    accept_new: bool = False
    sudo: bool = False
    # The inventory's name for the host, and for each hop in `jump` (as the inventory
    # writes it): what messages call them.
    name: str | None = None
    via: tuple[str, ...] = ()

    @property
    def disabled_algorithms(self) -> dict[str, list[str]]:
        """The platform's (hvbridge.platforms): an old sshd refuses what paramiko tries first."""
        if self.platform not in platforms.names():
            # A hop outside the inventory's platforms (the lab's jump host): no limits.
            return {}
        disabled = platforms.get(self.platform).ssh_disabled_algorithms
        return {kind: list(names) for kind, names in disabled.items()}


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class _AcceptNewPolicy(paramiko.MissingHostKeyPolicy):
    """Record keys of hosts never seen; changed keys are still refused by paramiko."""

    def __init__(self, path: Path, lock: threading.Lock) -> None:
        self._path = path
        self._lock = lock

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        with self._lock:
            line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
            with self._path.open("a") as handle:
                handle.write(line)
        client.get_host_keys().add(hostname, key.get_name(), key)


_KNOWN_HOSTS_LOCK = threading.Lock()
_FILES: dict[tuple[Path, Callable[..., Any]], tuple[tuple[int, int], Any]] = {}
_FILES_LOCK = threading.Lock()
T = TypeVar("T")


def _host_keys(path: Path) -> paramiko.HostKeys:
    return paramiko.HostKeys(str(path))


def _cached(path: Path, parse: Callable[[Path], T]) -> T:
    """`parse(path)`, parsed again only when the file changed (its mtime or size): a run
    opens two connections per host, each of which would read the same known_hosts file
    and key."""
    status = path.stat()
    stamp = (status.st_mtime_ns, status.st_size)
    with _FILES_LOCK:
        hit = _FILES.get((path, parse))
    if hit is not None and hit[0] == stamp:
        return hit[1]  # type: ignore[no-any-return]
    parsed = parse(path)
    with _FILES_LOCK:
        _FILES[(path, parse)] = (stamp, parsed)
    return parsed


def _known_hosts_name(endpoint: Hop) -> str:
    return endpoint.host if endpoint.port == DEFAULT_PORT else f"[{endpoint.host}]:{endpoint.port}"


class Connection:
    """One SSH session to `target`, through `options.jump` hops; close() closes all."""

    def __init__(self, target: Hop, options: SSHOptions) -> None:
        # A hop written without a user logs in as the target does.
        self.target = target.with_user(DEFAULT_USER)
        user = self.target.user or DEFAULT_USER
        self.hops = tuple(hop.with_user(user) for hop in options.jump)
        self.options = options
        self._clients: list[paramiko.SSHClient] = []
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> Connection:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def label(self) -> str:
        """The host as messages name it: `hv02 (root@198.18.129.2 via jump)`."""
        hops = self.options.via or tuple(hop.label for hop in self.options.jump)
        where = self.target.short + (f" via {', '.join(hops)}" if hops else "")
        return f"{self.options.name} ({where})" if self.options.name else where

    def open(self) -> None:
        try:
            pool = jumps.active() if self.hops else None
            if pool is None:
                self._open_chain([*self.hops, self.target], None, self._clients)
            else:
                jump = self._shared_jump(pool)
                sock = self._tunnel(jump, self.hops[-1], self.target)
                # Numbered in the whole chain, as without sharing: the target is the last.
                self._open_chain([self.target], sock, self._clients, first=len(self.hops) + 1)
        except Exception as exc:
            log.debug("%s: connection failed: %s", self.label, exc)
            self.close()
            raise

    def _open_chain(
        self, hops: list[Hop], sock: Any, clients: list[paramiko.SSHClient], first: int = 1
    ) -> None:
        """Connect to each of `hops` in turn, each through the one before (the first
        through `sock`, else directly), appending each client to `clients`. The trace
        numbers each hop in the whole chain (jump hops, then the target), `first` being the
        number of `hops[0]`: a shared jump chain and the target are opened apart."""
        total = len(self.hops) + 1
        for index, hop in enumerate(hops):
            client = self._client(hop)
            clients.append(client)
            started = time.monotonic()
            self._connect(client, hop, sock)
            log.debug(
                "%s: hop %d/%d %s connected in %.3fs: %s", self.label, first + index, total,
                hop, time.monotonic() - started, _negotiated(client.get_transport()),
            )  # fmt: skip
            if index + 1 < len(hops):
                sock = self._tunnel(client, hop, hops[index + 1])

    def _shared_jump(self, pool: jumps.JumpPool) -> paramiko.SSHClient:
        """The last jump hop's client, from the run's pool: one login per jump chain for
        the whole run (hvbridge.jumps), its hops' keys checked when it is opened."""
        options = self.options
        disabled = sorted((kind, tuple(v)) for kind, v in options.disabled_algorithms.items())
        key = (
            self.hops, options.known_hosts, options.key_filename, options.password,
            options.accept_new, options.connect_timeout, options.keepalive, tuple(disabled),
        )  # fmt: skip

        def open_chain() -> list[paramiko.SSHClient]:
            clients: list[paramiko.SSHClient] = []
            try:
                self._open_chain(list(self.hops), None, clients)
            except BaseException:
                jumps.close_all(clients)
                raise
            return clients

        def alive(clients: Sequence[jumps.Client]) -> bool:
            last = clients[-1] if clients else None
            transport = last.get_transport() if isinstance(last, paramiko.SSHClient) else None
            return transport is not None and transport.is_active()

        try:
            clients, _ = pool.clients(key, self.label, open_chain, alive)
        except jumps.ChainFailed as failed:
            # Another host's attempt at the same chain: the same failure, told as this
            # host's (the opener's messages start with its own label).
            text = str(failed.error)
            if text.startswith(failed.opener):
                text = self.label + text[len(failed.opener) :]
            error = failed.error
            kind = type(error) if isinstance(error, SSHError) else SSHError
            raise kind(text) from error
        last = clients[-1]
        assert isinstance(last, paramiko.SSHClient)
        return last

    def _client(self, hop: Hop) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        known = self.options.known_hosts
        # The hop's own keys only, from the file parsed once per version of it.
        name = _known_hosts_name(hop)
        try:
            entry = _cached(known, _host_keys).lookup(name) if known.exists() else None
        except (InvalidHostKey, paramiko.SSHException, ValueError) as exc:
            # paramiko's own words (`Incorrect padding`) name no file and no line.
            problems = "; ".join(sshfiles.known_hosts_problems(known)) or str(exc)
            raise HostKeyError(f"{self._where(hop)}: cannot read known_hosts: {problems}") from exc
        if entry is not None:
            for key_type, key in entry.items():
                client.get_host_keys().add(name, key_type, key)
        if self.options.accept_new:
            client.set_missing_host_key_policy(_AcceptNewPolicy(known, _KNOWN_HOSTS_LOCK))
        else:
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
        return client

    def _connect(self, client: paramiko.SSHClient, hop: Hop, sock: Any) -> None:
        where = self._where(hop)
        try:
            if sock is None:
                sock = open_socket(hop, self.options.connect_timeout)
            client.connect(
                hop.host,
                port=hop.port,
                username=hop.user,
                pkey=self._pkey(),
                password=self.options.password,
                timeout=self.options.connect_timeout,
                banner_timeout=self.options.connect_timeout,
                auth_timeout=self.options.connect_timeout,
                channel_timeout=self.options.connect_timeout,
                sock=sock,
                allow_agent=False,
                look_for_keys=False,
                disabled_algorithms=self.options.disabled_algorithms,
                transport_factory=_Transport,
            )
        except paramiko.AuthenticationException as exc:
            raise SSHError(f"{where}: authentication failed: {exc}") from exc
        except paramiko.BadHostKeyException as exc:
            known = self.options.known_hosts
            line = sshfiles.known_key_line(known, _known_hosts_name(hop), exc.key.get_name())
            raise HostKeyError(
                f"{where}: host key CHANGED (the host offers {exc.key.get_name()}"
                f" {exc.key.fingerprint}, {known}{f' line {line}' if line else ''} has"
                f" {exc.expected_key.fingerprint}); refusing to connect"
            ) from exc
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise HostKeyError(
                    f"{where}: host key unknown (not in {self.options.known_hosts}); refusing to"
                    " connect. Add the key to known_hosts, or use accept-new to record it"
                ) from exc
            text = str(exc)
            if "banner" in text or "No existing session" in text:
                # paramiko's words for a server that accepted TCP but never spoke SSH.
                raise SSHError(
                    f"{where}: no SSH handshake within {self.options.connect_timeout:g}s"
                    " (timed out: the host accepts connections but sshd does not answer)"
                ) from exc
            raise SSHError(f"{where}: {text}") from exc
        except (OSError, EOFError) as exc:
            raise SSHError(f"{where}: cannot connect: {exc or type(exc).__name__}") from exc
        transport = client.get_transport()
        if transport is not None and self.options.keepalive:
            transport.set_keepalive(self.options.keepalive)

    def _pkey(self) -> paramiko.PKey | None:
        # Loaded here rather than by paramiko's key_filename, which tries every key
        # class in turn and then reports "Invalid key" instead of the real failure.
        path = self.options.key_filename
        if path is None:
            return None
        try:
            return _cached(path, paramiko.PKey.from_path)
        except (OSError, paramiko.SSHException, TypeError) as exc:
            # Found at load (hvbridge.sshfiles) unless the file changed since.
            why = sshfiles.key_problem(path) or exc
            raise SSHError(f"{self.label}: cannot load SSH key {path}: {why}") from exc

    def _tunnel(self, client: paramiko.SSHClient, hop: Hop, nxt: Hop) -> paramiko.Channel:
        transport = client.get_transport()
        if transport is None:
            raise SSHError(f"{self._where(hop)}: connection lost")
        try:
            return transport.open_channel(
                "direct-tcpip",
                (nxt.host, nxt.port),
                ("127.0.0.1", 0),
                timeout=self.options.connect_timeout,
            )
        except (paramiko.SSHException, OSError) as exc:
            # A refused channel's text is the jump host sshd's word ("Connect failed").
            why = exc.text if isinstance(exc, paramiko.ChannelException) else str(exc)
            raise SSHError(f"{self._where(nxt)}: jump host {hop} cannot reach it: {why}") from exc

    def _where(self, hop: Hop) -> str:
        if hop == self.target:
            return self.label
        index = self.hops.index(hop)
        name = self.options.via[index] if index < len(self.options.via) else hop.label
        return f"{self.label}: jump host {name}" + (f" ({hop})" if name != str(hop) else "")

    @property
    def uses_sudo(self) -> bool:
        return self.options.sudo and self.target.user != "root"

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run `command` on the target; stdout and stderr are drained together.
        With sudo (a non-root user), it runs as root through `sudo -n`."""
        timeout = self.options.command_timeout if timeout is None else timeout
        if self.uses_sudo:
            command = f"sudo -n -- sh -c {shlex.quote(command)}"
        transport = self._target_transport()
        started = time.monotonic()
        try:
            channel = transport.open_session(timeout=self.options.connect_timeout)
            try:
                channel.settimeout(timeout)
                channel.exec_command(command)
                stdout, stderr = _drain(channel, timeout)
                # Not recv_exit_status(): it waits forever on a connection closed under
                # it (a step timeout closes a hung host's connection from another thread).
                ended = channel.status_event.wait(timeout) and channel.exit_status_ready()
                # paramiko reports -1 for a channel closed without an exit status.
                if not ended or channel.exit_status == -1:
                    raise SSHError(f"{self._where(self.target)}: connection closed mid-command")
                status = channel.exit_status
            finally:
                channel.close()
        except TimeoutError as exc:
            self._trace(command, None, started, f"timed out after {timeout}s")
            raise SSHError(
                f"{self._where(self.target)}: command timed out after {timeout}s"
            ) from exc
        except (paramiko.SSHException, OSError, EOFError, SSHError) as exc:
            self._trace(command, None, started, str(exc or type(exc).__name__))
            if isinstance(exc, SSHError):
                raise
            raise SSHError(f"{self._where(self.target)}: {exc or type(exc).__name__}") from exc
        self._trace(command, status, started, stderr)
        return CommandResult(command, status, stdout, stderr)

    def _trace(self, command: str, status: int | None, started: float, stderr: str) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        lines = stderr.strip().splitlines()
        tail = "".join(f"\n  stderr: {line}" for line in lines[:STDERR_LINES])
        if len(lines) > STDERR_LINES:
            tail += f"\n  stderr: ... ({len(lines) - STDERR_LINES} more lines)"
        shown = command.replace("\n", "\n  | ")
        rc = "no exit status" if status is None else f"rc={status}"
        log.debug(
            "%s: run %s in %.3fs: %s%s", self.label, rc, time.monotonic() - started, shown, tail
        )

    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            try:
                self._sftp = _TracedSFTP.from_transport(self._target_transport())
            except (paramiko.SSHException, OSError, EOFError) as exc:
                raise SSHError(f"{self._where(self.target)}: cannot open SFTP: {exc}") from exc
            if self._sftp is None:
                raise SSHError(f"{self._where(self.target)}: cannot open SFTP")
            self._sftp.label = self.label
        return self._sftp

    def _target_transport(self) -> paramiko.Transport:
        transport = self._clients[-1].get_transport() if self._clients else None
        if transport is None or not transport.is_active():
            raise SSHError(f"{self._where(self.target)}: not connected")
        return transport

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        # Target first: each hop carries the one after it.
        for client in reversed(self._clients):
            client.close()
        self._clients.clear()


class _TracedSFTP(paramiko.SFTPClient):
    """paramiko's SFTP client, each operation in the trace with its duration."""

    label = "?"


def _traced(name: str) -> None:
    method = getattr(paramiko.SFTPClient, name)

    def call(self: _TracedSFTP, *args: Any, **kwargs: Any) -> Any:
        if not log.isEnabledFor(logging.DEBUG):
            return method(self, *args, **kwargs)
        started = time.monotonic()
        shown = ", ".join(repr(arg) for arg in args)
        try:
            result = method(self, *args, **kwargs)
        except Exception as exc:
            seconds = time.monotonic() - started
            log.debug("%s: sftp %s(%s) in %.3fs: %r", self.label, name, shown, seconds, exc)
            raise
        log.debug("%s: sftp %s(%s) in %.3fs", self.label, name, shown, time.monotonic() - started)
        return result

    call.__name__ = name
    setattr(_TracedSFTP, name, call)


# Everything hvbridge asks of SFTP; reads and writes of an open file are one open().
for _name in (
    "open", "stat", "lstat", "listdir", "listdir_attr", "chmod", "chown", "mkdir", "rmdir",
    "remove", "rename", "posix_rename",
):  # fmt: skip
    _traced(_name)


class _Transport(paramiko.Transport):
    """paramiko's transport, remembering the key exchange it agreed on (it keeps the
    other algorithms, but drops the key exchange once done)."""

    kex_name = "?"

    def _parse_kex_init(self, m: paramiko.Message) -> None:
        super()._parse_kex_init(m)  # type: ignore[misc]
        # By the name it was agreed under: not every engine says its own (curve25519,
        # what an EL7 or newer sshd agrees on, does not).
        engine = type(self.kex_engine)
        known: dict[str, type] = getattr(self, "_kex_info", {})
        self.kex_name = next(
            (name for name, kind in known.items() if kind is engine),
            str(getattr(self.kex_engine, "name", "?")),
        )


def _negotiated(transport: paramiko.Transport | None) -> str:
    """The algorithms a hop agreed on, for the trace: what an EL6 host accepted."""
    if transport is None:
        return "no transport"
    kex = getattr(transport, "kex_name", "?")
    return (
        f"kex {kex}, host key {getattr(transport, 'host_key_type', '?')},"
        f" cipher {getattr(transport, 'local_cipher', '?')},"
        f" mac {getattr(transport, 'local_mac', '?')},"
        f" server {getattr(transport, 'remote_version', '?')}"
    )


def open_socket(hop: Hop, timeout: float) -> socket.socket:
    """A TCP connection to `hop` with Nagle's algorithm off. SSH sends many small
    packets that each wait for an answer; with Nagle on, a small packet waits for the
    ACK of the one before, which the peer delays: ~40 ms lost per command (measured
    in the lab: `true` took 45 ms with it, 3 ms without)."""
    sock = socket.create_connection((hop.host, hop.port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        sock.close()
        raise
    return sock


def _drain(channel: paramiko.Channel, timeout: float) -> tuple[str, str]:
    """Read both streams to EOF, whichever has data, so neither can fill its window and
    stall the command. One thread: the channel's fileno() is readable when either
    stream has data or has ended. TimeoutError after `timeout` seconds without any."""
    out: list[bytes] = []
    err: list[bytes] = []
    while True:
        # Everything sent before the EOF (or the close) is buffered once it is seen.
        ended = channel.eof_received or channel.closed
        got = False
        while channel.recv_ready():
            out.append(channel.recv(65536))
            got = True
        while channel.recv_stderr_ready():
            err.append(channel.recv_stderr(65536))
            got = True
        if ended:
            break
        if not got and not select.select([channel], [], [], timeout)[0]:
            raise TimeoutError(f"no output for {timeout}s")
    return b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace")


CONNECTION_NAME = "hvbridge"
DEFAULT_SSH_CONFIG = Path("~/.ssh/config")
DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")


def ssh_config_path(path: str | None) -> Path | None:
    """The ssh_config file a host's connection reads: its own, else ~/.ssh/config if any."""
    config_path = Path(path).expanduser() if path else DEFAULT_SSH_CONFIG.expanduser()
    if not config_path.exists():
        if path:
            raise SSHError(f"ssh_config {config_path} does not exist")
        return None
    return config_path


def _ssh_config(path: str | None) -> paramiko.SSHConfig | None:
    config_path = ssh_config_path(path)
    return None if config_path is None else paramiko.SSHConfig.from_path(str(config_path))


class ConfigValueError(SSHError, InputError):
    """A value read from ssh_config fails the grammar the inventory's values pass."""


def _checked(check: Callable[[str], T], value: Any, key: str, host: str) -> T:
    """An ssh_config value through the inventory's own check for it."""
    try:
        return check(str(value))
    except ValueError as exc:
        raise ConfigValueError(f"Host {host}: {key}: {exc}") from None


class UnresolvedHopError(SSHError, InputError):
    """A jump hop names an inventory host that nothing resolved."""


def _inventory_hop(entry: object, user: str) -> Hop:
    """One hop of the inventory's `jump` (hvbridge.hops): a `Hop` (an inventory host
    resolved by hvbridge.inventory) or `[user@]host[:port]` text. A bare word is an
    inventory host's name, which only the inventory can resolve: never a DNS name."""
    if isinstance(entry, Hop):
        return entry.with_user(user)
    text = str(entry)
    if "@" not in text and ":" not in text:
        raise UnresolvedHopError(
            f"jump host {text!r} is the name of an inventory host, which the connection"
            " cannot look up: validate the inventory first (hvbridge.inventory.validate_hosts"
            " resolves it), or write a host outside the inventory as user@host or host:port"
        )
    try:
        return parse_hop(text).with_user(user)
    except ValueError as exc:
        raise ConfigValueError(f"jump: {exc}") from None


def _proxy_hop(spec: str, config: paramiko.SSHConfig, user: str) -> Hop:
    """A hop of ssh_config's ProxyJump; a bare name (`jump`) is a Host of that file, as in
    OpenSSH."""
    spec = spec.strip()
    if "@" in spec or ":" in spec:
        try:
            return parse_hop(spec).with_user(user)
        except ValueError as exc:
            raise ConfigValueError(f"ProxyJump: {exc}") from None
    found = config.lookup(spec)
    return Hop(
        _checked(ssh_host, found.get("hostname", spec), "HostName", spec),
        _checked(tcp_port, found.get("port", DEFAULT_PORT), "Port", spec),
        _checked(login_name, found.get("user", user), "User", spec),
        name=spec,
    )


def resolve(
    hostname: str,
    username: str | None,
    password: str | None,
    port: int | None,
    platform: str | None,
    extras: dict[str, Any],
) -> tuple[Hop, SSHOptions]:
    """Inventory values first, then the ssh_config file, then OpenSSH's defaults."""
    config = _ssh_config(extras.get("ssh_config"))
    found: dict[str, Any] = dict(config.lookup(hostname)) if config else {}
    # Inventory values were checked at load; what ssh_config adds is checked here.
    user = username or _checked(login_name, found.get("user", DEFAULT_USER), "User", hostname)
    target = Hop(
        _checked(ssh_host, found["hostname"], "HostName", hostname)
        if "hostname" in found
        else hostname,
        port or _checked(tcp_port, found.get("port", DEFAULT_PORT), "Port", hostname),
        user,
    )
    # What messages call each hop, when the caller knows better than the hops' own labels.
    via = tuple(str(name) for name in extras.get("via", ()))
    jump: tuple[Hop, ...]
    if extras.get("jump"):
        jump = tuple(_inventory_hop(entry, user) for entry in extras["jump"])
    else:
        proxy = str(found.get("proxyjump", ""))
        # OpenSSH's `ProxyJump none` undoes a ProxyJump of a wider Host block.
        specs = [spec for spec in proxy.split(",") if spec and proxy != "none"]
        jump = tuple(_proxy_hop(spec, config, user) for spec in specs) if config else ()
        via = tuple(spec.strip() for spec in specs)
    key = extras.get("key_file") or next(iter(found.get("identityfile", [])), None)
    known = extras.get("known_hosts") or next(
        iter(str(found.get("userknownhostsfile", "")).split()), None
    )
    options = SSHOptions(
        known_hosts=Path(known or DEFAULT_KNOWN_HOSTS).expanduser(),
        key_filename=Path(key).expanduser() if key else None,
        password=password,
        jump=jump,
        platform=platform or platforms.DEFAULT,
        connect_timeout=float(extras.get("connect_timeout", 10.0)),
        command_timeout=float(extras.get("command_timeout", 120.0)),
        accept_new=bool(extras.get("accept_new", False)),
        sudo=bool(extras.get("sudo", False)),
        name=extras.get("name"),
        via=via,
    )
    return target, options


class NornirConnection:
    """hvbridge's Nornir connection plugin (entry point `hvbridge`): a `Connection`."""

    def __init__(self) -> None:
        self._connection: Connection | None = None

    def open(
        self,
        hostname: str | None,
        username: str | None,
        password: str | None,
        port: int | None,
        platform: str | None,
        extras: dict[str, Any] | None = None,
        configuration: Config | None = None,
    ) -> None:
        if not hostname:
            raise SSHError("no hostname to connect to")
        target, options = resolve(hostname, username, password, port, platform, extras or {})
        connection = Connection(target, options)
        connection.open()
        self._connection = connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise SSHError("connection is not open")
        return self._connection


def password_from_env() -> str | None:
    """A site password comes from the environment (or a prompt), never the inventory."""
    return os.environ.get("HVBRIDGE_SSH_PASSWORD") or None
