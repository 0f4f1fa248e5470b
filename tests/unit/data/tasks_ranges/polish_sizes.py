"""Tasks for `hvbridge tasks`' test: arguments with types, defaults and ranges written
the ways pydantic and annotated_types allow."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import annotated_types
from pydantic import Field


def resize(
    task: Any,
    ctx: Any,
    size: Annotated[int, Field(ge=1, le=64, description="GiB")],
    mode: Literal["fast", "safe"] = "safe",
    ratio: Annotated[float, annotated_types.Gt(0), annotated_types.Lt(1)] = 0.5,
    names: list[str] | None = None,
    label: Annotated[str, annotated_types.MaxLen(15)] = "x",
    wait: Annotated[int, annotated_types.Interval(ge=10, le=3600)] = 120,
) -> None:
    """Grow a thing.

    `size`: how big.
    """


def plain(task: Any, ctx: Any) -> None:
    """No arguments at all."""


def helper(conn: Any) -> None:
    """Not a task: its first parameter is no Nornir task."""


def _hidden(task: Any, ctx: Any) -> None:
    """Private."""
