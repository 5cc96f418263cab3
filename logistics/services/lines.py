"""Keep a list of item lines (series, distribution, recipe) in step with a wanted plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def sync_lines(
    lines: list[Any],
    wanted: Mapping[int, Any],
    field: str,
    make: Callable[[int, Any], Any],
    keep: Callable[[Any], bool] | None = None,
) -> None:
    """Update lines in place by item (an item appears once), add new ones, drop the rest.

    A line that `keep` says must stay (goods were given on it) is set to zero instead.
    """
    remaining = dict(wanted)
    for line in list(lines):
        if line.item_id in remaining:
            setattr(line, field, remaining.pop(line.item_id))
        elif keep is not None and keep(line):
            setattr(line, field, 0)
        else:
            lines.remove(line)
    for item_id, value in remaining.items():
        lines.append(make(item_id, value))
