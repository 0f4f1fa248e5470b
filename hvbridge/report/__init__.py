"""Per-host and fleet reports of a run: JSON (versioned schema), Markdown and HTML.

    paths = write_reports(outcome, Path("reports"), inventory="inventory/seed")

writes `reports/<run-id>/hosts/<host>.json|.md`, `summary.json`, `summary.md` and
one self-contained `report.html`. `validate` checks a document against its schema.
"""

from hvbridge.report.model import HOST_SCHEMA, SUMMARY_SCHEMA, HostReport, SummaryReport
from hvbridge.report.redact import redact
from hvbridge.report.render import ReportRenderError
from hvbridge.report.schema import ReportSchemaError, json_schema, validate
from hvbridge.report.write import HostPaths, ReportPaths, write_reports

__all__ = [
    "HOST_SCHEMA",
    "SUMMARY_SCHEMA",
    "HostPaths",
    "HostReport",
    "ReportPaths",
    "ReportRenderError",
    "ReportSchemaError",
    "SummaryReport",
    "json_schema",
    "redact",
    "validate",
    "write_reports",
]
