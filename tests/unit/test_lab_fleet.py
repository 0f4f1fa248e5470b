"""hvbridge.lab.fleet: `--platform el7` and mixes such as `el6:2,el7:2`."""

from __future__ import annotations

import pytest

from hvbridge.lab.fleet import MAX_HOSTS, PlatformSpecError, describe, parse_platforms


def test_one_platform_makes_every_host_of_it() -> None:
    assert parse_platforms("el7", None) == ("el7", "el7", "el7")
    assert parse_platforms("el7", 5) == ("el7",) * 5
    assert parse_platforms("el6", 1) == ("el6",)


def test_a_mix_gives_platforms_in_host_order_and_its_sum_of_hosts() -> None:
    assert parse_platforms("el6:2,el7:2", None) == ("el6", "el6", "el7", "el7")
    assert parse_platforms(" el7:1 , el6:2 ", None) == ("el7", "el6", "el6")
    assert parse_platforms("el6:1,el7:1", 2) == ("el6", "el7")
    assert parse_platforms("el7:3", None) == ("el7",) * 3


def test_hosts_that_disagree_with_the_mix_are_refused_with_both_numbers() -> None:
    with pytest.raises(PlatformSpecError) as info:
        parse_platforms("el6:2,el7:2", 3)
    assert str(info.value) == (
        "--platform el6:2,el7:2 makes 4 hosts but --hosts says 3:"
        " leave out --hosts, or make the two agree"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "el10",
            "unknown platform 'el10' (the lab has el6, el7, el8, el9, debian, proxmox, ubuntu)",
        ),
        ("el6:1,el10:1", "unknown platform 'el10'"),
        ("el6,el7:2", "give every platform of a mix its count"),
        ("el6:1,el7", "give every platform of a mix its count"),
        ("el6:0,el7:1", "'0' is not a count of hosts (1 or more)"),
        ("el6:x", "'x' is not a count of hosts"),
        ("el6:-1", "'-1' is not a count of hosts"),
        ("el6:1,,el7:1", "an empty entry"),
        ("", "an empty entry"),
        (f"el6:{MAX_HOSTS},el7:1", f"makes {MAX_HOSTS + 1} hosts: a lab has 1 to {MAX_HOSTS}"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(PlatformSpecError, match="--platform") as info:
        parse_platforms(spec, None)
    assert message in str(info.value)


def test_describe_gives_the_mix_back() -> None:
    assert describe(("el6", "el6", "el7")) == "el6:2,el7:1"
    assert describe(("el7", "el7")) == "el7"
