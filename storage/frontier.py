"""The frontier: article URLs discovered but not handled yet.

A feed that answers 304 next time is not parsed again, so an article it listed must not be lost
when this run did not get to it (cap reached, fetch failed, crawl stopped or killed). Every new
article link goes here in the same transaction that records the feed's new state; it leaves when
the article is stored or dropped for good. The next run starts with what is left.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from storage.db import utcnow

if TYPE_CHECKING:
    from collections.abc import Iterable

    import sqlite_utils

logger = logging.getLogger(__name__)

#: A URL that failed this many runs in a row is given up (logged).
MAX_ATTEMPTS = 5


def add_links(db: sqlite_utils.Database, outlet_id: str, links: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
    """Remember (url, channel, hints) links (call inside a write transaction). Known ones stay."""
    now = utcnow()
    db.conn.executemany(
        """INSERT OR IGNORE INTO frontier (url, outlet_id, channel, hints, discovered_at)
           VALUES (?, ?, ?, ?, ?)""",
        [(url, outlet_id, channel, json.dumps(hints, ensure_ascii=False, default=str), now) for url, channel, hints in links],
    )


def pending_links(db: sqlite_utils.Database, outlet_id: str, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Links left by earlier runs: fewest failed attempts first, then the newest."""
    rows = db.execute(
        """SELECT url, channel, hints FROM frontier WHERE outlet_id = ?
           ORDER BY attempts, discovered_at DESC LIMIT ?""",
        [outlet_id, limit],
    ).fetchall()
    return [(url, channel, json.loads(hints) if hints else {}) for url, channel, hints in rows]


def done(db: sqlite_utils.Database, urls: Iterable[str]) -> None:
    """Forget handled URLs (call inside a write transaction)."""
    db.conn.executemany("DELETE FROM frontier WHERE url = ?", [(u,) for u in urls])


def failed(db: sqlite_utils.Database, url: str, error: str) -> None:
    """Count a failed attempt (call inside a write transaction); give up after MAX_ATTEMPTS."""
    db.execute(
        "UPDATE frontier SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE url = ?",
        [utcnow(), error, url],
    )
    row = db.execute("SELECT attempts, outlet_id FROM frontier WHERE url = ?", [url]).fetchone()
    if row and row[0] >= MAX_ATTEMPTS:
        logger.warning("giving up on article outlet=%s url=%s after %d failed runs: %s", row[1], url, row[0], error)
        db.execute("DELETE FROM frontier WHERE url = ?", [url])
