"""The run's debug trace: what was done on each host, for whoever has to find out why.

`tracing(path)` writes every record of hvbridge's loggers at debug level, and the
warnings and errors of nornir and paramiko, to `path` (a run's `trace.log`) while a run
lasts: each connection with its hops and the algorithms negotiated, each command with
its exit status, duration and first lines of stderr, each SFTP operation, and the
traceback of every failed task (Nornir logs it; the run's own output gives the reason
in one line). `to_stderr()` shows the same on stderr (`--debug`). Secrets are masked in
both: the run's SSH password, $HVBRIDGE_SSH_PASSWORD, the inventory's passwords.

Handlers hang on the loggers themselves, so two runs in one process (a library user's
threads) each write both runs' records; the CLI runs one run per process.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

MASK = "********"
PASSWORD_ENV = "HVBRIDGE_SSH_PASSWORD"  # noqa: S105 (a variable name)
# How verbose each logger is while traced: nornir's info line for a run holds every
# host's state (its arguments); its errors hold the tracebacks.
LEVELS = {"hvbridge": logging.DEBUG, "paramiko": logging.INFO, "nornir": logging.WARNING}
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"

log = logging.getLogger(__name__)
_lock = threading.Lock()
_secrets: list[str] = []
_saved_levels: dict[str, int] = {}
_active = 0


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret replaced by MASK, longest first (one may contain another)."""
    env = os.environ.get(PASSWORD_ENV)
    for secret in sorted({*secrets, *([env] if env else [])}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


class MaskingFormatter(logging.Formatter):
    """The whole line masked, traceback included, with the secrets of the runs traced now."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        with _lock:
            secrets = list(_secrets)
        return mask(super().format(record), secrets)


def keep_libraries_off_the_terminal() -> None:
    """nornir and paramiko log failures as they see them (a traceback per failed task, a
    line per refused channel while a host restarts its network); the run's own output
    reports what matters, so their records go to the trace only."""
    for name in ("nornir", "paramiko"):
        library = logging.getLogger(name)
        library.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in library.handlers):
            library.addHandler(logging.NullHandler())


@contextmanager
def tracing(path: Path, secrets: Iterable[str | None] = ()) -> Iterator[Path]:
    """Everything traced goes to `path` (created or appended to) until the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    with _attached(handler, [s for s in secrets if s]):
        log.debug("trace: %s", path)
        yield path


@contextmanager
def to_stderr(stream: TextIO | None = None) -> Iterator[None]:
    """`--debug`: what the trace holds, on stderr as well."""
    with _attached(logging.StreamHandler(stream or sys.stderr), []):
        yield


@contextmanager
def _attached(handler: logging.Handler, secrets: list[str]) -> Iterator[None]:
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(MaskingFormatter())
    _enter(secrets)
    for name in LEVELS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield
    finally:
        for name in LEVELS:
            logging.getLogger(name).removeHandler(handler)
        handler.close()
        _leave(secrets)


def _enter(secrets: list[str]) -> None:
    """Lower each logger's level to what the trace needs (never raise it), once for all
    traces open at a time."""
    global _active
    with _lock:
        _secrets.extend(secrets)
        if _active == 0:
            for name, level in LEVELS.items():
                logger = logging.getLogger(name)
                _saved_levels[name] = logger.level
                if logger.getEffectiveLevel() > level:
                    logger.setLevel(level)
        _active += 1


def _leave(secrets: list[str]) -> None:
    global _active
    with _lock:
        for secret in secrets:
            _secrets.remove(secret)
        _active -= 1
        if _active == 0:
            for name, level in _saved_levels.items():
                logging.getLogger(name).setLevel(level)
            _saved_levels.clear()
