"""Storage at archive scale: the query plans of search and export, and migration m004 on an old file.

Timings live in bench/archive_scale.py; these tests check what makes them: which index each
plan reads, that no plan scans `articles`, and that every search strategy returns the same hits.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

import pytest

from monitor.output import write_csv, write_jsonl
from storage.articles import ArticleRecord, save_article, upsert_outlets
from storage.db import open_database, schema_version
from storage.dedup import content_hash
from storage.queries import EXPORT_COLUMNS, export_rows, search, search_plan
from storage.schema import migrations

if TYPE_CHECKING:
    from pathlib import Path

    import sqlite_utils

WORDS = ["sécheresse", "récolte", "gouvernement", "budget", "élection", "tempête", "port", "usine"]


def record(i: int, *, outlet: str, language: str, published_at: str | None) -> ArticleRecord:
    text = " ".join(WORDS[(i + k) % len(WORDS)] + f" mot{(i * 7 + k) % 50}" for k in range(30))
    url = f"https://{outlet}.example/a/{i}"
    return ArticleRecord(outlet_id=outlet, url=url, final_url=url, canonical_url=url, text=text,
                         content_hash=content_hash(text), found_via="feed", fetched_at="2026-01-01T00:00:00Z",
                         title=f"Article {i} {WORDS[i % len(WORDS)]}", language=language, published_at=published_at)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    """120 articles of 3 outlets in 2 languages over 4 months, a few without a date."""
    db = open_database(tmp_path_factory.mktemp("scale") / "newsmon.db")
    upsert_outlets(db, [{"id": o, "name": o} for o in ("fr1", "fr2", "en1")])
    for i in range(120):
        outlet = ("fr1", "fr2", "en1")[i % 3]
        published = None if i % 17 == 0 else f"2026-{1 + i % 4:02d}-{1 + i % 28:02d}T08:00:00Z"
        save_article(db, record(i, outlet=outlet, language="en" if outlet == "en1" else "fr", published_at=published))
    yield db
    db.close()


def plan(db: sqlite_utils.Database, sql: str, params: list) -> str:
    return "\n".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))


FILTERS = {
    "outlet": ({"outlet": "fr1"}, "idx_article_filters_outlet (outlet_id=?)"),
    "language": ({"language": "fr"}, "idx_article_filters_language (language=?)"),
    "dates": ({"since": "2026-02-01T00:00:00Z", "until": "2026-02-28T23:59:59Z"},
              "idx_article_filters_date (sort_date>? AND sort_date<?)"),
    "all": ({"outlet": "fr1", "language": "fr", "since": "2026-02-01T00:00:00Z", "until": "2026-03-31T23:59:59Z"},
            "idx_article_filters_outlet (outlet_id=? AND sort_date>? AND sort_date<?)"),
}


@pytest.mark.parametrize("name", FILTERS)
def test_filter_first_reads_one_covering_index(archive: sqlite_utils.Database, name: str) -> None:
    kwargs, index = FILTERS[name]
    strategy, sql, params = search_plan(archive, "récolte", few_hits=1, few_articles=10_000, **kwargs)
    assert strategy == "filter-first"
    text = plan(archive, sql, params)
    assert f"SEARCH f USING COVERING INDEX {index}" in text
    # The hits are bounded by the chosen ids (rowid range: the >< of FTS5's index string).
    assert "SCAN articles_fts VIRTUAL TABLE INDEX 0:M2><" in text
    assert " articles " not in f" {text} ".replace("articles_fts", "")


@pytest.mark.parametrize("name", FILTERS)
def test_hits_first_checks_filters_by_id(archive: sqlite_utils.Database, name: str) -> None:
    kwargs, _ = FILTERS[name]
    strategy, sql, params = search_plan(archive, "récolte", few_hits=10_000, **kwargs)
    assert strategy == "hits-first"
    text = plan(archive, sql, params)
    assert text.splitlines()[0].startswith("SCAN articles_fts VIRTUAL TABLE")
    assert "SEARCH f USING INTEGER PRIMARY KEY (rowid=?)" in text


def test_unfiltered_ranks_hits_only(archive: sqlite_utils.Database) -> None:
    strategy, sql, params = search_plan(archive, "récolte")
    assert strategy == "fts"
    assert plan(archive, sql, params).splitlines() == ["SCAN articles_fts VIRTUAL TABLE INDEX 0:M2",
                                                        "USE TEMP B-TREE FOR ORDER BY"]


@pytest.mark.parametrize("kwargs", [{}, {"language": "fr"}])
def test_a_frequent_word_is_ranked_among_its_newest_hits(archive: sqlite_utils.Database,
                                                          kwargs: dict[str, str]) -> None:
    strategy, sql, params = search_plan(archive, "récolte OR budget", few_hits=1, few_articles=1, rank_window=10,
                                        limit=1000, **kwargs)
    assert strategy == ("hits-first-newest" if kwargs else "fts-newest")
    ranked = [r[0] for r in archive.execute(sql, params)]
    # The 10 newest matching articles (passing the filter), in rank order; older ones unranked.
    where, args = ("AND a.language = ?", [kwargs["language"]]) if kwargs else ("", [])
    newest = [r[0] for r in archive.execute(
        "SELECT a.id FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
        f"WHERE articles_fts MATCH ? {where} ORDER BY a.id DESC LIMIT 10", ["récolte OR budget", *args])]
    assert sorted(ranked) == sorted(newest) and len(ranked) == 10
    text = plan(archive, sql, params)
    # FTS5 reads the hits newest first (idxNum 192: ordered by rowid, descending): no sort of every hit.
    assert text.splitlines()[1] == "SCAN articles_fts VIRTUAL TABLE INDEX 192:M2"
    # Below the window, every hit is ranked.
    assert search_plan(archive, "récolte", few_hits=1, few_articles=1, **kwargs)[0] in ("fts", "hits-first-newest")


def test_filter_first_over_many_articles_ranks_the_newest_that_pass(archive: sqlite_utils.Database) -> None:
    strategy, sql, params = search_plan(archive, "récolte OR budget", language="fr", few_hits=1,
                                        few_articles=10_000, rank_window=10, limit=1000)
    assert strategy == "filter-first-newest"
    ranked = sorted(r[0] for r in archive.execute(sql, params))
    newest = [r[0] for r in archive.execute(
        "SELECT id FROM articles WHERE language = 'fr' ORDER BY id DESC LIMIT 10")]
    matching = {r[0] for r in archive.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", ["récolte OR budget"])}
    assert ranked == sorted(i for i in newest if i in matching) and ranked


def test_the_page_s_snippets_come_from_one_query(archive: sqlite_utils.Database) -> None:
    rows = search(archive, "réc*", limit=5)
    assert len(rows) == 5 and all("[" in r["snippet"] for r in rows)
    statements: list[str] = []
    archive.conn.set_trace_callback(statements.append)
    try:
        search(archive, "réc*", limit=5)
    finally:
        archive.conn.set_trace_callback(None)
    assert sum("snippet(" in sql for sql in statements) == 1


def test_without_a_prefix_each_snippet_seeks_its_hit(archive: sqlite_utils.Database) -> None:
    # A phrase's positions are read for the hits shown, not for every article between them.
    statements: list[str] = []
    archive.conn.set_trace_callback(statements.append)
    try:
        rows = search(archive, '"récolte mot*" OR "budget mot3"', limit=3)
        phrase_rows = search(archive, '"budget mot3"', limit=4)
    finally:
        archive.conn.set_trace_callback(None)
    snippet_sql = [sql for sql in statements if "snippet(" in sql]
    assert len(rows) == 3 and len(phrase_rows) == 4
    assert len(snippet_sql) == 1 + 4 and all("rowid = " in sql for sql in snippet_sql[1:])
    # The same snippets as one query over the range of the shown hits.
    ids = [r["id"] for r in phrase_rows]
    expected = dict(archive.execute(
        "SELECT rowid, snippet(articles_fts, 1, '[', ']', ' … ', 16) FROM articles_fts "
        "WHERE articles_fts MATCH ? AND rowid BETWEEN ? AND ?", ['"budget mot3"', min(ids), max(ids)]).fetchall())
    assert [r["snippet"] for r in phrase_rows] == [expected[i] for i in ids]
    assert all("[budget mot3]" in r["snippet"] for r in phrase_rows)


@pytest.mark.parametrize("name", FILTERS)
def test_every_strategy_ranks_the_same_hits(archive: sqlite_utils.Database, name: str) -> None:
    kwargs, _ = FILTERS[name]
    results = []
    for few_hits, few_articles in ((10_000, 1), (1, 10_000), (1, 1)):  # hits-first, filter-first, hits-first
        _, sql, params = search_plan(archive, "récolte OR budget", few_hits=few_hits, few_articles=few_articles,
                                     limit=1000, **kwargs)
        results.append(archive.execute(sql, params).fetchall())
    assert results[0] and results[0] == results[1] == results[2]
    # ... and they are exactly the matching articles that pass the filters, the reference query.
    where = ["articles_fts MATCH ?"]
    ref_params: list = ["récolte OR budget"]
    for key, column, op in (("outlet", "a.outlet_id", "="), ("language", "a.language", "="),
                            ("since", "coalesce(a.published_at, a.first_seen_at)", ">="),
                            ("until", "coalesce(a.published_at, a.first_seen_at)", "<=")):
        if key in kwargs:
            where.append(f"{column} {op} ?")
            ref_params.append(kwargs[key])
    expected = {r[0] for r in archive.execute(
        f"SELECT a.id FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid WHERE {' AND '.join(where)}",
        ref_params)}
    assert {r[0] for r in results[0]} == expected


def test_search_results_do_not_depend_on_the_strategy(archive: sqlite_utils.Database) -> None:
    for kwargs, _ in FILTERS.values():
        rows = search(archive, "récolte", limit=5, **kwargs)
        assert rows and all("[" in r["snippet"] for r in rows)
        assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)


def test_export_filters_read_article_filters(archive: sqlite_utils.Database) -> None:
    rows = list(export_rows(archive, language="fr", since="2026-03-01T00:00:00Z"))
    expected = [r[0] for r in archive.execute(
        "SELECT id FROM articles WHERE language = 'fr' AND coalesce(published_at, first_seen_at) >= ? "
        "AND duplicate_of IS NULL ORDER BY id", ["2026-03-01T00:00:00Z"])]
    assert [r["id"] for r in rows] == expected and expected
    sql = ("SELECT a.id FROM articles a WHERE a.id IN (SELECT f.id FROM article_filters f "
           "WHERE f.language = ? AND f.sort_date >= ?) ORDER BY a.id")
    assert "COVERING INDEX idx_article_filters_language (language=? AND sort_date>?)" in plan(
        archive, sql, ["fr", "2026-03-01T00:00:00Z"])


def test_m004_applies_on_an_old_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = open_database(path, migrate=False)
    migrations.apply(old, stop_before="m004_article_filters")
    assert schema_version(old) == ["m001_initial", "m002_service", "m003_clusters"]
    old.execute("INSERT INTO outlets (id, name, added_at, updated_at) VALUES ('o', 'O', 'x', 'x')")
    for i, published in enumerate(["2026-01-05T00:00:00Z", None, "2026-02-01T00:00:00Z"], start=1):
        old.execute(
            """INSERT INTO articles (id, outlet_id, url, canonical_url, title, language, published_at, text,
                 text_length, content_hash, first_seen_at, last_seen_at, duplicate_of)
               VALUES (?, 'o', ?, ?, 'récolte', 'fr', ?, 'la récolte de blé', 17, ?, '2026-03-01T00:00:00Z',
                 '2026-03-01T00:00:00Z', ?)""",
            [i, f"u{i}", f"u{i}", published, f"h{i}", 1 if i == 3 else None])
    old.close()

    db = open_database(path)
    assert "m004_article_filters" in schema_version(db)
    assert db.execute("SELECT id, outlet_id, language, sort_date, duplicate_of FROM article_filters ORDER BY id"
                      ).fetchall() == [(1, "o", "fr", "2026-01-05T00:00:00Z", None),
                                       (2, "o", "fr", "2026-03-01T00:00:00Z", None),
                                       (3, "o", "fr", "2026-02-01T00:00:00Z", 1)]
    assert [r["id"] for r in search(db, "récolte", since="2026-02-15")] == [2]
    assert [r["id"] for r in search(db, "récolte", until="2026-02-15")] == [1]  # 3 is a copy of 1

    # The triggers keep it in step with articles.
    db.execute("UPDATE articles SET published_at = '2026-04-01T00:00:00Z', language = 'de' WHERE id = 2")
    db.execute("UPDATE articles SET duplicate_of = NULL WHERE id = 3")
    db.execute("DELETE FROM articles WHERE id = 1")
    assert db.execute("SELECT id, language, sort_date, duplicate_of FROM article_filters ORDER BY id").fetchall() == [
        (2, "de", "2026-04-01T00:00:00Z", None), (3, "fr", "2026-02-01T00:00:00Z", None)]
    assert not db.execute("PRAGMA foreign_key_check").fetchall()
    db.close()


def test_csv_writer_matches_the_csv_module() -> None:
    rows = [
        {"id": 1, "title": 'a "quoted", title', "text": "line one\nline two\r\nend", "urls": ["https://x/1", "é"],
         "similarity": 0.125, "copies": 0, "author": None},
        {"id": 2, "title": "plain", "text": "", "urls": [], "similarity": None, "extra": "ignored", "author": "Zoë"},
        {"id": 3, "title": "\r", "text": ",", "urls": {"k": "v"}, "similarity": 1e-07, "copies": True},
    ]
    ours = io.StringIO()
    assert write_csv(rows, ours, EXPORT_COLUMNS) == 3
    theirs = io.StringIO()
    writer = csv.DictWriter(theirs, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v)
                         for k, v in row.items()})
    assert ours.getvalue() == theirs.getvalue()
    assert list(csv.DictReader(io.StringIO(ours.getvalue())))[0]["text"] == "line one\nline two\r\nend"


def test_jsonl_writer_one_object_per_line() -> None:
    rows = [{"id": i, "text": f"é\n{i}", "urls": [str(i)]} for i in range(600)]
    out = io.StringIO()
    assert write_jsonl(iter(rows), out) == 600
    assert [json.loads(line) for line in out.getvalue().splitlines()] == rows
    assert "é" in out.getvalue()  # UTF-8 kept, not \u-escaped


def test_save_article_sets_the_first_recheck_with_the_row(tmp_path: Path) -> None:
    db = open_database(tmp_path / "n.db")
    upsert_outlets(db, [{"id": "o", "name": "O"}])
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    save_article(db, record(1, outlet="o", language="fr", published_at=None), recheck=[(86400, 3600)])
    db.conn.set_trace_callback(None)
    row = db.execute("SELECT checked_at, next_check_at, first_seen_at, last_seen_at FROM articles").fetchone()
    assert row[0] == row[2] == row[3] and row[1] > row[0]
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE ARTICLES")]
    db.close()


def test_pragmas(tmp_path: Path) -> None:
    db = open_database(tmp_path / "n.db")
    assert db.execute("PRAGMA cache_size").fetchone()[0] == -65536
    assert db.execute("PRAGMA temp_store").fetchone()[0] == 2
    db.close()
