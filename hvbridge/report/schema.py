"""The JSON Schemas (draft 2020-12) of the report documents, and `validate`.

The schema files shipped in `schema/` are generated from the models; a unit test
keeps them equal to what the models generate. After changing a model, regenerate
them with `python -m hvbridge.report.schema`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hvbridge.errors import ParseError
from hvbridge.report.model import HOST_SCHEMA, SUMMARY_SCHEMA, HostReport, SummaryReport

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).parent / "schema"

MODELS: dict[str, type[HostReport] | type[SummaryReport]] = {
    HOST_SCHEMA: HostReport,
    SUMMARY_SCHEMA: SummaryReport,
}


class ReportSchemaError(ParseError, ValueError):
    pass


def file_name(schema_id: str) -> str:
    """hvbridge.report.host/1 -> host-1.json"""
    kind, version = schema_id.removeprefix("hvbridge.report.").split("/")
    return f"{kind}-{version}.json"


def json_schema(schema_id: str) -> dict[str, Any]:
    model: type[BaseModel] = MODELS[schema_id]
    generated = model.model_json_schema(by_alias=True)
    kind, version = schema_id.removeprefix("hvbridge.report.").split("/")
    return {
        "$schema": DRAFT,
        # A URN, not a URL: nothing should ever try to fetch it.
        "$id": f"urn:hvbridge:report:{kind}:{version}",
        **generated,
        "title": schema_id,
    }


def shipped(schema_id: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / file_name(schema_id)).read_text())
    return loaded


def validate(document: Mapping[str, Any]) -> HostReport | SummaryReport:
    """The document read back as its model, or ReportSchemaError saying every problem.

    Validates the JSON form strictly (no "1" for 1, no unknown keys), which is what
    the shipped JSON Schema requires too.
    """
    schema_id = document.get("schema")
    model = MODELS.get(schema_id) if isinstance(schema_id, str) else None
    if model is None:
        raise ReportSchemaError(f"unknown schema {schema_id!r}; known: {', '.join(MODELS)}")
    try:
        return model.model_validate_json(json.dumps(document), strict=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(document)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ReportSchemaError(f"{schema_id}: {problems}") from None


def write_schema_files(directory: Path = SCHEMA_DIR) -> list[Path]:
    written = []
    for schema_id in MODELS:
        path = directory / file_name(schema_id)
        path.write_text(json.dumps(json_schema(schema_id), indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_schema_files():
        print(written_path)
