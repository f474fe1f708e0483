"""The write path: one article, with its URLs and its fetch, in one transaction.

Identity, in order: a URL already stored (any of the page's canonical URLs) -> that article;
else the same normalised text in the same outlet (AMP, print, tracking variants) -> that article,
one more URL; else a new article.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from storage.clusters import best_matches, index_article, reindex_version, same_article
from storage.db import utcnow, write_transaction
from storage.fetchstate import record_fetch
from storage.frontier import done
from storage.recheck import next_check_at
from storage.similarity import DEFAULT_THRESHOLD, Signature, signature

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import sqlite_utils

logger = logging.getLogger(__name__)

Outcome = Literal["new", "known_url", "same_text", "near_text"]


@dataclass
class ArticleRecord:
    """Everything the pipelines learnt about one fetched article page (plain values only)."""

    outlet_id: str
    url: str  # canonical form of the URL requested
    final_url: str  # canonical form of the URL after redirects
    canonical_url: str  # the page's rel=canonical / og:url when on the outlet's hosts, else final_url
    text: str
    content_hash: str
    found_via: str
    fetched_at: str
    status: int = 200
    title: str | None = None
    author: str | None = None
    description: str | None = None
    sitename: str | None = None
    image: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    published_at: str | None = None
    modified_at: str | None = None
    date_source: str | None = None
    date_flags: list[str] = field(default_factory=list)
    language: str | None = None
    language_confidence: float | None = None
    language_source: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hints: dict[str, Any] = field(default_factory=dict)
    encoding: str | None = None
    html: bytes | None = None
    run_id: str | None = None
    body_hash: str | None = None  # sha256 of the raw page: a recheck with the same bytes skips extraction
    signature: bytes | None = None  # MinHash of the text (storage/similarity.py); None: too short
    shingles: int = 0

    def minhash(self) -> Signature | None:
        return Signature.from_bytes(self.signature, self.shingles) if self.signature else None

    def all_urls(self) -> list[tuple[str, str]]:
        """(url, kind) pairs, canonical first, without repeats."""
        seen: dict[str, str] = {}
        for url, kind in ((self.canonical_url, "canonical"), (self.final_url, "final"), (self.url, "requested")):
            seen.setdefault(url, kind)
        return list(seen.items())


@dataclass(frozen=True)
class SaveResult:
    article_id: int
    outcome: Outcome


def upsert_outlets(db: sqlite_utils.Database, outlets: Iterable[Mapping[str, Any]]) -> None:
    """Record the configured outlets (id, name, homepage, language, config JSON)."""
    now = utcnow()
    with write_transaction(db):
        for o in outlets:
            db.execute(
                """INSERT INTO outlets (id, name, homepage, language, config, added_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET name = excluded.name, homepage = excluded.homepage,
                     language = excluded.language, config = excluded.config, updated_at = excluded.updated_at""",
                [o["id"], o["name"], o.get("homepage"), o.get("language"), json.dumps(o, default=str), now, now],
            )


def find_article_by_urls(db: sqlite_utils.Database, urls: Iterable[str]) -> int | None:
    urls = list(urls)
    if not urls:
        return None
    marks = ",".join("?" * len(urls))
    row = db.execute(f"SELECT article_id FROM article_urls WHERE url IN ({marks}) LIMIT 1", urls).fetchone()
    return row[0] if row else None


def known_urls(db: sqlite_utils.Database, urls: Iterable[str]) -> set[str]:
    """The subset of `urls` (canonical forms) already stored for some article."""
    urls = list(urls)
    found: set[str] = set()
    for i in range(0, len(urls), 500):
        chunk = urls[i : i + 500]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in db.execute(f"SELECT url FROM article_urls WHERE url IN ({marks})", chunk))
    return found


def save_article(
    db: sqlite_utils.Database,
    rec: ArticleRecord,
    *,
    keep_html: bool = True,
    recheck: Sequence[tuple[int, int]] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> SaveResult:
    """Store `rec` as a new article or attach it to the article it duplicates. One transaction.

    Also, in the same transaction: the page's conditional-GET state, its first recheck time
    (`recheck`: see storage/recheck.py), its removal from the frontier, and its place in the
    near-duplicate index and clusters (`threshold`: see storage/clusters.py).
    """
    now = utcnow()
    with write_transaction(db):
        done(db, {rec.url, rec.final_url})
        record_fetch(db, rec.url, rec.outlet_id, "article", status=rec.status, headers=rec.headers, digest=rec.body_hash)
        urls = rec.all_urls()
        article_id = find_article_by_urls(db, [u for u, _ in urls])
        outcome: Outcome = "known_url"
        if article_id is None:
            row = db.execute(
                "SELECT id FROM articles WHERE outlet_id = ? AND content_hash = ? ORDER BY id LIMIT 1",
                [rec.outlet_id, rec.content_hash],
            ).fetchone()
            if row:
                article_id, outcome = row[0], "same_text"
        sig = rec.minhash()
        matches = best_matches(db, sig, threshold=threshold) if article_id is None and sig is not None else []
        same = same_article(matches, rec.outlet_id)
        if same is not None:
            article_id, outcome = same.article_id, "near_text"
        if article_id is not None:
            db.execute("UPDATE articles SET last_seen_at = ? WHERE id = ?", [now, article_id])
            _add_urls(db, article_id, urls, rec.found_via, now)
            return SaveResult(article_id, outcome)

        cursor = db.execute(
            """INSERT INTO articles (outlet_id, url, canonical_url, title, author, description, sitename,
                 image, categories, tags, published_at, modified_at, date_source, date_flags, found_via,
                 language, language_confidence, language_source, text, text_length, content_hash,
                 first_seen_at, last_seen_at, version, run_id, checked_at, next_check_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)""",
            [
                rec.outlet_id, rec.final_url, rec.canonical_url, rec.title, rec.author, rec.description,
                rec.sitename, rec.image, _json_list(rec.categories), _json_list(rec.tags), rec.published_at,
                rec.modified_at, rec.date_source, _json_list(rec.date_flags), rec.found_via, rec.language,
                rec.language_confidence, rec.language_source, rec.text, len(rec.text), rec.content_hash,
                # The first recheck time, as storage.recheck.schedule_next sets it, written with the
                # row: an UPDATE after the INSERT would write the whole row (text included) twice.
                now, now, rec.run_id, now, next_check_at(rec.published_at or now, now, recheck),
            ],
        )
        article_id = int(cursor.lastrowid)
        _add_urls(db, article_id, urls, rec.found_via, now)
        add_fetch(db, article_id, rec, keep_html=keep_html)
        index_article(db, article_id, sig, matches, threshold=threshold)
        return SaveResult(article_id, "new")


def add_fetch(db: sqlite_utils.Database, article_id: int, rec: ArticleRecord, *, keep_html: bool) -> None:
    html_gz = gzip.compress(rec.html, compresslevel=6) if keep_html and rec.html is not None else None
    db.execute(
        """INSERT INTO article_fetches (article_id, url, final_url, status, headers, fetched_at, encoding,
             hints, html_gz, html_size, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            article_id, rec.url, rec.final_url, rec.status, json.dumps(rec.headers), rec.fetched_at,
            rec.encoding, json.dumps(rec.hints, ensure_ascii=False, default=str), html_gz, len(rec.html) if rec.html is not None else None, rec.run_id,
        ],
    )


def fill_missing_dates(db: sqlite_utils.Database, fills: Iterable[tuple[str, str, str | None]]) -> int:
    """Give undated articles a date from (url, published_at, date_source); dated ones are left alone.

    Call inside a write transaction. Returns how many articles got a date.
    """
    filled = 0
    for url, published_at, source in fills:
        cursor = db.execute(
            """UPDATE articles SET published_at = ?, date_source = ?
               WHERE id = (SELECT article_id FROM article_urls WHERE url = ?) AND published_at IS NULL""",
            [published_at, source, url],
        )
        filled += cursor.rowcount
    return filled


def update_extraction(db: sqlite_utils.Database, article_id: int, fields: Mapping[str, Any], *,
                      threshold: float = DEFAULT_THRESHOLD) -> None:
    """Overwrite extracted fields of one article (used by `newsmon reextract`).

    A new text also gets a new signature, and the article's cluster is checked again.
    """
    allowed = {
        "title", "author", "description", "sitename", "image", "categories", "tags", "published_at",
        "modified_at", "date_source", "date_flags", "language", "language_confidence", "language_source",
        "text", "text_length", "content_hash",
    }
    values = {k: (_json_list(v) if isinstance(v, list) else v) for k, v in fields.items() if k in allowed}
    if not values:
        return
    assignments = ", ".join(f"{k} = ?" for k in values)
    with write_transaction(db):
        db.execute(f"UPDATE articles SET {assignments} WHERE id = ?", [*values.values(), article_id])
        if "text" in values:
            reindex_version(db, article_id, signature(values["text"]), threshold=threshold)


def _add_urls(db: sqlite_utils.Database, article_id: int, urls: list[tuple[str, str]], found_via: str, now: str) -> None:
    db.conn.executemany(
        "INSERT OR IGNORE INTO article_urls (url, article_id, kind, found_via, first_seen_at) VALUES (?, ?, ?, ?, ?)",
        [(url, article_id, kind, found_via, now) for url, kind in urls],
    )


def _json_list(values: list[str] | None) -> str | None:
    return json.dumps(values, ensure_ascii=False) if values else None
