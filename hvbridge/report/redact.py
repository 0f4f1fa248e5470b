"""Mask secrets in free text before it reaches a report.

Messages and diffs come from commands and files on the hosts. None of hvbridge's
tasks put a secret there, but a report is made to be handed around, so anything
shaped like key material or a password is masked on the way in, whatever step
produced it.
"""

from __future__ import annotations

import re

MASK = "********"

# A PEM private key of any kind (RSA, EC, OPENSSH, ENCRYPTED, ...). An END line that
# never comes (a truncated message) masks to the end of the text: a half key is a leak too.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
# password=..., password: ..., "password": "...", ssh_password = '...'; the name may
# carry a prefix or suffix (HVBRIDGE_SSH_PASSWORD, password_file is masked too: harmless).
_PASSWORD = re.compile(
    r"""(?P<key>\b\w*password\w*["']?)(?P<sep>[ \t]*[=:][ \t]*)"""
    r"""(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,;]+)""",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with private key blocks and password values replaced by a mask."""
    text = _PRIVATE_KEY.sub(
        lambda m: f"-----BEGIN {m[1]}PRIVATE KEY----- {MASK} -----END {m[1]}PRIVATE KEY-----",
        text,
    )
    return _PASSWORD.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)
