"""The read side: search, export, show, outlet summaries. Read-only; every value is a parameter."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from storage.clusters import cluster_members
from storage.errors import NotFoundError, QueryError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import sqlite_utils

EXPORT_COLUMNS = [
    "id", "outlet", "url", "canonical_url", "urls", "title", "author", "description", "published_at",
    "modified_at", "date_source", "found_via", "language", "language_confidence", "text", "first_seen_at",
    "last_seen_at", "content_hash", "version", "changed_at", "removed_at", "cluster_id", "duplicate_of",
    "similarity", "copies",
]


def parse_when(value: str | None, *, option: str, end_of_day: bool = False) -> str | None:
    """An ISO date or datetime from the command line -> ISO 8601 UTC string ('...Z'), or QueryError."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            moment = datetime(d.year, d.month, d.day, tzinfo=UTC)
            if end_of_day:
                moment = moment.replace(hour=23, minute=59, second=59)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        raise QueryError(f"{option}: {_shown(value)} is not a date (use YYYY-MM-DD or an ISO 8601 datetime)") from None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _shown(value: str, limit: int = 80) -> str:
    """User text quoted for an error message: escaped (NUL, line breaks) and cut to one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _text(value: str, what: str) -> str:
    """User text for a query: SQLite needs valid UTF-8; undecodable bytes become a clear error."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryError(f"{what}: {_shown(value)} is not valid text (undecodable bytes)") from None
    return value


def _filters(
    outlet: str | None, language: str | None, since: str | None, until: str | None, alias: str = "a"
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    outlet = _text(outlet, "--outlet") if outlet else outlet
    language = _text(language, "--lang") if language else language
    if outlet:
        where.append(f"{alias}.outlet_id = ?")
        params.append(outlet)
    if language:
        where.append(f"{alias}.language = ?")
        params.append(language)
    # An article's date is its publication date, or when we first saw it if the page gave none.
    if since:
        where.append(f"coalesce({alias}.published_at, {alias}.first_seen_at) >= ?")
        params.append(since)
    if until:
        where.append(f"coalesce({alias}.published_at, {alias}.first_seen_at) <= ?")
        params.append(until)
    return where, params


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    outlet: str | None = None,
    language: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 20,
    include_duplicates: bool = False,
) -> list[dict[str, Any]]:
    """FTS5 search over title and text, best match first, with a snippet around the hits.

    One result per story: a hit on a copy shows its cluster's earliest article, with `copies`, the
    number of other articles in the cluster. `include_duplicates`, or an `outlet` filter (that
    outlet's own articles), shows every matching article.
    `query` is FTS5 syntax (words, "phrases", OR, NOT, prefix*). Raises QueryError when malformed.
    """
    if not query.strip():
        raise QueryError("search: the query is empty")
    query = _text(query, "search")
    where, params = _filters(outlet, language, since, until)
    head = "a.id" if include_duplicates or outlet else "coalesce(a.duplicate_of, a.id)"
    sql = f"""
        WITH hits AS (
            SELECT a.id AS hit, {head} AS head, snippet(articles_fts, 1, '[', ']', ' … ', 16) AS snippet,
                   bm25(articles_fts, 5.0, 1.0) AS rank
            FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
            WHERE articles_fts MATCH ? {''.join(' AND ' + w for w in where)}
        ), best AS (
            SELECT *, row_number() OVER (PARTITION BY head ORDER BY rank) AS n FROM hits
        )
        SELECT e.id, e.outlet_id AS outlet, e.title, e.published_at, e.language, e.url, best.snippet,
               best.rank, {_COPIES} AS copies
        FROM best JOIN articles e ON e.id = best.head
        WHERE best.n = 1 ORDER BY best.rank LIMIT ?"""
    try:
        rows = list(db.query(sql, [query, *params, limit]))
    except sqlite3.OperationalError as exc:
        raise QueryError(
            f"search: cannot read the query {_shown(query)} ({exc}). Use words, \"exact phrases\", OR, NOT, "
            "prefix*; put a term with punctuation in double quotes"
        ) from None
    for r in rows:
        r["rank"] = round(r["rank"], 3)
    return rows


#: Other articles in the cluster of the article `e`.
_COPIES = "(CASE WHEN e.cluster_id IS NULL THEN 0 ELSE (SELECT count(*) - 1 FROM articles c WHERE c.cluster_id = e.cluster_id) END)"


def export_rows(
    db: sqlite_utils.Database,
    *,
    outlet: str | None = None,
    language: str | None = None,
    since: str | None = None,
    until: str | None = None,
    include_duplicates: bool = False,
) -> Iterator[dict[str, Any]]:
    """One record per article, oldest first; without include_duplicates (or an outlet filter),
    one per story: the earliest article of each cluster, with `copies`."""
    where, params = _filters(outlet, language, since, until)
    if not include_duplicates and not outlet:
        where.append("a.duplicate_of IS NULL")
    sql = f"""
        SELECT a.id, a.outlet_id AS outlet, a.url, a.canonical_url,
               (SELECT json_group_array(u.url) FROM (SELECT url FROM article_urls
                    WHERE article_id = a.id ORDER BY first_seen_at, url) u) AS urls,
               a.title, a.author, a.description, a.published_at, a.modified_at, a.date_source, a.found_via,
               a.language, a.language_confidence, a.text, a.first_seen_at, a.last_seen_at, a.content_hash,
               a.version, a.changed_at, a.removed_at, a.cluster_id, a.duplicate_of, a.similarity,
               {_COPIES.replace("e.", "a.")} AS copies
        FROM articles a {'WHERE ' + ' AND '.join(where) if where else ''}
        ORDER BY a.id"""
    for row in db.query(sql, params):
        row["urls"] = json.loads(row["urls"])
        yield row


def get_article(db: sqlite_utils.Database, article_id: int) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
    if not rows:
        raise NotFoundError(f"no article with id {article_id}")
    article = rows[0]
    for key in ("categories", "tags", "date_flags"):
        article[key] = json.loads(article[key]) if article[key] else []
    article["urls"] = list(
        db.query(
            "SELECT url, kind, found_via, first_seen_at FROM article_urls WHERE article_id = ? ORDER BY first_seen_at, url",
            [article_id],
        )
    )
    article["fetches"] = list(
        db.query(
            "SELECT id, url, final_url, status, fetched_at, html_size, html_gz IS NOT NULL AS html_kept "
            "FROM article_fetches WHERE article_id = ? ORDER BY id",
            [article_id],
        )
    )
    article["cluster"] = cluster_members(db, article_id)
    article["versions"] = list(
        db.query(
            "SELECT version, title, text_length, content_hash, seen_from, replaced_at FROM article_versions "
            "WHERE article_id = ? ORDER BY version",
            [article_id],
        )
    )
    return article


def outlet_summaries(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Each outlet: its health state and why, articles stored, newest article, its last run, the
    last error seen, and its next run when the service schedules it."""
    sql = """
        SELECT o.id, o.name, coalesce(h.state, 'new') AS state, h.reason, h.since AS state_since,
               (SELECT count(*) FROM articles a WHERE a.outlet_id = o.id) AS articles,
               (SELECT max(coalesce(a.published_at, a.first_seen_at)) FROM articles a
                    WHERE a.outlet_id = o.id) AS newest,
               r.started_at AS last_run, r.status AS last_status, r.articles_new AS last_new,
               r.pages AS last_pages, r.not_modified AS last_not_modified,
               s.next_run_at AS next_run, s.running_since,
               (SELECT r2.last_error FROM crawl_runs r2 WHERE r2.outlet_id = o.id AND r2.last_error IS NOT NULL
                    ORDER BY r2.started_at DESC, r2.id DESC LIMIT 1) AS last_error
        FROM outlets o
        LEFT JOIN outlet_health h ON h.outlet_id = o.id
        LEFT JOIN schedule s ON s.outlet_id = o.id
        LEFT JOIN crawl_runs r ON r.id = (SELECT id FROM crawl_runs WHERE outlet_id = o.id
                                          ORDER BY started_at DESC, id DESC LIMIT 1)
        ORDER BY o.id"""
    return list(db.query(sql))


def clusters(
    db: sqlite_utils.Database, *, since: str | None = None, min_size: int = 2, limit: int = 20
) -> list[dict[str, Any]]:
    """The largest stories: clusters with at least `min_size` articles, largest first, each with its
    earliest article and its outlets in publication order. `since` filters on the cluster's first
    publication (ISO 8601 UTC)."""
    sql = """
        SELECT a.cluster_id, count(*) AS size, e.id AS earliest_id, e.outlet_id AS earliest_outlet,
               coalesce(e.published_at, e.first_seen_at) AS first_published_at, e.title
        FROM articles a JOIN articles e ON e.cluster_id = a.cluster_id AND e.duplicate_of IS NULL
        WHERE a.cluster_id IS NOT NULL {since}
        GROUP BY a.cluster_id HAVING count(*) >= ?
        ORDER BY size DESC, first_published_at DESC LIMIT ?"""
    params: list[Any] = []
    if since:
        params.append(since)
    rows = list(db.query(sql.format(since="AND coalesce(e.published_at, e.first_seen_at) >= ?" if since else ""),
                         [*params, max(min_size, 2), limit]))
    for row in rows:
        row["outlets"] = list(dict.fromkeys(
            r[0] for r in db.execute(
                """SELECT outlet_id FROM articles WHERE cluster_id = ?
                   ORDER BY coalesce(published_at, first_seen_at), first_seen_at, id""", [row["cluster_id"]])))
    return [{k: r[k] for k in ("cluster_id", "size", "outlets", "earliest_id", "earliest_outlet",
                               "first_published_at", "title")} for r in rows]


def stored_html(db: sqlite_utils.Database, *, outlet: str | None = None) -> Iterator[dict[str, Any]]:
    """The latest kept raw HTML of each article (for `newsmon reextract`)."""
    outlet = _text(outlet, "--outlet") if outlet else outlet
    where = "WHERE a.outlet_id = ?" if outlet else ""
    sql = f"""
        SELECT a.id AS article_id, a.outlet_id, f.final_url, f.html_gz, f.headers, f.hints, a.found_via
        FROM articles a JOIN article_fetches f ON f.id = (
            SELECT id FROM article_fetches WHERE article_id = a.id AND html_gz IS NOT NULL ORDER BY id DESC LIMIT 1)
        {where} ORDER BY a.id"""
    yield from db.query(sql, [outlet] if outlet else [])
