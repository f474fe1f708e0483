"""Crawl run records: one row per outlet per run, the data behind `newsmon outlets`."""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storage.db import utcnow, write_transaction

if TYPE_CHECKING:
    from collections.abc import Iterable

    import sqlite_utils


@dataclass
class RunFigures:
    """What one outlet's run did; written when the run ends."""

    status: str  # ok | partial | failed | interrupted | timeout (crashed: see fail_unfinished)
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
    not_modified: int = 0
    rechecked: int = 0
    versions_new: int = 0
    removed: int = 0


def start_runs(db: sqlite_utils.Database, run_id: str, outlet_ids: Iterable[str], *, origin: str = "crawl") -> None:
    now = utcnow()
    with write_transaction(db):
        db.conn.executemany(
            """INSERT INTO crawl_runs (run_id, outlet_id, started_at, status, origin, pid)
               VALUES (?, ?, ?, 'running', ?, ?)""",
            [(run_id, oid, now, origin, os.getpid()) for oid in outlet_ids],
        )


def finish_run(db: sqlite_utils.Database, run_id: str, outlet_id: str, fig: RunFigures) -> None:
    now = utcnow()
    with write_transaction(db):
        db.execute(
            """UPDATE crawl_runs SET finished_at = ?,
                 duration = round((julianday(?) - julianday(started_at)) * 86400.0, 3),
                 status = ?, finish_reason = ?, pages = ?, articles_new = ?, articles_known = ?,
                 duplicates = ?, no_text = ?, failed = ?, errors = ?, discovered = ?, last_error = ?, stats = ?,
                 not_modified = ?, rechecked = ?, versions_new = ?, removed = ?
               WHERE run_id = ? AND outlet_id = ?""",
            [
                now, now, fig.status, fig.finish_reason, fig.pages, fig.articles_new, fig.articles_known,
                fig.duplicates, fig.no_text, fig.failed, json.dumps(fig.errors, sort_keys=True),
                json.dumps(fig.discovered, sort_keys=True), fig.last_error,
                json.dumps(fig.stats, sort_keys=True, default=str), fig.not_modified, fig.rechecked,
                fig.versions_new, fig.removed, run_id, outlet_id,
            ],
        )
        _set_quality(db, run_id, outlet_id)


def _set_quality(db: sqlite_utils.Database, run_id: str, outlet_id: str) -> None:
    """The run's new articles, summarised for the outlet's rolling baseline (monitor/health.py):
    median text length, and the shares with a date, with an author, in the outlet's language."""
    rows = db.execute(
        """SELECT a.text_length, a.published_at IS NOT NULL, a.author IS NOT NULL AND a.author != '',
                  CASE WHEN o.language IS NULL THEN NULL ELSE a.language = o.language END
           FROM articles a JOIN outlets o ON o.id = a.outlet_id
           WHERE a.run_id = ? AND a.outlet_id = ?""",
        [run_id, outlet_id],
    ).fetchall()
    if not rows:
        return
    n = len(rows)
    language = [r[3] for r in rows if r[3] is not None]
    db.execute(
        """UPDATE crawl_runs SET median_text_length = ?, share_dated = ?, share_authored = ?, share_language = ?
           WHERE run_id = ? AND outlet_id = ?""",
        [
            int(statistics.median(r[0] for r in rows)), round(sum(r[1] for r in rows) / n, 3),
            round(sum(r[2] for r in rows) / n, 3), round(sum(language) / len(language), 3) if language else None,
            run_id, outlet_id,
        ],
    )


def fail_unfinished(db: sqlite_utils.Database, run_id: str, outlet_ids: Iterable[str], status: str, reason: str) -> int:
    """Close the rows of a run whose process died or was killed (still 'running', or never started).

    Returns how many rows were closed. The figures the crawl could not write stay at 0.
    """
    now = utcnow()
    closed = 0
    with write_transaction(db):
        for outlet_id in outlet_ids:
            cursor = db.execute(
                """UPDATE crawl_runs SET status = ?, finish_reason = ?, finished_at = ?,
                     duration = round((julianday(?) - julianday(started_at)) * 86400.0, 3), last_error = ?
                   WHERE run_id = ? AND outlet_id = ? AND status = 'running'""",
                [status, reason, now, now, reason, run_id, outlet_id],
            )
            if cursor.rowcount == 0 and not db.execute(
                "SELECT 1 FROM crawl_runs WHERE run_id = ? AND outlet_id = ?", [run_id, outlet_id]
            ).fetchone():
                if not db.execute("SELECT 1 FROM outlets WHERE id = ?", [outlet_id]).fetchone():
                    continue  # never crawled: no outlet row to refer to
                db.execute(
                    """INSERT INTO crawl_runs (run_id, outlet_id, started_at, finished_at, duration, status,
                         finish_reason, last_error, origin) VALUES (?, ?, ?, ?, 0, ?, ?, ?, 'service')""",
                    [run_id, outlet_id, now, now, status, reason, reason],
                )
            else:
                closed += cursor.rowcount
                continue
            closed += 1
    return closed


def close_orphans(db: sqlite_utils.Database) -> int:
    """Rows left 'running' by a process that no longer exists (killed): mark them interrupted."""
    rows = db.execute("SELECT DISTINCT run_id, pid FROM crawl_runs WHERE status = 'running'").fetchall()
    closed = 0
    for run_id, pid in rows:
        if pid and _alive(pid):
            continue
        ids = [r[0] for r in db.execute("SELECT outlet_id FROM crawl_runs WHERE run_id = ? AND status = 'running'", [run_id])]
        closed += fail_unfinished(db, run_id, ids, "interrupted", "the crawl process died")
    return closed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed process whose parent died too stays a zombie until something reaps it (in a
    # container whose pid 1 does not): it exists, but it is not running.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def run_rows(db: sqlite_utils.Database, run_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM crawl_runs WHERE run_id = ? ORDER BY outlet_id", [run_id])
    return [_decode(r) for r in rows]


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("errors", "discovered", "stats"):
        if row.get(key):
            row[key] = json.loads(row[key])
    return row
