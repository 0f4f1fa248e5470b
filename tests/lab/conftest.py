from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hvbridge.lab.lifecycle import Lab
from hvbridge.lab.state import LabState

LabFactory = Callable[..., tuple[Lab, LabState]]


@pytest.fixture(scope="module")
def make_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabFactory]:
    """Build a lab for one test module; every lab it built is taken down after."""
    built: list[Lab] = []

    def build(**options: object) -> tuple[Lab, LabState]:
        lab = Lab(tmp_path_factory.mktemp("lab"))
        built.append(lab)
        state = lab.up(log=lambda _msg: None, **options)  # type: ignore[arg-type]
        return lab, state

    yield build
    for lab in built:
        lab.down(log=lambda _msg: None)


def lab_dir_files(lab: Lab) -> list[Path]:
    return sorted(lab.paths.root.rglob("*")) if lab.paths.root.exists() else []
