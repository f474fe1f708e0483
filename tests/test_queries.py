"""Tests of storage/queries.py: search, export, show and outlet summaries on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from storage.articles import ArticleRecord, save_article, upsert_outlets
from storage.db import open_database
from storage.dedup import content_hash
from storage.errors import NotFoundError, QueryError
from storage.queries import (
    EXPORT_COLUMNS,
    export_rows,
    get_article,
    outlet_summaries,
    parse_when,
    search,
)
from storage.runs import RunFigures, finish_run, start_runs

ARTICLES = [
    # key, outlet, language, published_at, title, text
    ("fr-dry", "a", "fr", "2024-03-01T08:00:00Z", "Sécheresse dans le sud",
     "Les agriculteurs du sud souffrent de la sécheresse et attendent la pluie."),
    ("en-dry", "a", "en", "2024-03-10T08:00:00Z", "Drought in the south",
     "Farmers in the south suffer from the drought and wait for rain; sécheresse is the French word."),
    ("b-dry", "b", "fr", "2024-04-01T00:00:00Z", "La sécheresse vue d'ailleurs",
     "Un autre journal parle aussi de la sécheresse et des agriculteurs."),
    ("b-undated", "b", "fr", None, "Article sans date",
     "Un article sans date de publication sur la sécheresse."),
]


def record(key: str, outlet: str, language: str, published_at: str | None, title: str, text: str) -> ArticleRecord:
    url = f"https://{outlet}.example/{key}"
    return ArticleRecord(
        outlet_id=outlet, url=url, final_url=url, canonical_url=url, text=text, content_hash=content_hash(text),
        found_via="feed", fetched_at="2024-03-01T10:00:00Z", title=title, language=language,
        published_at=published_at, tags=["climat"],
    )


def count(db: sqlite_utils.Database, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {t: count(db, t) for t in ("outlets", "articles", "article_urls", "article_fetches", "crawl_runs")}


@pytest.fixture
def db(tmp_path: Path):
    database = open_database(tmp_path / "newsmon.db")
    upsert_outlets(database, [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}, {"id": "c", "name": "C"}])
    for row in ARTICLES:
        save_article(database, record(*row))
    yield database
    database.close()


def keys(rows: list[dict]) -> set[str]:
    """The ARTICLES keys of `rows` (the last segment of their URL)."""
    return {r["url"].rsplit("/", 1)[1] for r in rows}


def article_id(db: sqlite_utils.Database, key: str) -> int:
    return db.execute("SELECT id FROM articles WHERE url LIKE ?", [f"%/{key}"]).fetchone()[0]


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "filters", "expected"),
    [
        pytest.param("sécheresse", {}, {"fr-dry", "en-dry", "b-dry", "b-undated"}, id="all"),
        pytest.param("secheresse", {}, {"fr-dry", "en-dry", "b-dry", "b-undated"}, id="diacritics-folded"),
        pytest.param("sécheresse", {"outlet": "a"}, {"fr-dry", "en-dry"}, id="outlet"),
        pytest.param("sécheresse", {"outlet": "c"}, set(), id="outlet-without-articles"),
        pytest.param("sécheresse", {"language": "en"}, {"en-dry"}, id="language"),
        pytest.param("sécheresse", {"outlet": "b", "language": "fr"}, {"b-dry", "b-undated"}, id="outlet-language"),
        pytest.param("sécheresse", {"since": "2024-03-05T00:00:00Z", "until": "2024-12-31T23:59:59Z"},
                     {"en-dry", "b-dry"}, id="since-until"),
        pytest.param("sécheresse", {"until": "2024-03-01T08:00:00Z"}, {"fr-dry"}, id="until-inclusive"),
        pytest.param("sécheresse", {"since": "2024-04-01T00:00:00Z"}, {"b-dry", "b-undated"},
                     id="since-inclusive-undated-uses-first-seen"),
        pytest.param("agriculteurs NOT journal", {}, {"fr-dry"}, id="not-operator"),
        pytest.param("drought OR journal", {}, {"en-dry", "b-dry"}, id="or-operator"),
        pytest.param('"attendent la pluie"', {}, {"fr-dry"}, id="phrase"),
        pytest.param("agricult*", {}, {"fr-dry", "b-dry"}, id="prefix"),
        pytest.param("title: drought", {}, {"en-dry"}, id="column-filter"),
        pytest.param("zzzznothing", {}, set(), id="no-hit"),
    ],
)
def test_search_filters(db: sqlite_utils.Database, query: str, filters: dict, expected: set[str]) -> None:
    assert keys(search(db, query, **filters)) == expected


def test_search_title_hit_ranks_first(db: sqlite_utils.Database) -> None:
    rows = search(db, "drought")
    assert [r["id"] for r in rows][0] == article_id(db, "en-dry")


def test_search_snippet_marks_hits(db: sqlite_utils.Database) -> None:
    (row,) = search(db, "pluie")
    assert "[pluie]" in row["snippet"]


def test_search_limit(db: sqlite_utils.Database) -> None:
    assert len(search(db, "sécheresse", limit=2)) == 2


@pytest.mark.parametrize(
    "query",
    [
        pytest.param('"unclosed', id="unclosed-quote"),
        pytest.param('"', id="lone-quote"),
        pytest.param('foo"bar', id="quote-inside-word"),
        pytest.param("AND", id="bare-and"),
        pytest.param("a NOT", id="trailing-not"),
        pytest.param("NOT a", id="leading-not"),
        pytest.param("a OR", id="trailing-or"),
        pytest.param("a AND AND b", id="double-and"),
        pytest.param("(((", id="open-parens"),
        pytest.param(")", id="close-paren"),
        pytest.param("title:", id="column-without-term"),
        pytest.param("nosuchcolumn:word", id="unknown-column"),
        pytest.param("-word", id="leading-minus"),
        pytest.param("*", id="bare-star"),
        pytest.param("^", id="caret"),
        pytest.param("NEAR(", id="near-unclosed"),
        pytest.param("a;b", id="semicolon"),
        pytest.param("'; DROP TABLE articles; --", id="sql-injection"),
        pytest.param("\x00", id="nul"),
    ],
)
def test_malformed_query_is_query_error(db: sqlite_utils.Database, query: str) -> None:
    with pytest.raises(QueryError) as info:
        search(db, query)
    message = str(info.value)
    assert message.startswith("search:")
    assert repr(query) in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("query", ["", "   ", "\n\t"], ids=["empty", "spaces", "whitespace"])
def test_empty_query_is_query_error(db: sqlite_utils.Database, query: str) -> None:
    with pytest.raises(QueryError, match="empty"):
        search(db, query)


HOSTILE = [
    pytest.param("'; DROP TABLE articles; --", id="drop-table"),
    pytest.param('"; DELETE FROM articles; --', id="double-quote-delete"),
    pytest.param("a'); DELETE FROM outlets; --", id="paren-delete"),
    pytest.param("1 OR 1=1", id="tautology"),
    pytest.param("a\x00b", id="nul-inside"),
    pytest.param("\x00'; DROP TABLE articles; --", id="nul-then-drop"),
    pytest.param("fr;", id="semicolon"),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_search_text_never_alters_database(db: sqlite_utils.Database, text: str) -> None:
    before = counts(db)
    try:
        search(db, text)
    except QueryError:
        pass
    assert counts(db) == before


@pytest.mark.parametrize("option", ["outlet", "language", "since", "until"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_filter_values_never_alter_database(db: sqlite_utils.Database, option: str, value: str) -> None:
    before = counts(db)
    try:
        search(db, "sécheresse", **{option: value})
        list(export_rows(db, **{option: value}))
    except QueryError:
        pass
    assert counts(db) == before


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_outlet_filter_matches_nothing(db: sqlite_utils.Database, value: str) -> None:
    assert search(db, "sécheresse", outlet=value) == []


@pytest.mark.parametrize("where", ["query", "outlet"])
def test_undecodable_input_is_query_error(db: sqlite_utils.Database, where: str) -> None:
    with pytest.raises(QueryError):
        if where == "query":
            search(db, "caf\udce9")
        else:
            search(db, "sécheresse", outlet="caf\udce9")


# --- parse_when ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "end_of_day", "expected"),
    [
        pytest.param("2024-03-01", False, "2024-03-01T00:00:00Z", id="date"),
        pytest.param("2024-03-01", True, "2024-03-01T23:59:59Z", id="date-end-of-day"),
        pytest.param(" 2024-03-01 ", False, "2024-03-01T00:00:00Z", id="date-spaces"),
        pytest.param("2024-03-01T10:00:00Z", False, "2024-03-01T10:00:00Z", id="zulu"),
        pytest.param("2024-03-01T10:00:00Z", True, "2024-03-01T10:00:00Z", id="datetime-not-moved-to-eod"),
        pytest.param("2024-03-01T10:00:00+02:00", False, "2024-03-01T08:00:00Z", id="offset"),
        pytest.param("2024-03-01T10:00", False, "2024-03-01T10:00:00Z", id="naive-is-utc"),
        pytest.param("2024-03-01 10:00:00", False, "2024-03-01T10:00:00Z", id="space-separator"),
        pytest.param("", False, None, id="empty"),
        pytest.param(None, False, None, id="none"),
    ],
)
def test_parse_when_accepts(value: str | None, end_of_day: bool, expected: str | None) -> None:
    assert parse_when(value, option="--since", end_of_day=end_of_day) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("yesterday", id="word"),
        pytest.param("2024-13-01", id="month-13"),
        pytest.param("2024-02-30", id="february-30"),
        pytest.param("01/03/2024", id="slashes"),
        pytest.param("2024-03-01T25:00", id="hour-25"),
        pytest.param("'; DROP TABLE articles; --", id="sql"),
        pytest.param("\x00", id="nul"),
    ],
)
@pytest.mark.parametrize("option", ["--since", "--until"])
def test_parse_when_rejects_junk_naming_the_option(value: str, option: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_when(value, option=option)
    assert str(info.value).startswith(f"{option}:")


# --- export --------------------------------------------------------------------------------------


def test_export_rows_have_every_export_column(db: sqlite_utils.Database) -> None:
    rows = list(export_rows(db))
    assert rows and all(set(EXPORT_COLUMNS) <= set(row) for row in rows)


def test_export_rows_urls_is_a_list_of_all_urls(db: sqlite_utils.Database) -> None:
    save_article(db, record("amp", "a", "fr", None, "x", ARTICLES[0][5]))  # same text -> another URL
    row = next(r for r in export_rows(db) if r["id"] == article_id(db, "fr-dry"))
    assert sorted(row["urls"]) == ["https://a.example/amp", "https://a.example/fr-dry"]


def test_export_rows_oldest_first(db: sqlite_utils.Database) -> None:
    assert [r["id"] for r in export_rows(db)] == sorted(article_id(db, row[0]) for row in ARTICLES)


def test_export_rows_filters(db: sqlite_utils.Database) -> None:
    rows = export_rows(db, outlet="a", language="fr", since="2024-01-01T00:00:00Z", until="2024-12-31T00:00:00Z")
    assert keys(list(rows)) == {"fr-dry"}


@pytest.mark.parametrize(
    ("include_duplicates", "expected"),
    [
        pytest.param(False, {"fr-dry", "en-dry", "b-undated"}, id="duplicates-excluded"),
        pytest.param(True, {"fr-dry", "en-dry", "b-dry", "b-undated"}, id="duplicates-included"),
    ],
)
def test_export_rows_duplicates(db: sqlite_utils.Database, include_duplicates: bool, expected: set[str]) -> None:
    db.execute("UPDATE articles SET duplicate_of = ?, cluster_id = ? WHERE id = ?",
               [article_id(db, "fr-dry"), article_id(db, "fr-dry"), article_id(db, "b-dry")])
    assert keys(list(export_rows(db, include_duplicates=include_duplicates))) == expected


# --- show ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("article_id", [0, -1, 10_000])
def test_get_article_missing_is_not_found(db: sqlite_utils.Database, article_id: int) -> None:
    with pytest.raises(NotFoundError):
        get_article(db, article_id)


def test_get_article_decodes_lists_urls_and_fetches(db: sqlite_utils.Database) -> None:
    article = get_article(db, article_id(db, "fr-dry"))
    assert (article["tags"], article["categories"], article["date_flags"]) == (["climat"], [], [])
    assert [u["url"] for u in article["urls"]] == ["https://a.example/fr-dry"]
    assert len(article["fetches"]) == 1


# --- outlets -------------------------------------------------------------------------------------


def test_outlet_summaries_last_run_and_last_error(db: sqlite_utils.Database) -> None:
    start_runs(db, "run-1", ["a", "b"])
    finish_run(db, "run-1", "a", RunFigures(status="failed", finish_reason="dns", last_error="DNS lookup failed"))
    finish_run(db, "run-1", "b", RunFigures(status="ok", finish_reason="finished", pages=4))
    start_runs(db, "run-2", ["a"])
    finish_run(db, "run-2", "a", RunFigures(status="ok", finish_reason="finished", pages=7, articles_new=2))
    summaries = {s["id"]: s for s in outlet_summaries(db)}
    assert {k: summaries["a"][k] for k in ("articles", "last_status", "last_new", "last_pages", "last_error")} == {
        "articles": 2, "last_status": "ok", "last_new": 2, "last_pages": 7, "last_error": "DNS lookup failed",
    }
    assert (summaries["b"]["last_status"], summaries["b"]["last_error"]) == ("ok", None)


def test_outlet_summaries_outlet_never_run(db: sqlite_utils.Database) -> None:
    summary = next(s for s in outlet_summaries(db) if s["id"] == "c")
    assert (summary["articles"], summary["newest"], summary["last_run"], summary["last_status"]) == (0, None, None, None)


def test_outlet_summaries_newest_article(db: sqlite_utils.Database) -> None:
    summary = next(s for s in outlet_summaries(db) if s["id"] == "a")
    assert summary["newest"] == "2024-03-10T08:00:00Z"


def test_reads_do_not_open_a_write_transaction(db: sqlite_utils.Database) -> None:
    search(db, "sécheresse")
    list(export_rows(db))
    outlet_summaries(db)
    assert not db.conn.in_transaction
