"""The one root of hvbridge's exceptions, and its three kinds.

Every exception hvbridge raises on purpose derives from `HvbridgeError` through one of:

- `InputError`: what the operator gave is wrong (inventory, runbook, command-line
  values, templates and other files on the controller). Found before any host is
  touched; the command line says it in one line and exits 1.
- `HostError`: something on a host or on the way to it (SSH, the host lock, the
  revert guard, virsh). It fails that host; the others go on.
- `ParseError`: output or files that could not be parsed (a command's output, a
  file read from a host).

Each module keeps its own class with its own name (`ssh.SSHError`, `runbook.RunbookError`)
under one of these, so that `except InputError` or `except HvbridgeError` catches them
all, and a message written for the operator is told apart from a bug (hvbridge.reasons).
Classes that code already catches as `ValueError` keep it as a second base.
"""

from __future__ import annotations

__all__ = ["HostError", "HvbridgeError", "InputError", "ParseError"]


class HvbridgeError(Exception):
    """An error hvbridge raises with a message meant for the operator."""


class InputError(HvbridgeError):
    """The input is wrong (inventory, runbook, command-line values, controller files);
    nothing was touched."""


class HostError(HvbridgeError):
    """Something on a host or its connection failed (SSH, lock, guard, virsh)."""


class ParseError(HvbridgeError):
    """Output or a file could not be parsed."""
