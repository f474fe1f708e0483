"""Shared output options and renderers: table / JSON / JSON lines / CSV."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any, TextIO

import click

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Output JSON instead of a table.")(fn)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, widths: dict[str, int] | None = None) -> str:
    """A plain text table; long cells are cut to `widths[column]` characters."""
    widths = widths or {}

    def cell(row: dict[str, Any], col: str) -> str:
        value = row.get(col)
        text = "" if value is None else str(value).replace("\n", " ")
        limit = widths.get(col)
        return text if not limit or len(text) <= limit else text[: limit - 1] + "…"

    cells = [[cell(r, c) for c in columns] for r in rows]
    sizes = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(sizes[i]) for i, c in enumerate(columns)).rstrip()]
    lines.append("  ".join("-" * s for s in sizes))
    lines += ["  ".join(v.ljust(sizes[i]) for i, v in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines)


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        n += 1
    return n


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO, columns: Sequence[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: (json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v) for k, v in row.items()})
        n += 1
    return n
