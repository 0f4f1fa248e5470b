"""The lab is imported only where the lab is used: the run path never loads it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SEED = PROJECT / "inventory" / "seed"

# `hvbridge run` and `hvbridge report` as far as they go without a network: every input
# checked (a --limit that selects nothing stops them before any connection), through
# the CLI's error handling; then the modules a run imports, imported.
RUN_PATH = f"""
import json, sys
from click.testing import CliRunner
import hvbridge.runner, hvbridge.cli, hvbridge.report, hvbridge.output, hvbridge.events
project = {str(PROJECT)!r}
seed = {str(SEED)!r}
codes = []
for args in (["run", "runbooks/bridge.yaml", "-i", seed, "--limit", "nohost"],
             ["report", "-i", seed, "--limit", "nohost"]):
    result = CliRunner().invoke(hvbridge.cli.main, ["--project", project, *args])
    codes.append([result.exit_code, result.stderr])
print(json.dumps({{"codes": codes, "lab": sorted(m for m in sys.modules
                                                if m.startswith("hvbridge.lab"))}}))
"""


def test_the_run_path_does_not_import_the_lab() -> None:
    out = subprocess.run(
        [sys.executable, "-c", RUN_PATH], capture_output=True, text=True, check=True, cwd=PROJECT
    )
    seen = json.loads(out.stdout)
    # Each command went as far as its input checks, and said why it stopped there.
    assert [code for code, _ in seen["codes"]] == [1, 1]
    assert all(err.startswith("error: --limit 'nohost': ") for _, err in seen["codes"])
    assert seen["lab"] == []


def test_lab_up_still_offers_the_lab_profiles() -> None:
    from click.testing import CliRunner

    from hvbridge.cli import main
    from hvbridge.lab.hostfiles import SSH_PROFILES

    result = CliRunner().invoke(main, ["lab", "up", "--help"])
    assert f"[{'|'.join(SSH_PROFILES)}]" in result.stdout
    result = CliRunner().invoke(main, ["lab", "up", "--ssh-profile", "el5"])
    assert result.exit_code == 1
    assert "'el5' is not one of 'modern', 'el6'" in result.stderr
