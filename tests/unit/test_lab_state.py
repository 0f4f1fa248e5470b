"""hvbridge.lab.state: lab.json, which lets `down` find everything `up` made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvbridge.lab.state import STATE_VERSION, HostRecord, LabPaths, LabState, load, save


def _state() -> LabState:
    return LabState(
        hosts_count=2,
        direct=False,
        libvirt=True,
        profile="el6",
        domain_type="qemu",
        switches=["hvl-outer", "hvl-inner"],
        links=["hvl-jump-o", "hvl-jump-i", "hvl-hv01", "hvl-hv02"],
        hosts={
            "jump": HostRecord("jump", "198.18.0.2", "02:48:56:ff:00:01", False, init_pid=41),
            "hv01": HostRecord(
                "hv01", "198.18.129.1", "02:48:56:00:00:01", True, "52:54:00:48:00:01", 42
            ),
            "hv02": HostRecord("hv02", "198.18.129.2", "02:48:56:00:00:02", True),
        },
    )


def test_json_round_trip_keeps_hosts() -> None:
    state = _state()
    back = LabState.from_json(state.to_json())
    assert back == state
    assert isinstance(back.hosts["hv01"], HostRecord)
    assert back.hosts["hv01"].init_pid == 42
    assert back.hosts["hv01"].guest_mac == "52:54:00:48:00:01"
    assert back.hosts["hv02"].init_pid is None
    assert back.version == STATE_VERSION


def test_json_is_readable_by_anything() -> None:
    raw = json.loads(_state().to_json())
    assert raw["version"] == STATE_VERSION
    assert raw["hosts"]["jump"]["address"] == "198.18.0.2"
    assert raw["links"][0] == "hvl-jump-o"


def test_load_returns_none_without_a_state_file(tmp_path: Path) -> None:
    assert load(LabPaths(tmp_path)) is None
    assert load(LabPaths(tmp_path / "never-made")) is None


def test_save_then_load(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path)
    save(paths, _state())
    assert paths.state == tmp_path / "lab.json"
    assert load(paths) == _state()


def test_save_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path)
    save(paths, _state())
    updated = _state()
    updated.hosts["hv02"].init_pid = 43
    save(paths, updated)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.json"]
    loaded = load(paths)
    assert loaded is not None
    assert loaded.hosts["hv02"].init_pid == 43


def test_a_failed_save_keeps_the_previous_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = LabPaths(tmp_path)
    save(paths, _state())

    def broken(self: LabState) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(LabState, "to_json", broken)
    with pytest.raises(RuntimeError):
        save(paths, _state())
    monkeypatch.undo()
    assert load(paths) == _state()


def test_paths() -> None:
    paths = LabPaths(Path("/var/lib/lab"))
    assert paths.key == Path("/var/lib/lab/id_lab")
    assert paths.known_hosts == Path("/var/lib/lab/known_hosts")
    assert paths.init_config("hv01") == Path("/var/lib/lab/hosts/hv01/init.json")
