"""hvbridge.inventory.mask: secrets never shown, the inventory untouched."""

from __future__ import annotations

from pathlib import Path

from nornir.core.inventory import ConnectionOptions, Host

from hvbridge.inventory import (
    MASK,
    load_inventory,
    masked,
)
from tests.unit.inventory_support import (
    seed_host,
    write,
)

# --- secrets and side effects ----------------------------------------------------------------


def test_masked_hides_passwords_and_keeps_the_rest(tmp_path: Path) -> None:
    host = seed_host()
    host["password"] = "hunter2"
    host["groups"] = ["el6"]
    groups = {
        "el6": {
            "platform": "el6",
            "connection_options": {"hvbridge": {"password": "s3cret", "extras": {"sudo": True}}},
        }
    }
    loaded = load_inventory(write(tmp_path, {"kvm01": host}, groups))
    nornir_host = loaded.inventory.hosts["kvm01"]
    shown = masked(nornir_host)
    assert shown["password"] == MASK
    assert shown["connection_options"]["hvbridge"]["password"] == MASK
    assert shown["connection_options"]["hvbridge"]["extras"] == {"sudo": True}
    assert shown["data"]["bridges"]["br0"]["gateway"] == "10.0.112.1"
    assert shown["platform"] == "el6"
    text = repr(shown) + repr(loaded.summary())
    assert "hunter2" not in text and "s3cret" not in text
    assert loaded.summary()["kvm01"]["connection"]["password"] == MASK
    assert nornir_host.password == "hunter2", "masking copies; the inventory is untouched"


def test_masked_hides_key_material() -> None:
    extras = {
        "key_file": "~/.ssh/id_rsa",
        "key_passphrase": "pass",
        "inline": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...\n",
    }
    host = Host("kvm01", connection_options={"hvbridge": ConnectionOptions(extras=extras)})
    shown = masked(host)["connection_options"]["hvbridge"]["extras"]
    assert shown == {"key_file": "~/.ssh/id_rsa", "key_passphrase": MASK, "inline": MASK}
