"""Cycles in the inventory's references: groups that include each other, jump hosts that
go through each other. Nornir would recurse forever on the first, ssh on the second."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def first_loop(path: list[str], edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """The first cycle reachable from `path[-1]`, as `a -> ... -> a`, or None."""
    for following in edges.get(path[-1], ()):
        if following in path:
            return [*path[path.index(following) :], following]
        loop = first_loop([*path, following], edges)
        if loop is not None:
            return loop
    return None
