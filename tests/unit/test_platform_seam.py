"""Nothing outside hvbridge/platforms/ knows the initscripts network files or commands.

The lab (hvbridge/lab/) emulates EL6 hosts and keeps its own knowledge; everything else
reaches a host's network files and commands through its platform (hvbridge.platforms).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PLATFORM_WORDS = re.compile(r"ifcfg|network-scripts|service\s+network", re.IGNORECASE)
SCANNED = ("hvbridge", "tasks")
ALLOWED = ("hvbridge/platforms", "hvbridge/lab")


def seam_breaches(project: Path) -> list[str]:
    """Each line (comments included) under SCANNED but outside ALLOWED naming a word."""
    allowed = [project / place for place in ALLOWED]
    found = []
    for root in SCANNED:
        for path in sorted((project / root).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if any(path.is_relative_to(place) for place in allowed):
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                match = PLATFORM_WORDS.search(line)
                if match:
                    where = path.relative_to(project)
                    found.append(f"{where}:{number}: {match.group(0)!r} in {line.strip()!r}")
    return found


def test_only_the_platforms_name_the_network_files_and_commands() -> None:
    breaches = seam_breaches(PROJECT)
    assert breaches == [], "say it through hvbridge.platforms:\n" + "\n".join(breaches)


def test_the_scan_counts_comments_and_any_case_and_skips_platforms_and_lab(
    tmp_path: Path,
) -> None:
    files = {
        "hvbridge/apply.py": "x = 1\n# writes the IFCFG files\n",
        "hvbridge/report/notes.j2": "{{ 'Service  Network restart' }}\n",
        "hvbridge/platforms/el9.py": "path = '/etc/sysconfig/network-scripts/ifcfg-br0'\n",
        "hvbridge/lab/hosts.py": "run('service network start')\n",
        "tasks/network.py": "# the network files, restarted by the platform\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert seam_breaches(tmp_path) == [
        "hvbridge/apply.py:2: 'IFCFG' in '# writes the IFCFG files'",
        "hvbridge/report/notes.j2:1: 'Service  Network' in \"{{ 'Service  Network restart' }}\"",
    ]


def test_platforms_import_no_transport_and_no_nornir() -> None:
    """The platforms are the bottom layer: pure, so that ssh.py, the inventory and the tasks
    can all ask them (docs/platforms.md, "Import layers")."""
    allowed_hvbridge = ("hvbridge.platforms", "hvbridge.render", "hvbridge.errors")
    seen = {}
    for path in sorted((PROJECT / "hvbridge" / "platforms").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.startswith("hvbridge") and not name.startswith(allowed_hvbridge):
                    seen[path.name] = name
                if name.split(".")[0] in {"nornir", "paramiko", "pydantic"}:
                    seen[path.name] = name
    assert seen == {}
