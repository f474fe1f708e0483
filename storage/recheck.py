"""When a stored article is fetched again, to catch edits: by its age, often while it is fresh.

The schedule is a list of (age, every) in seconds, ages ascending ([recheck] in the config): an
article younger than `age` is rechecked `every` seconds; one older than the last age never again.
Age counts from the publication date, else from when the article was first seen. An article that
answers 404 or 410 is marked removed (never deleted) and not rechecked again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage.db import utcnow, write_transaction
from storage.fetchstate import record_fetch

if TYPE_CHECKING:
    from collections.abc import Sequence

    import sqlite_utils

def parse_utc(value: str) -> datetime:
    """An ISO 8601 UTC timestamp as stored ("...Z" or "+00:00") -> an aware datetime."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def next_check_at(age_from: str | None, checked_at: str, schedule: Sequence[tuple[int, int]]) -> str | None:
    """When to check again an article last checked at `checked_at`; None: never again."""
    checked = parse_utc(checked_at)
    try:
        born = parse_utc(age_from) if age_from else checked
    except ValueError:
        born = checked
    age = (checked - born).total_seconds()
    for max_age, every in schedule:
        if age < max_age:
            return iso(checked + timedelta(seconds=every))
    return None


def due_rechecks(db: sqlite_utils.Database, outlet_id: str, limit: int, now: str | None = None) -> list[dict[str, Any]]:
    """Articles of `outlet_id` due for a recheck, the most overdue first (at most `limit`)."""
    if limit <= 0:
        return []
    return list(
        db.query(
            """SELECT id, url, canonical_url FROM articles
               WHERE outlet_id = ? AND next_check_at IS NOT NULL AND removed_at IS NULL AND next_check_at <= ?
               ORDER BY next_check_at LIMIT ?""",
            [outlet_id, now or utcnow(), limit],
        )
    )


def stored_since(db: sqlite_utils.Database, url: str) -> tuple[int, str] | None:
    """The live article stored under `url` (a canonical URL) and when it was last fetched."""
    row = db.execute(
        """SELECT a.id, coalesce(a.checked_at, a.first_seen_at) FROM article_urls u JOIN articles a ON a.id = u.article_id
           WHERE u.url = ? AND a.removed_at IS NULL""",
        [url],
    ).fetchone()
    return (row[0], row[1]) if row else None


def changed_after(claimed: str | None, fetched_at: str) -> bool:
    """True when a feed's or sitemap's modification date for a page (`claimed`, W3C/ISO 8601; a
    date alone is its midnight UTC) is later than our last fetch of it: the page was edited since."""
    if not claimed:
        return False
    try:
        return parse_utc(claimed.strip()) > parse_utc(fetched_at)
    except ValueError:
        return False


def schedule_next(db: sqlite_utils.Database, article_id: int, now: str, schedule: Sequence[tuple[int, int]]) -> None:
    """Set checked_at and next_check_at after a fetch (call inside a write transaction)."""
    row = db.execute("SELECT coalesce(published_at, first_seen_at) FROM articles WHERE id = ?", [article_id]).fetchone()
    if row is None:
        return
    db.execute(
        "UPDATE articles SET checked_at = ?, last_seen_at = ?, next_check_at = ? WHERE id = ?",
        [now, now, next_check_at(row[0], now, schedule), article_id],
    )


def record_check(db: sqlite_utils.Database, article_id: int, schedule: Sequence[tuple[int, int]], *,
                 url: str | None = None, outlet_id: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
    """A recheck found the article unchanged (304, same body or same text): schedule the next one."""
    now = utcnow()
    with write_transaction(db):
        if url and outlet_id and status is not None:
            record_fetch(db, url, outlet_id, "article", status=status, headers=headers or {}, digest=None)
        schedule_next(db, article_id, now, schedule)


def mark_removed(db: sqlite_utils.Database, article_id: int, status: int) -> bool:
    """The article answered 404/410: mark it removed with the time. Returns False if it already was."""
    now = utcnow()
    with write_transaction(db):
        cursor = db.execute(
            """UPDATE articles SET removed_at = ?, checked_at = ?, next_check_at = NULL
               WHERE id = ? AND removed_at IS NULL""",
            [now, now, article_id],
        )
        return cursor.rowcount > 0
