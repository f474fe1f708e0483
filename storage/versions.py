"""Article versions: the `articles` row holds the newest text, `article_versions` the earlier ones.

A recheck that extracts another text or title makes a new version. Versions compare extracted
text, never HTML, so a page whose "related articles" box or ads changed is not a new version.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, Literal

from storage.articles import ArticleRecord, add_fetch
from storage.clusters import reindex_version
from storage.db import utcnow, write_transaction
from storage.errors import NotFoundError
from storage.fetchstate import record_fetch
from storage.recheck import schedule_next
from storage.similarity import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from collections.abc import Sequence

    import sqlite_utils

RecheckOutcome = Literal["version", "unchanged"]


def apply_recheck(
    db: sqlite_utils.Database,
    article_id: int,
    rec: ArticleRecord,
    schedule: Sequence[tuple[int, int]],
    *,
    keep_html: bool = True,
    threshold: float = DEFAULT_THRESHOLD,
) -> RecheckOutcome:
    """Compare a rechecked page with the stored article; keep the old text as a version if it changed.

    One transaction: the old version's row, the article's new text, the fetch and the next check.
    """
    now = utcnow()
    with write_transaction(db):
        row = db.execute(
            """SELECT title, text, text_length, content_hash, version, coalesce(changed_at, first_seen_at)
               FROM articles WHERE id = ?""",
            [article_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no article {article_id}")
        title, text, length, digest, version, seen_from = row
        record_fetch(db, rec.url, rec.outlet_id, "article", status=rec.status, headers=rec.headers, digest=rec.body_hash)
        if digest == rec.content_hash and (title or "") == (rec.title or ""):
            schedule_next(db, article_id, now, schedule)
            return "unchanged"
        db.execute(
            """INSERT INTO article_versions (article_id, version, title, text, text_length, content_hash,
                 seen_from, replaced_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [article_id, version, title, text, length, digest, seen_from, now, rec.run_id],
        )
        db.execute(
            """UPDATE articles SET title = ?, text = ?, text_length = ?, content_hash = ?, version = version + 1,
                 changed_at = ?, modified_at = coalesce(?, modified_at), author = coalesce(?, author),
                 description = coalesce(?, description)
               WHERE id = ?""",
            [rec.title, rec.text, len(rec.text), rec.content_hash, now, rec.modified_at, rec.author, rec.description,
             article_id],
        )
        add_fetch(db, article_id, rec, keep_html=keep_html)
        schedule_next(db, article_id, now, schedule)
        reindex_version(db, article_id, rec.minhash(), threshold=threshold)
        return "version"


def article_versions(db: sqlite_utils.Database, article_id: int) -> list[dict[str, Any]]:
    """Every version of an article, oldest first, the current one last (with `current` = True)."""
    rows = list(
        db.query(
            """SELECT version, title, text, text_length, content_hash, seen_from, replaced_at
               FROM article_versions WHERE article_id = ? ORDER BY version""",
            [article_id],
        )
    )
    current = list(
        db.query(
            """SELECT version, title, text, text_length, content_hash,
                 coalesce(changed_at, first_seen_at) AS seen_from, NULL AS replaced_at
               FROM articles WHERE id = ?""",
            [article_id],
        )
    )
    if not current:
        raise NotFoundError(f"no article with id {article_id}")
    for r in rows:
        r["current"] = False
    current[0]["current"] = True
    return rows + current


def version_diff(versions: Sequence[dict[str, Any]], context: int = 2) -> str:
    """A unified diff of title and text between each version and the next."""
    parts: list[str] = []
    for old, new in zip(versions, versions[1:], strict=False):
        a = [f"# {old['title'] or ''}", "", *old["text"].splitlines()]
        b = [f"# {new['title'] or ''}", "", *new["text"].splitlines()]
        parts.extend(
            difflib.unified_diff(
                a, b, f"version {old['version']} ({old['seen_from']})",
                f"version {new['version']} ({new['seen_from']})", n=context, lineterm="",
            )
        )
    return "\n".join(parts)
