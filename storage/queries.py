"""The read side: search, export, show, outlet summaries. Read-only; every value is a parameter."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from storage.clusters import cluster_members
from storage.errors import NotFoundError, QueryError, did_you_mean

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


def check_outlet(db: sqlite_utils.Database, outlet: str | None) -> None:
    """NotFoundError if `outlet` is given but the database has no such outlet.

    An `--outlet` with a typo would otherwise select nothing, and "no results" would read as an
    answer. The message names the closest outlet id, else a few of those the database has. An
    empty `outlet` is no filter, as in the queries.
    """
    if not outlet:
        return
    _text(outlet, "--outlet")
    if db.execute("SELECT 1 FROM outlets WHERE id = ?", [outlet]).fetchone():
        return
    known = [r[0] for r in db.execute("SELECT id FROM outlets ORDER BY id")]
    hint = did_you_mean(outlet, known)
    if not hint:
        hint = (f"; it has {len(known)}: {', '.join(known[:8])}" + (", ..." if len(known) > 8 else "")
                if known else "; it has none yet (run `newsmon crawl`)")
    raise NotFoundError(f"no outlet {_shown(outlet)} in the database{hint}")


def _filters(
    outlet: str | None, language: str | None, since: str | None, until: str | None, alias: str = "f"
) -> tuple[list[str], list[Any]]:
    """SQL conditions on `article_filters` (as `alias`) and their parameters."""
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
        where.append(f"{alias}.sort_date >= ?")
        params.append(since)
    if until:
        where.append(f"{alias}.sort_date <= ?")
        params.append(until)
    return where, params


def _filter_index(outlet: str | None, language: str | None) -> str:
    """The index of `article_filters` that holds every filter column, the most selective first."""
    if outlet:
        return "idx_article_filters_outlet"  # (outlet_id, sort_date, language)
    if language:
        return "idx_article_filters_language"  # (language, sort_date)
    return "idx_article_filters_date"  # (sort_date)


#: bm25 with a title hit worth five text hits. FTS5 returns it negative: lower is better.
_RANK = "bm25(articles_fts, 5.0, 1.0)"
#: A filtered search counts the full-text hits up to this many; fewer: rank them all, checking
#: each hit's filters by id in article_filters.
FEW_HITS = 2_000
#: More hits: count the articles passing the filters up to this many; fewer: read them first from
#: their index into a temporary set and rank only the hits in it (the hits are read, not ranked).
FEW_ARTICLES = 50_000
#: A word found in more articles than this (of those passing the filters) is ranked among its
#: newest RANK_WINDOW hits only: bm25 over every hit of a frequent word costs about 1 ms per
#: thousand hits, 0.5 s for a word in half of a million-article archive.
RANK_WINDOW = 20_000


def search_plan(db: sqlite_utils.Database, query: str, *, outlet: str | None = None,
                language: str | None = None, since: str | None = None, until: str | None = None,
                limit: int = 20, few_hits: int = FEW_HITS, few_articles: int = FEW_ARTICLES,
                rank_window: int = RANK_WINDOW) -> tuple[str, str, list[Any]]:
    """How `search` finds the best `limit` full-text hits: (strategy, SQL, parameters).

    - "fts" (no filter): the hits, ranked by bm25; ORDER BY ... LIMIT keeps only the best in the sort.
    - "hits-first" (a filter, and fewer than FEW_HITS hits, or many hits and many articles passing
      the filters, e.g. only a language): each hit's filters read by id from `article_filters` a
      narrow index; bm25 only for the hits that pass.
    - "filter-first" (many hits, few articles passing the filters: an outlet, a date range): the
      ids passing the filters, from one index range, into a temporary set; the hits between its
      smallest and largest id are read, and only those in the set are ranked.
    - "...-newest" ("fts" or "hits-first" with at least RANK_WINDOW hits, "filter-first" with at
      least RANK_WINDOW articles passing the filters): only the newest
      `rank_window` hits (by rowid, the order articles were stored in) that pass the filters are
      ranked, read newest first from the full-text index; the bm25 of older hits is never computed.
    None reads an article row (4-6 KB with its text): only the page shown does (`search`).
    `few_hits`, `few_articles` and `rank_window` are the thresholds (tests force each strategy).
    """
    where, params = _filters(outlet, language, since, until)
    order = "ORDER BY rank, articles_fts.rowid LIMIT ?"
    counted = max(few_hits, rank_window) if not where else few_hits
    hits = db.execute("SELECT count(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? LIMIT ?)",
                      [query, counted]).fetchone()[0]
    if not where:
        if hits >= rank_window:
            return ("fts-newest", f"""
                SELECT rowid, rank FROM (SELECT articles_fts.rowid AS rowid, {_RANK} AS rank FROM articles_fts
                    WHERE articles_fts MATCH ? ORDER BY articles_fts.rowid DESC LIMIT ?)
                ORDER BY rank, rowid LIMIT ?""", [query, rank_window, limit])
        return ("fts", f"SELECT articles_fts.rowid, {_RANK} AS rank FROM articles_fts "
                       f"WHERE articles_fts MATCH ? {order}", [query, limit])
    cond = " AND ".join(where)
    if hits >= few_hits:
        chosen = f"SELECT f.id FROM article_filters f INDEXED BY {_filter_index(outlet, language)} WHERE {cond}"
        passing = db.execute(f"SELECT count(*) FROM ({chosen} LIMIT ?)", [*params, few_articles]).fetchone()[0]
        if rank_window <= passing < few_articles:
            # Many articles pass: the newest `rank_window` of them (by id, the order they were
            # stored in) are the ones whose hits are ranked.
            return ("filter-first-newest", f"""
                WITH chosen(id) AS MATERIALIZED ({chosen} ORDER BY f.id DESC LIMIT ?)
                SELECT articles_fts.rowid, {_RANK} AS rank FROM articles_fts
                WHERE articles_fts MATCH ? AND articles_fts.rowid BETWEEN (SELECT min(id) FROM chosen)
                      AND (SELECT max(id) FROM chosen) AND +articles_fts.rowid IN chosen
                {order}""", [*params, rank_window, query, limit])
        if passing < few_articles:
            return ("filter-first", f"""
                WITH chosen(id) AS MATERIALIZED ({chosen})
                SELECT articles_fts.rowid, {_RANK} AS rank FROM articles_fts
                WHERE articles_fts MATCH ? AND articles_fts.rowid BETWEEN (SELECT min(id) FROM chosen)
                      AND (SELECT max(id) FROM chosen) AND +articles_fts.rowid IN chosen
                {order}""", [*params, query, limit])
        # Many hits and many articles passing the filters (a language, a long date range): the
        # passing hits of a frequent word can be too many to rank them all.
        return ("hits-first-newest", f"""
            SELECT rowid, rank FROM (
                SELECT articles_fts.rowid AS rowid, {_RANK} AS rank
                FROM articles_fts CROSS JOIN article_filters f ON f.id = articles_fts.rowid
                WHERE articles_fts MATCH ? AND {cond} ORDER BY articles_fts.rowid DESC LIMIT ?)
            ORDER BY rank, rowid LIMIT ?""", [query, *params, rank_window, limit])
    return ("hits-first", f"""
        SELECT articles_fts.rowid, {_RANK} AS rank
        FROM articles_fts CROSS JOIN article_filters f ON f.id = articles_fts.rowid
        WHERE articles_fts MATCH ? AND {cond} {order}""", [query, *params, limit])


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
    outlet's own articles), shows every matching article. The filters apply to the hits: a story
    is shown when one of its articles matches them, ranked by its best such hit (ties: lowest id).
    `query` is FTS5 syntax (words, "phrases", OR, NOT, prefix*). Raises QueryError when malformed.

    In two steps, so that the cost of a frequent word does not include a snippet per hit: the
    best hits (rowid and bm25 only, see `search_plan`), then the snippet and the article for the
    page shown. With one result per story, hits of the same story count once: when the best
    hits hold fewer than `limit` stories, more hits are ranked.
    """
    if not query.strip():
        raise QueryError("search: the query is empty")
    query = _text(query, "search")
    per_story = not (include_duplicates or outlet)
    wanted = limit * 2 + 10 if per_story else limit
    try:
        while True:
            _, sql, params = search_plan(db, query, outlet=outlet, language=language, since=since, until=until,
                                         limit=wanted)
            hits = db.execute(sql, params).fetchall()
            best = _best_per_story(db, hits, limit) if per_story else [(h, h, r) for h, r in hits[:limit]]
            if len(best) >= limit or len(hits) < wanted:
                break
            wanted *= 4
        snippets = _snippets(db, query, [hit for _, hit, _ in best])
    except sqlite3.OperationalError as exc:
        raise QueryError(
            f"search: cannot read the query {_shown(query)} ({exc}). Use words, \"exact phrases\", OR, NOT, "
            "prefix*; put a term with punctuation in double quotes"
        ) from None
    if not best:
        return []
    articles = {r["id"]: r for r in db.query(
        f"""SELECT e.id, e.outlet_id AS outlet, e.title, e.published_at, e.language, e.url, {_COPIES} AS copies
            FROM articles e WHERE e.id IN (SELECT value FROM json_each(?))""",
        [json.dumps([head for head, _, _ in best])])}
    rows = []
    for head, hit, rank in best:
        row = articles[head]
        rows.append({"id": row["id"], "outlet": row["outlet"], "title": row["title"],
                     "published_at": row["published_at"], "language": row["language"], "url": row["url"],
                     "snippet": snippets[hit], "rank": round(rank, 3), "copies": row["copies"]})
    return rows


_SNIPPET = "SELECT rowid, snippet(articles_fts, 1, '[', ']', ' … ', 16) FROM articles_fts WHERE articles_fts MATCH ?"


def _snippets(db: sqlite_utils.Database, query: str, shown: list[int]) -> dict[int, str]:
    """The snippet of each shown hit.

    A prefix term (`*`) is merged from all its terms' doclists each time FTS5 evaluates the
    query, whatever the rowid asked for: one query between the smallest and the largest shown id
    then merges once. Without one, FTS5 seeks each hit's rowid in the doclists: a query per hit
    reads the positions of 20 articles, where the range would read those of every article between
    them (at a million articles, 150 ms for a phrase of two common words spread over the archive).
    """
    if "*" in query:
        return dict(db.execute(
            f"{_SNIPPET} AND rowid BETWEEN ? AND ? AND +rowid IN (SELECT value FROM json_each(?))",
            [query, min(shown, default=0), max(shown, default=0), json.dumps(shown)]).fetchall())
    snippets = {}
    for hit in shown:
        row = db.execute(f"{_SNIPPET} AND rowid = ?", [query, hit]).fetchone()
        if row is not None:
            snippets[row[0]] = row[1]
    return snippets


def _best_per_story(db: sqlite_utils.Database, hits: list[tuple[int, float]], limit: int) -> list[tuple[int, int, float]]:
    """(story head, best hit, its rank) for the first `limit` stories of `hits` (best first)."""
    heads = dict(db.execute(
        "SELECT id, coalesce(duplicate_of, id) FROM article_filters "
        "WHERE id IN (SELECT value FROM json_each(?))", [json.dumps([h for h, _ in hits])]).fetchall())
    best: dict[int, tuple[int, int, float]] = {}
    for hit, rank in hits:
        head = heads.get(hit, hit)
        if head not in best:
            best[head] = (head, hit, rank)
            if len(best) == limit:
                break
    return list(best.values())


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
    conditions = [f"a.id IN (SELECT f.id FROM article_filters f WHERE {' AND '.join(where)})"] if where else []
    if not include_duplicates and not outlet:
        conditions.append("a.duplicate_of IS NULL")
    sql = f"""
        SELECT a.id, a.outlet_id AS outlet, a.url, a.canonical_url,
               (SELECT json_group_array(u.url) FROM (SELECT url FROM article_urls
                    WHERE article_id = a.id ORDER BY first_seen_at, url) u) AS urls,
               a.title, a.author, a.description, a.published_at, a.modified_at, a.date_source, a.found_via,
               a.language, a.language_confidence, a.text, a.first_seen_at, a.last_seen_at, a.content_hash,
               a.version, a.changed_at, a.removed_at, a.cluster_id, a.duplicate_of, a.similarity,
               {_COPIES.replace("e.", "a.")} AS copies
        FROM articles a {'WHERE ' + ' AND '.join(conditions) if conditions else ''}
        ORDER BY a.id"""
    cursor = db.execute(sql, params)
    keys = [d[0] for d in cursor.description]
    loads = json.loads
    for values in cursor:
        row = dict(zip(keys, values, strict=True))
        row["urls"] = loads(row["urls"])
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
