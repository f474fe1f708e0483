"""Tests of the storage write path: storage/db.py, schema.py, articles.py, dedup.py, runs.py.

Every test uses a real SQLite file under tmp_path.
"""

from __future__ import annotations

import gzip
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
import sqlite_utils

from storage.articles import ArticleRecord, save_article, update_extraction, upsert_outlets
from storage.db import open_database, schema_version
from storage.dedup import content_hash, normalise_text
from storage.errors import NotFoundError, StorageError
from storage.queries import search
from storage.runs import RunFigures, finish_run, run_rows, start_runs

TEXT = ("Le gouvernement a annoncé mardi une série de mesures pour soutenir les agriculteurs touchés "
        "par la sécheresse dans le sud du pays.")
TEXT_VARIANT = ("le  GOUVERNEMENT a annoncé, mardi, une « série » de mesures pour soutenir les agriculteurs "
                "touchés\npar la sécheresse — dans le sud du pays !")
HTML = "<html><body><p>Le café de Müller</p></body></html>".encode() + b"\x00\xff binary tail"


def record(url: str, text: str = TEXT, *, outlet: str = "a", **fields) -> ArticleRecord:
    return ArticleRecord(
        outlet_id=outlet, url=url, final_url=fields.pop("final_url", url),
        canonical_url=fields.pop("canonical_url", url), text=text, content_hash=content_hash(text),
        found_via="feed", fetched_at="2024-03-01T10:00:00Z", **fields,
    )


def count(db: sqlite_utils.Database, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {t: count(db, t) for t in ("articles", "article_urls", "article_fetches", "articles_fts")}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "newsmon.db"


@pytest.fixture
def db(db_path: Path) -> sqlite_utils.Database:
    database = open_database(db_path)
    upsert_outlets(database, [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}])
    yield database
    database.close()


# --- opening -------------------------------------------------------------------------------------


def test_open_database_creates_file_and_parent_dirs(db_path: Path) -> None:
    open_database(db_path).close()
    assert db_path.is_file()


def test_open_database_migrates(db_path: Path) -> None:
    db = open_database(db_path)
    assert schema_version(db) == ["m001_initial", "m002_service", "m003_clusters", "m004_article_filters",
                                  "m005_fetch_state_body"]
    assert {"outlets", "articles", "article_urls", "article_fetches", "crawl_runs", "articles_fts"} <= set(
        db.table_names()
    )


def test_reopen_is_idempotent_and_keeps_data(db: sqlite_utils.Database, db_path: Path) -> None:
    save_article(db, record("https://x.org/a"))
    before = counts(db)
    db.close()
    again = open_database(db_path)
    assert schema_version(again) == ["m001_initial", "m002_service", "m003_clusters", "m004_article_filters",
                                  "m005_fetch_state_body"]
    assert counts(again) == before
    assert open_database(db_path, create=False).execute("SELECT count(*) FROM outlets").fetchone()[0] == 2


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [pytest.param("journal_mode", "wal", id="wal"), pytest.param("foreign_keys", 1, id="foreign-keys")],
)
def test_open_database_pragmas(db_path: Path, pragma: str, expected: object) -> None:
    open_database(db_path).close()
    reopened = open_database(db_path)
    assert reopened.execute(f"PRAGMA {pragma}").fetchone()[0] == expected


def test_open_database_missing_file_without_create(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(NotFoundError):
        open_database(missing, create=False)
    assert not missing.exists()


@pytest.mark.parametrize("case", ["not-a-database", "parent-is-a-file"])
def test_open_database_unusable_path_is_storage_error(tmp_path: Path, case: str) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a sqlite database " * 100)
    with pytest.raises(StorageError):
        open_database(junk if case == "not-a-database" else junk / "newsmon.db")


# --- save_article: identity ----------------------------------------------------------------------


def test_save_new_article(db: sqlite_utils.Database) -> None:
    result = save_article(db, record("https://x.org/a"))
    assert result.outcome == "new"
    assert db["articles"].get(result.article_id)["text"] == TEXT
    assert (count(db, "articles"), count(db, "article_fetches")) == (1, 1)


def test_save_new_article_records_each_url_once_with_its_kind(db: sqlite_utils.Database) -> None:
    rec = record("https://x.org/a?id=1", final_url="https://x.org/a", canonical_url="https://x.org/a-canon")
    article_id = save_article(db, rec).article_id
    rows = {r["url"]: r["kind"] for r in db.query("SELECT url, kind FROM article_urls WHERE article_id = ?",
                                                   [article_id])}
    assert rows == {"https://x.org/a-canon": "canonical", "https://x.org/a": "final",
                    "https://x.org/a?id=1": "requested"}


def test_same_url_again_is_known_url(db: sqlite_utils.Database) -> None:
    first = save_article(db, record("https://x.org/a"))
    again = save_article(db, record("https://x.org/a", "A completely different text this time around."))
    assert again == replace(first, outcome="known_url")
    assert count(db, "articles") == 1


def test_known_by_final_url_adds_new_canonical(db: sqlite_utils.Database) -> None:
    first = save_article(db, record("https://x.org/a"))
    again = save_article(db, record("https://x.org/a", final_url="https://x.org/a",
                                    canonical_url="https://x.org/a-new-canonical"))
    assert again.outcome == "known_url"
    row = db.execute("SELECT article_id FROM article_urls WHERE url = ?", ["https://x.org/a-new-canonical"]).fetchone()
    assert row == (first.article_id,)


def test_same_text_other_url_same_outlet(db: sqlite_utils.Database) -> None:
    first = save_article(db, record("https://x.org/a"))
    amp = save_article(db, record("https://x.org/amp/a", TEXT_VARIANT))
    assert amp == replace(first, outcome="same_text")
    assert count(db, "articles") == 1
    row = db.execute("SELECT article_id FROM article_urls WHERE url = ?", ["https://x.org/amp/a"]).fetchone()
    assert row == (first.article_id,)


def test_same_text_other_outlet_is_new_article(db: sqlite_utils.Database) -> None:
    first = save_article(db, record("https://x.org/a"))
    other = save_article(db, record("https://y.org/a", outlet="b"))
    assert other.outcome == "new" and other.article_id != first.article_id
    assert count(db, "articles") == 2


def test_other_text_same_outlet_is_new_article(db: sqlite_utils.Database) -> None:
    save_article(db, record("https://x.org/a"))
    other = save_article(db, record("https://x.org/b", TEXT.replace("mardi", "mercredi")))
    assert other.outcome == "new"
    assert count(db, "articles") == 2


# --- save_article: raw HTML ----------------------------------------------------------------------


def test_keep_html_stores_gzip_of_the_original_bytes(db: sqlite_utils.Database) -> None:
    article_id = save_article(db, record("https://x.org/a", html=HTML), keep_html=True).article_id
    blob, size = db.execute("SELECT html_gz, html_size FROM article_fetches WHERE article_id = ?",
                            [article_id]).fetchone()
    assert gzip.decompress(blob) == HTML
    assert size == len(HTML)


@pytest.mark.parametrize(
    ("html", "keep_html"),
    [pytest.param(HTML, False, id="keep_html-false"), pytest.param(None, True, id="no-html")],
)
def test_html_not_kept_is_null(db: sqlite_utils.Database, html: bytes | None, keep_html: bool) -> None:
    article_id = save_article(db, record("https://x.org/a", html=html), keep_html=keep_html).article_id
    assert db.execute("SELECT html_gz FROM article_fetches WHERE article_id = ?", [article_id]).fetchone() == (None,)


# --- save_article: atomicity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rec", "errors"),
    [
        pytest.param(record("https://z.org/a", outlet="no-such-outlet"), (sqlite3.IntegrityError, StorageError),
                     id="foreign-key"),
        pytest.param(record("https://z.org/a", "Some other article text.", status=None), (sqlite3.IntegrityError, StorageError),
                     id="fetch-insert-fails-after-article"),
        pytest.param(record("https://z.org/a", "Some other article text.", html="<html>not bytes</html>"), (TypeError, StorageError),
                     id="gzip-fails-after-article"),
    ],
)
def test_failed_save_leaves_no_partial_rows(db: sqlite_utils.Database, rec: ArticleRecord, errors: tuple) -> None:
    save_article(db, record("https://x.org/a"))
    before = counts(db)
    with pytest.raises(errors):
        save_article(db, rec)
    assert counts(db) == before
    assert not db.conn.in_transaction
    assert save_article(db, record("https://x.org/b", "Another text entirely.")).outcome == "new"


# --- full-text index -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("agriculteurs", id="text-word"),
        pytest.param("Sécheresse", id="title-word"),
        pytest.param("secheresse", id="without-diacritics"),
        pytest.param('"soutenir les agriculteurs"', id="phrase"),
        pytest.param("gouvern*", id="prefix"),
    ],
)
def test_saved_article_is_searchable(db: sqlite_utils.Database, query: str) -> None:
    article_id = save_article(db, record("https://x.org/a", title="Sécheresse dans le sud")).article_id
    assert [r["id"] for r in search(db, query)] == [article_id]


def test_update_extraction_reindexes_text(db: sqlite_utils.Database) -> None:
    article_id = save_article(db, record("https://x.org/a")).article_id
    update_extraction(db, article_id, {"text": "Des pluies torrentielles inondent la vallée du Rhône."})
    assert search(db, "agriculteurs") == []
    assert [r["id"] for r in search(db, "torrentielles")] == [article_id]


def test_update_extraction_reindexes_title(db: sqlite_utils.Database) -> None:
    article_id = save_article(db, record("https://x.org/a", title="Canicule")).article_id
    update_extraction(db, article_id, {"title": "Inondations"})
    assert search(db, "canicule") == []
    assert [r["id"] for r in search(db, "inondations")] == [article_id]


def test_recrawl_does_not_duplicate_index_entries(db: sqlite_utils.Database) -> None:
    article_id = save_article(db, record("https://x.org/a")).article_id
    save_article(db, record("https://x.org/a"))
    save_article(db, record("https://x.org/amp/a", TEXT_VARIANT))
    assert [r["id"] for r in search(db, "agriculteurs")] == [article_id]
    assert count(db, "articles_fts") == 1


def test_update_extraction_ignores_unknown_fields(db: sqlite_utils.Database) -> None:
    article_id = save_article(db, record("https://x.org/a")).article_id
    update_extraction(db, article_id, {"outlet_id": "b", "url": "https://evil.example/"})
    assert db["articles"].get(article_id)["outlet_id"] == "a"


# --- content hash --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("Hello World", "hello world", id="case"),
        pytest.param("Hello, world!", "Hello world", id="punctuation"),
        pytest.param("Hello   world\n\n", "  Hello world", id="whitespace"),
        pytest.param("« Bonjour » dit-il", '"Bonjour" dit il', id="quotes-and-hyphen"),
        pytest.param("l’été", "l'été", id="apostrophes"),
        pytest.param("ﬁn", "fin", id="nfkc-ligature"),
        pytest.param("STRASSE", "straße", id="casefold"),
        pytest.param("a_b", "a b", id="underscore"),
        pytest.param(TEXT, TEXT_VARIANT, id="article-variant"),
    ],
)
def test_content_hash_equal_after_normalisation(a: str, b: str) -> None:
    assert content_hash(a) == content_hash(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("Hello world", "Hello there world", id="extra-word"),
        pytest.param("Hello world", "world Hello", id="word-order"),
        pytest.param("ab c", "a bc", id="word-boundary"),
        pytest.param("été", "ete", id="diacritics-kept"),
        pytest.param(TEXT, TEXT.replace("mardi", "mercredi"), id="one-word-changed"),
    ],
)
def test_content_hash_differs_for_different_words(a: str, b: str) -> None:
    assert content_hash(a) != content_hash(b)


def test_content_hash_is_sha256_hex_of_normalised_text() -> None:
    import hashlib

    assert normalise_text("  Hello, World!  ") == "hello world"
    assert content_hash("Hello, World!") == hashlib.sha256(b"hello world").hexdigest()


# --- crawl runs ----------------------------------------------------------------------------------


def test_runs_round_trip(db: sqlite_utils.Database) -> None:
    start_runs(db, "run-1", ["b", "a"])
    figures = RunFigures(status="partial", finish_reason="closespider_timeout", pages=12, articles_new=3,
                         articles_known=4, duplicates=1, no_text=2, failed=1, errors={"http_404": 1},
                         discovered={"feed": 9, "sitemap": 3}, last_error="timeout on https://x.org/a",
                         stats={"newsmon/pages": 12})
    finish_run(db, "run-1", "a", figures)
    a, b = run_rows(db, "run-1")
    assert (a["outlet_id"], b["outlet_id"]) == ("a", "b")
    assert {k: a[k] for k in ("status", "finish_reason", "pages", "articles_new", "articles_known", "duplicates",
                              "no_text", "failed", "errors", "discovered", "last_error", "stats")} == {
        "status": "partial", "finish_reason": "closespider_timeout", "pages": 12, "articles_new": 3,
        "articles_known": 4, "duplicates": 1, "no_text": 2, "failed": 1, "errors": {"http_404": 1},
        "discovered": {"feed": 9, "sitemap": 3}, "last_error": "timeout on https://x.org/a",
        "stats": {"newsmon/pages": 12},
    }
    assert a["finished_at"] is not None and a["duration"] >= 0


def test_unfinished_run_is_running(db: sqlite_utils.Database) -> None:
    start_runs(db, "run-1", ["a"])
    (row,) = run_rows(db, "run-1")
    assert (row["status"], row["finished_at"]) == ("running", None)


def test_run_rows_only_of_that_run(db: sqlite_utils.Database) -> None:
    start_runs(db, "run-1", ["a"])
    start_runs(db, "run-2", ["a", "b"])
    assert [r["outlet_id"] for r in run_rows(db, "run-1")] == ["a"]
    assert run_rows(db, "no-such-run") == []


def test_run_and_outlet_are_unique(db: sqlite_utils.Database) -> None:
    start_runs(db, "run-1", ["a"])
    with pytest.raises((sqlite3.IntegrityError, StorageError)):
        start_runs(db, "run-1", ["b", "a"])
    assert [r["outlet_id"] for r in run_rows(db, "run-1")] == ["a"]  # the whole batch rolled back
    assert not db.conn.in_transaction
