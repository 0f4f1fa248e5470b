"""`lab up --platform` and `demo --platform` refuse a fleet they cannot build, before
building anything, with the reason on one line and exit 1."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hvbridge.cli import main

PROJECT = Path(__file__).resolve().parents[2]


def invoke(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    lab_dir = tmp_path / "lab"
    result = CliRunner().invoke(main, ["--project", str(PROJECT), "--lab-dir", str(lab_dir), *args])
    assert not lab_dir.exists(), "nothing is built for a refused fleet"
    return result.exit_code, result.stdout, result.stderr


def test_hosts_disagreeing_with_a_mix_is_an_input_error(tmp_path: Path) -> None:
    code, out, err = invoke(tmp_path, "lab", "up", "--platform", "el6:2,el7:2", "--hosts", "3")
    assert (code, out) == (1, "")
    assert err == (
        "error: --platform el6:2,el7:2 makes 4 hosts but --hosts says 3:"
        " leave out --hosts, or make the two agree\n"
    )


def test_an_unknown_platform_is_an_input_error(tmp_path: Path) -> None:
    code, _, err = invoke(tmp_path, "lab", "up", "--platform", "el10")
    assert code == 1
    assert err == (
        "error: --platform 'el10': unknown platform 'el10'"
        " (the lab has el6, el7, el8, el9, debian, proxmox, ubuntu)\n"
    )


def test_the_demo_checks_its_platforms_and_its_size(tmp_path: Path) -> None:
    code, _, err = invoke(tmp_path, "demo", "--platform", "el6,el7:1")
    assert code == 1
    assert "give every platform of a mix its count" in err
    code, _, err = invoke(tmp_path, "demo", "--platform", "el6:30,el7:30")
    assert code == 1
    assert err == "error: --platform el6:30,el7:30 makes 60 hosts: the demo takes 1 to 50\n"


def test_help_describes_the_mix(tmp_path: Path) -> None:
    code, out, _ = invoke(tmp_path, "lab", "up", "--help")
    assert code == 0
    words = " ".join(out.split())
    assert (
        "--platform TEXT Each hypervisor's platform: one of el6, el7, el8, el9, debian, proxmox,"
        in words
    )
    assert "[default: 3, or the --platform mix's sum]" in words


def test_the_help_names_the_lab_s_platforms_and_default_size(tmp_path: Path) -> None:
    """The help is literal text (the run path must not import the lab): it must still say
    what the lab itself accepts."""
    from hvbridge.lab.fleet import DEFAULT_HOSTS, LAB_PLATFORMS

    for command in (("lab", "up"), ("demo",)):
        code, out, _ = invoke(tmp_path, *command, "--help")
        words = " ".join(out.split())
        assert code == 0
        assert f"one of {', '.join(LAB_PLATFORMS)} for all of them" in words
        assert f"[default: {DEFAULT_HOSTS}, or the --platform mix's sum]" in words
