"""Crawl run records: one row per outlet per run, the data behind `newsmon outlets`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storage.articles import utcnow
from storage.db import write_transaction

if TYPE_CHECKING:
    from collections.abc import Iterable

    import sqlite_utils


@dataclass
class RunFigures:
    """What one outlet's run did; written when the run ends."""

    status: str  # ok | partial | failed | interrupted
    finish_reason: str
    pages: int = 0
    articles_new: int = 0
    articles_known: int = 0
    duplicates: int = 0
    no_text: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    discovered: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def start_runs(db: sqlite_utils.Database, run_id: str, outlet_ids: Iterable[str]) -> None:
    now = utcnow()
    with write_transaction(db):
        db.conn.executemany(
            "INSERT INTO crawl_runs (run_id, outlet_id, started_at, status) VALUES (?, ?, ?, 'running')",
            [(run_id, oid, now) for oid in outlet_ids],
        )


def finish_run(db: sqlite_utils.Database, run_id: str, outlet_id: str, fig: RunFigures) -> None:
    now = utcnow()
    with write_transaction(db):
        db.execute(
            """UPDATE crawl_runs SET finished_at = ?,
                 duration = round((julianday(?) - julianday(started_at)) * 86400.0, 3),
                 status = ?, finish_reason = ?, pages = ?, articles_new = ?, articles_known = ?,
                 duplicates = ?, no_text = ?, failed = ?, errors = ?, discovered = ?, last_error = ?, stats = ?
               WHERE run_id = ? AND outlet_id = ?""",
            [
                now, now, fig.status, fig.finish_reason, fig.pages, fig.articles_new, fig.articles_known,
                fig.duplicates, fig.no_text, fig.failed, json.dumps(fig.errors, sort_keys=True),
                json.dumps(fig.discovered, sort_keys=True), fig.last_error,
                json.dumps(fig.stats, sort_keys=True, default=str), run_id, outlet_id,
            ],
        )


def run_rows(db: sqlite_utils.Database, run_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM crawl_runs WHERE run_id = ? ORDER BY outlet_id", [run_id])
    return [_decode(r) for r in rows]


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("errors", "discovered", "stats"):
        if row.get(key):
            row[key] = json.loads(row[key])
    return row
