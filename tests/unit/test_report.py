"""hvbridge.report: what a run writes for an operator, from hand-built outcomes."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from hvbridge.report import (
    HOST_SCHEMA,
    SUMMARY_SCHEMA,
    HostReport,
    ReportPaths,
    ReportRenderError,
    ReportSchemaError,
    SummaryReport,
    json_schema,
    redact,
    validate,
    write_reports,
)
from hvbridge.report.render import fence, md_cell
from hvbridge.report.schema import shipped
from hvbridge.runner import HostOutcome, RunOutcome, StepOutcome
from hvbridge.status import EXIT_SIGINT

PROJECT = Path(__file__).resolve().parents[2]
TEMPLATES = PROJECT / "templates"
DATA = Path(__file__).parent / "data" / "report"
STARTED = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def sample_outcome() -> tuple[RunOutcome, list[str]]:
    """The four hosts of data/report/outcome.yaml (changed, rolled back, failed without
    facts, ok) and the runbook's step names."""
    raw = yaml.safe_load((DATA / "outcome.yaml").read_text())
    hosts = {
        name: HostOutcome(
            name=name,
            steps=[StepOutcome(**step) for step in host["steps"]],
            failed=host["failed"],
            changed=host["changed"],
            rolled_back=host["rolled_back"],
            facts=host["facts"],
            notes=host.get("notes", []),
        )
        for name, host in raw["hosts"].items()
    }
    outcome = RunOutcome(raw["run_id"], raw["runbook"], raw["check"], hosts, raw["seconds"])
    return outcome, raw["planned_steps"]


def write(tmp_path: Path, outcome: RunOutcome | None = None, **options: Any) -> ReportPaths:
    sample, planned = sample_outcome()
    options.setdefault("planned_steps", planned)
    return write_reports(
        outcome or sample,
        tmp_path / "reports",
        inventory="inventory/seed",
        templates=TEMPLATES,
        started=STARTED,
        **options,
    )


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    return write(tmp_path_factory.mktemp("report"))


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


# files


def test_every_file_is_written_under_the_run_id(paths: ReportPaths) -> None:
    root = paths.directory
    assert root.name == "20250101T120000-abc123"
    written = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    hosts = [f"hosts/hv0{n}.{suffix}" for n in range(1, 5) for suffix in ("json", "md")]
    assert written == sorted([*hosts, "report.html", "summary.json", "summary.md"])
    assert paths.hosts["hv02"].json == root / "hosts" / "hv02.json"
    assert paths.hosts["hv02"].markdown == root / "hosts" / "hv02.md"
    assert (paths.summary_json, paths.summary_markdown, paths.html) == (
        root / "summary.json",
        root / "summary.md",
        root / "report.html",
    )
    assert oct(paths.html.stat().st_mode & 0o777) == "0o644"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path)
    before = first.summary_json.read_text()

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    changed, _ = sample_outcome()
    with pytest.raises(OSError, match="disk full"):
        write(tmp_path, replace(changed, seconds=99.0))
    assert first.summary_json.read_text() == before
    assert [p.name for p in first.directory.rglob("*.tmp")] == []


def test_a_host_name_cannot_leave_the_report_directory(tmp_path: Path) -> None:
    outcome, _ = sample_outcome()
    odd = replace(outcome.hosts["hv04"], name="../../etc/x")
    paths = write(tmp_path, replace(outcome, hosts={odd.name: odd}))
    assert paths.hosts[odd.name].json == paths.directory / "hosts" / "%2E.%2F..%2Fetc%2Fx.json"
    assert load(paths.summary_json)["hosts"][odd.name]["json"] == "hosts/%2E.%2F..%2Fetc%2Fx.json"
    with pytest.raises(ValueError, match="cannot name a report directory"):
        write(tmp_path, replace(outcome, run_id="../x"))


def test_a_project_without_report_templates_gets_the_shipped_ones(tmp_path: Path) -> None:
    """An installed hvbridge run from any directory still writes its reports."""
    outcome, _ = sample_outcome()
    paths = write_reports(outcome, tmp_path / "reports", templates=tmp_path / "nowhere")
    assert "| [hv01](hosts/hv01.md) |" in paths.summary_markdown.read_text()


def test_a_project_report_template_overrides_the_shipped_one(tmp_path: Path) -> None:
    outcome, _ = sample_outcome()
    (tmp_path / "templates" / "report").mkdir(parents=True)
    (tmp_path / "templates" / "report" / "summary.md.j2").write_text("ours: {{ summary.run.id }}\n")
    paths = write_reports(outcome, tmp_path / "reports", templates=tmp_path / "templates")
    assert paths.summary_markdown.read_text() == f"ours: {outcome.run_id}\n"
    assert "[hv01](hosts/hv01.md)" not in paths.summary_markdown.read_text()
    assert "<!DOCTYPE html>" in paths.html.read_text(), "the rest are the shipped ones"


def test_a_broken_report_template_is_a_clear_error(tmp_path: Path) -> None:
    outcome, _ = sample_outcome()
    (tmp_path / "templates" / "report").mkdir(parents=True)
    (tmp_path / "templates" / "report" / "host.md.j2").write_text("{{ nothing_here }}\n")
    with pytest.raises(ReportRenderError, match=r"report template host\.md\.j2: .*nothing_here"):
        write_reports(outcome, tmp_path / "reports", templates=tmp_path / "templates")
    assert not (tmp_path / "reports").exists(), "nothing is written when rendering fails"


# JSON and its schema


def test_every_json_document_validates(paths: ReportPaths) -> None:
    for host in paths.hosts.values():
        assert isinstance(validate(load(host.json)), HostReport)
    assert isinstance(validate(load(paths.summary_json)), SummaryReport)
    assert load(paths.hosts["hv01"].json)["schema"] == HOST_SCHEMA
    assert load(paths.summary_json)["schema"] == SUMMARY_SCHEMA


def test_the_shipped_schema_files_are_what_the_models_generate() -> None:
    for schema_id in (HOST_SCHEMA, SUMMARY_SCHEMA):
        schema = shipped(schema_id)
        assert schema == json_schema(schema_id), "run: python -m hvbridge.report.schema"
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["schema"]["const"] == schema_id
        assert schema["additionalProperties"] is False


def test_the_json_schema_files_accept_the_reports(paths: ReportPaths) -> None:
    import jsonschema

    for schema_id, files in (
        (HOST_SCHEMA, [host.json for host in paths.hosts.values()]),
        (SUMMARY_SCHEMA, [paths.summary_json]),
    ):
        validator = jsonschema.Draft202012Validator(shipped(schema_id))
        validator.check_schema(shipped(schema_id))
        for path in files:
            validator.validate(load(path))
        broken = {**load(files[0]), "surprise": 1}
        assert not validator.is_valid(broken)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"seconds": "1.5"}, "seconds: Input should be a valid number"),
        (
            {"status": "fine"},
            "status: Input should be 'ok', 'changed', 'failed', 'rolled back', 'not run'"
            " or 'interrupted'",
        ),
        ({"schema": "hvbridge.report.host/1"}, "unknown schema 'hvbridge.report.host/1'"),
        ({"facts": {"bridges": {}}}, "facts.bridges_from: Field required"),
    ],
)
def test_validate_names_what_is_wrong(
    paths: ReportPaths, change: dict[str, Any], problem: str
) -> None:
    document = {**load(paths.hosts["hv01"].json), **change}
    with pytest.raises(ReportSchemaError, match=re.escape(problem)):
        validate(document)


def test_host_values_round_trip(paths: ReportPaths) -> None:
    outcome, planned = sample_outcome()
    hv01 = load(paths.hosts["hv01"].json)
    assert (hv01["host"], hv01["status"]) == ("hv01", "changed")
    assert hv01["run"] == {
        "id": "20250101T120000-abc123",
        "runbook": "bridge",
        "inventory": "inventory/seed",
        "check": False,
        "started": "2025-01-01T12:00:00Z",
        "seconds": 41.25,
    }
    # The report adds each bridge's chain and guests (schema 4) to the facts it was given.
    written = hv01["facts"]
    assert written["bridges"]["br0"].pop("chain") == "eth0 -> br0 -> guests v1"
    assert written["bridges"]["br0"].pop("guests") == ["v1"]
    assert written == outcome.hosts["hv01"].facts
    assert hv01["facts"]["bridges"]["br0"]["ports"] == ["eth0", "vnet0"]
    assert hv01["facts"]["addresses"]["br0"] == ["198.18.129.1/17"]
    assert hv01["facts"]["libvirt"]["domains"]["v1"]["interfaces"][0]["source"] == "br0"
    assert [s["seconds"] for s in hv01["steps"]] == [s.seconds for s in outcome.hosts["hv01"].steps]
    assert [s["status"] for s in hv01["steps"]] == [
        "ok", "ok", "changed", "changed", "ok", "changed", "ok",
    ]  # fmt: skip
    assert hv01["seconds"] == round(sum(s.seconds for s in outcome.hosts["hv01"].steps), 3)
    assert hv01["rollback"] is None

    hv02 = load(paths.hosts["hv02"].json)
    assert hv02["status"] == "rolled back"
    assert hv02["rollback"] == {
        "reason": "verification failed after restart: br0 has no address 198.18.129.2/17"
    }
    assert hv02["facts"]["addresses"]["eth0"] == ["198.18.129.2/17"]
    assert [s["status"] for s in hv02["steps"]][3:] == ["failed", "skipped", "skipped", "skipped"]
    assert hv02["steps"][4] == {
        "name": "verify bridges", "status": "skipped", "seconds": None, "message": "", "diff": "",
    }  # fmt: skip

    hv03 = load(paths.hosts["hv03"].json)
    assert (hv03["status"], hv03["facts"]) == ("failed", None)
    assert [s["name"] for s in hv03["steps"]] == planned
    assert hv03["summary"] == (
        "libvirt.preflight failed: hv03: libvirtd does not answer (virsh -q version failed)"
    )
    assert load(paths.hosts["hv04"].json)["facts"]["libvirt"] is None


def test_changes_are_the_steps_diffs(paths: ReportPaths) -> None:
    outcome, _ = sample_outcome()
    changes = load(paths.hosts["hv01"].json)["changes"]
    assert [c["step"] for c in changes] == ["push ifcfg files", "libvirt.edit_domains"]
    assert changes[1]["diff"] == outcome.hosts["hv01"].steps[5].diff
    assert '+    <interface type="bridge">' in changes[1]["diff"]
    assert load(paths.hosts["hv04"].json)["changes"] == []


def test_summary_counts_durations_and_exit_code(paths: ReportPaths) -> None:
    outcome, _ = sample_outcome()
    summary = load(paths.summary_json)
    assert summary["counts"] == {
        "ok": 1, "changed": 1, "failed": 1, "rolled_back": 1, "not_run": 0, "interrupted": 0,
    }  # fmt: skip
    assert summary["exit_code"] == summary["bits"] == outcome.exit_code == 2 | 4 | 8
    assert (summary["stopped"], summary["interrupted"]) == (None, None)
    assert summary["run"]["seconds"] == 41.25
    assert list(summary["hosts"]) == ["hv01", "hv02", "hv03", "hv04"]
    assert summary["hosts"]["hv02"] == {
        "platform": None,
        "status": "rolled back",
        "seconds": 25.938,
        "summary": "rolled back: verification failed after restart:"
        " br0 has no address 198.18.129.2/17",
        "json": "hosts/hv02.json",
        "markdown": "hosts/hv02.md",
    }
    assert summary["hosts"]["hv04"]["summary"] == "nothing to change; br0 [eth0] 198.18.129.4/17"
    assert summary["hosts"]["hv01"]["summary"] == (
        "3 of 7 steps changed; br0 [eth0 vnet0] 198.18.129.1/17"
    )


def test_without_planned_steps_only_what_ran_is_listed(tmp_path: Path) -> None:
    paths = write(tmp_path, planned_steps=())
    assert [s["name"] for s in load(paths.hosts["hv03"].json)["steps"]] == ["libvirt.preflight"]


def test_a_host_that_failed_before_its_first_step_skipped_them_all(tmp_path: Path) -> None:
    outcome, planned = sample_outcome()
    unreachable = HostOutcome(
        "hv05", [StepOutcome("run", False, True, "hv05: connection refused", "")], failed=True
    )
    paths = write(tmp_path, replace(outcome, hosts={"hv05": unreachable}))
    steps = load(paths.hosts["hv05"].json)["steps"]
    assert [s["name"] for s in steps] == ["run", *planned]
    assert [s["status"] for s in steps] == ["failed"] + ["skipped"] * len(planned)


# Markdown


def test_host_markdown_has_the_bridge_and_libvirt_tables(paths: ReportPaths) -> None:
    hv01 = paths.hosts["hv01"].markdown.read_text()
    assert hv01.startswith("# hv01: changed\n")
    assert "| bridge | id | STP | ports | addresses |" in hv01
    # IPv4, then global IPv6 (schema 4).
    assert (
        "| br0 | 8000.024856000001 | off | eth0 vnet0 | 198.18.129.1/17, 2001:db8:1::5/64 |" in hv01
    )
    assert "Default route: via 198.18.128.1 dev br0, metric 0" in hv01
    assert "| v1 | running | bridge | br0 | 52:54:00:48:00:01 | virtio |" in hv01
    assert "| libvirt.edit_domains | changed | 1.50 s | defined: v1:" in hv01
    assert "```diff\n--- v1.xml (before)\n+++ v1.xml (after)\n" in hv01
    assert '+    <interface type="bridge">\n' in hv01

    hv02 = paths.hosts["hv02"].markdown.read_text()
    assert "| virbr0 | 8000.525400aabbcc | on | - | 198.19.122.1/24 |" in hv02
    assert "Other addresses: eth0 198.18.129.2/17" in hv02
    assert "| default | yes | yes | yes | virbr0 |" in hv02
    assert "## Rolled back" in hv02
    assert "br0 has no address 198.18.129.2/17\n```" in hv02
    assert "| verify bridges | skipped | - |  |" in hv02


def test_markdown_table_cells_cannot_break_the_table(paths: ReportPaths) -> None:
    hv03 = paths.hosts["hv03"].markdown.read_text()
    assert "No facts: the host failed before they were collected." in hv03
    assert (
        "| libvirt.preflight | failed | 0.30 s | hv03: libvirtd does not answer"
        " (virsh -q version failed)<br>libvirtd is stopped \\| start it with:"
        " service libvirtd start |"
    ) in hv03
    assert md_cell("a|b\n<x>\n") == "a\\|b<br>\\<x>"


def test_a_diff_holding_a_fence_gets_a_longer_one() -> None:
    assert fence("+plain") == "```"
    assert fence("+```sh\n+make\n+```") == "````"


def test_summary_markdown_has_a_row_per_host(paths: ReportPaths) -> None:
    text = paths.summary_markdown.read_text()
    assert (
        "- 4 host(s): 1 ok, 1 changed, 1 failed, 1 rolled back, 0 not run, 0 interrupted;"
        " exit code 14"
    ) in text
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    assert [row.split("]")[0] for row in rows] == ["| [hv01", "| [hv02", "| [hv03", "| [hv04"]
    assert "| [hv02](hosts/hv02.md) | - | rolled back | 25.9 s | rolled back:" in text


def test_each_host_s_platform_is_in_every_report(tmp_path: Path) -> None:
    paths = write(tmp_path, platforms={"hv01": "el6", "hv02": "el7"})
    assert load(paths.hosts["hv02"].json)["platform"] == "el7"
    assert load(paths.hosts["hv03"].json)["platform"] is None
    summary = load(paths.summary_json)
    assert {name: line["platform"] for name, line in summary["hosts"].items()} == {
        "hv01": "el6", "hv02": "el7", "hv03": None, "hv04": None,
    }  # fmt: skip
    assert "- Platform: el7\n" in paths.hosts["hv02"].markdown.read_text()
    assert "| [hv02](hosts/hv02.md) | el7 | rolled back |" in paths.summary_markdown.read_text()
    html = paths.html.read_text()
    assert re.search(r'<tr data-host="hv02"[^>]*>\s*<td class="name">.*?</td>\s*'
                     r'<td class="platform">el7</td>', html)  # fmt: skip
    assert '<h2>hv01 <span class="platform">el6</span>' in html


def test_check_mode_says_so(tmp_path: Path) -> None:
    outcome, _ = sample_outcome()
    paths = write(tmp_path, replace(outcome, check=True))
    assert "Check mode: nothing was changed on any host" in paths.summary_markdown.read_text()
    assert "Check mode: nothing was changed on the host" in paths.hosts["hv01"].markdown.read_text()
    assert "Check mode: nothing was changed on any host" in paths.html.read_text()
    assert load(paths.summary_json)["run"]["check"] is True


# HTML


class _Page(HTMLParser):
    """Status rows, and every attribute that could make the browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.in_status = False
        self.rows: list[tuple[str, str]] = []
        self.references: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.add(tag)
        if tag == "table":
            self.in_status = "status" in (found.get("class") or "").split()
        if tag == "tr" and self.in_status and "data-host" in found:
            self.rows.append((found["data-host"] or "", found.get("class") or ""))
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data", "background"):
                self.references.append((tag, name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.in_status = False


def parsed(paths: ReportPaths) -> _Page:
    page = _Page()
    page.feed(paths.html.read_text())
    return page


def test_html_has_one_status_row_per_host(paths: ReportPaths) -> None:
    assert parsed(paths).rows == [
        ("hv01", "status-changed"),
        ("hv02", "status-rolled-back"),
        ("hv03", "status-failed"),
        ("hv04", "status-ok"),
    ]
    html = paths.html.read_text()
    for name in ("hv01", "hv02", "hv03", "hv04"):
        assert html.count(f'<tr data-host="{name}"') == 1
        assert '<section class="host status-' in html and f'id="host-{name}"' in html


def test_html_escapes_diffs_and_messages(paths: ReportPaths) -> None:
    html = paths.html.read_text()
    assert "&lt;interface type=&#34;bridge&#34;&gt;" in html
    assert "<interface" not in html
    assert "bridge br0 &amp; kept its PCI address" in html
    assert " & kept" not in html
    assert '<span class="add">+    &lt;interface type=&#34;bridge&#34;&gt;\n</span>' in html
    assert "verification failed after restart: br0 has no address 198.18.129.2/17" in html
    assert "8000.024856000001" in html and "52:54:00:48:00:01" in html


def test_html_is_self_contained(paths: ReportPaths) -> None:
    html = paths.html.read_text()
    for pattern in ("http://", "https://", "//", "url(", "@import"):
        assert pattern not in html
    page = parsed(paths)
    assert [ref for ref in page.references if not ref[2].startswith("#")] == []
    assert page.references, "the status rows link to the host sections"
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "Content-Security-Policy" in html


# secrets


def test_redact_masks_private_keys_and_passwords() -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNz\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    rsa = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    assert redact(f"before\n{key}\nafter") == (
        "before\n-----BEGIN OPENSSH PRIVATE KEY----- ******** -----END OPENSSH PRIVATE KEY-----"
        "\nafter"
    )
    assert redact(rsa) == "-----BEGIN RSA PRIVATE KEY----- ******** -----END RSA PRIVATE KEY-----"
    # cut off before its END line: masked to the end all the same
    assert redact("key: -----BEGIN PRIVATE KEY-----\nMIIE") == (
        "key: -----BEGIN PRIVATE KEY----- ******** -----END PRIVATE KEY-----"
    )
    assert redact("password=s3cret rest") == "password=******** rest"
    assert redact("+PASSWORD = 's3 cret'\n") == "+PASSWORD = ********\n"
    assert redact("password: hunter2") == "password: ********"
    assert redact('{"ssh_password": "hunter2", "user": "root"}') == (
        '{"ssh_password": ********, "user": "root"}'
    )
    assert redact("HVBRIDGE_SSH_PASSWORD=x;y") == "HVBRIDGE_SSH_PASSWORD=********;y"
    untouched = "passwordless login; -----BEGIN PUBLIC KEY----- AAAA -----END PUBLIC KEY-----"
    assert redact(untouched) == untouched


def test_no_secret_reaches_any_report(tmp_path: Path) -> None:
    outcome, _ = sample_outcome()
    hv01 = outcome.hosts["hv01"]
    leaky = StepOutcome(
        "leaky step",
        changed=True,
        failed=False,
        message="connected with password=hunter2",
        diff="+-----BEGIN EC PRIVATE KEY-----\n+MHcCAQEEIB\n+-----END EC PRIVATE KEY-----\n",
        seconds=0.5,
    )
    host = replace(hv01, steps=[*hv01.steps, leaky], rolled_back="sudo password: hunter2 refused")
    paths = write(tmp_path, replace(outcome, hosts={"hv01": host}))
    for path in paths.directory.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "hunter2" not in text and "MHcCAQEEIB" not in text, path.name
    assert "password=********" in paths.hosts["hv01"].markdown.read_text()


# statuses beyond the four of a plain run: reverted diffs, budget stops, signals


def test_a_rolled_back_hosts_diffs_are_marked_reverted(paths: ReportPaths) -> None:
    hv02 = load(paths.hosts["hv02"].json)
    assert [(c["step"], c["reverted"]) for c in hv02["changes"]] == [("push ifcfg files", True)]
    assert {c["reverted"] for c in load(paths.hosts["hv01"].json)["changes"]} == {False}
    markdown = paths.hosts["hv02"].markdown.read_text()
    assert "### push ifcfg files (reverted)\n\nThe host rolled back: this change was made," in (
        markdown
    )
    assert "(reverted)" not in paths.hosts["hv01"].markdown.read_text()
    html = paths.html.read_text()
    section = html[html.index('id="host-hv02"') : html.index('id="host-hv03"')]
    assert '<details open class="reverted">' in section
    assert "this change was made, then undone by the revert" in section
    assert html.count('class="reverted"') == 1


def test_a_budget_stop_lists_the_hosts_not_run(tmp_path: Path) -> None:
    outcome, _ = sample_outcome()
    reason = "batch 1/2: 1 of 1 host(s) failed, more than max_fail_percentage 0%"
    hosts = {**outcome.hosts, "hv05": HostOutcome("hv05", not_run=True)}
    paths = write(tmp_path, replace(outcome, hosts=hosts, stopped=reason))
    summary = load(paths.summary_json)
    assert summary["counts"]["not_run"] == 1
    assert summary["bits"] == summary["exit_code"] == 2 | 4 | 8 | 16
    assert summary["stopped"] == reason
    assert summary["hosts"]["hv05"]["status"] == "not run"
    assert summary["hosts"]["hv05"]["summary"] == (
        f"not run: the failure budget stopped the rollout ({reason})"
    )
    hv05 = load(paths.hosts["hv05"].json)
    assert isinstance(validate(hv05), HostReport)
    assert {s["status"] for s in hv05["steps"]} == {"skipped"}
    assert f"- Stopped by the failure budget: {reason}" in paths.summary_markdown.read_text()
    assert '<tr data-host="hv05" class="status-not-run">' in paths.html.read_text()


def test_an_interrupted_run_exits_130_and_keeps_the_bits_in_the_summary(tmp_path: Path) -> None:
    outcome, _ = sample_outcome()
    hv01 = outcome.hosts["hv01"]
    stopped = replace(hv01, name="hv06", steps=hv01.steps[:3], interrupted=True)
    hosts = {
        "hv01": hv01, "hv06": stopped, "hv07": HostOutcome("hv07", not_run=True),
    }  # fmt: skip
    interrupted = replace(outcome, hosts=hosts, interrupted="SIGINT", interrupt_exit=EXIT_SIGINT)
    paths = write(tmp_path, interrupted)
    summary = load(paths.summary_json)
    assert (summary["exit_code"], summary["bits"], summary["interrupted"]) == (130, 2, "SIGINT")
    assert summary["counts"] == {
        "ok": 0, "changed": 1, "failed": 0, "rolled_back": 0, "not_run": 1, "interrupted": 1,
    }  # fmt: skip
    assert summary["hosts"]["hv06"]["summary"] == (
        "interrupted by SIGINT after step 'push ifcfg files'; later steps not run"
    )
    assert summary["hosts"]["hv07"]["summary"] == (
        "not run: SIGINT stopped the run before this host started"
    )
    hv06_steps = load(paths.hosts["hv06"].json)["steps"]
    assert [s["status"] for s in hv06_steps][3:] == ["skipped"] * 4
    assert "- Interrupted by SIGINT: no step started after it; status bits 2" in (
        paths.summary_markdown.read_text()
    )
    assert "Interrupted by SIGINT" in paths.html.read_text()


@pytest.mark.parametrize("statuses", [
    ("rolled back",), ("rolled back", "ok"), ("failed", "rolled back"), ("changed", "not run"),
    ("interrupted",), ("ok", "changed", "failed", "rolled back", "not run", "interrupted"),
])  # fmt: skip
def test_each_bit_is_set_exactly_when_its_count_is_not_zero(
    tmp_path: Path, statuses: tuple[str, ...]
) -> None:
    made = {
        "ok": HostOutcome("h"),
        "changed": HostOutcome("h", changed=True),
        "failed": HostOutcome("h", failed=True),
        # As the runner makes it: the host changed, then failed and reverted.
        "rolled back": HostOutcome("h", failed=True, changed=True, rolled_back="no route"),
        "not run": HostOutcome("h", not_run=True),
        "interrupted": HostOutcome("h", changed=True, interrupted=True),
    }
    outcome, _ = sample_outcome()
    hosts = {f"h{i}": replace(made[s], name=f"h{i}") for i, s in enumerate(statuses)}
    summary = load(write(tmp_path, replace(outcome, hosts=hosts)).summary_json)
    counts = summary["counts"]
    assert summary["exit_code"] == summary["bits"]
    for key, bit in (("changed", 2), ("failed", 4), ("rolled_back", 8)):
        assert bool(summary["bits"] & bit) == (counts[key] > 0), (key, summary)
    assert summary["bits"] & ~(2 | 4 | 8) == 0


def test_a_hosts_notes_reach_its_json_markdown_and_the_html(paths: ReportPaths) -> None:
    note = "took over the lock of run 20260101T000000-aaaaaa (ops@ctl, pid 4242)"
    hv02 = json.loads((paths.directory / "hosts" / "hv02.json").read_text())
    assert [n.startswith(note) for n in hv02["notes"]] == [True]
    hv01 = json.loads((paths.directory / "hosts" / "hv01.json").read_text())
    assert hv01["notes"] == []
    markdown = (paths.directory / "hosts" / "hv02.md").read_text()
    assert "## Notes" in markdown and f"- {note}" in markdown
    assert f"<li>{note}" in paths.html.read_text()
