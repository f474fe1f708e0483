"""The database schema, as numbered migrations (sqlite-utils `Migrations`).

Never edit an applied migration: add `m00N_…` below it. Each one runs in a transaction.
Tables: outlets, articles, article_urls, article_fetches, crawl_runs, articles_fts (FTS5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlite_utils.migrations import Migrations

if TYPE_CHECKING:
    import sqlite_utils

migrations = Migrations("newsmon")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE outlets (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            homepage TEXT,
            language TEXT,
            config TEXT,                 -- JSON of the outlet's config as last seen
            added_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            outlet_id TEXT NOT NULL REFERENCES outlets(id),
            url TEXT NOT NULL,           -- URL the article was first fetched from (after redirects)
            canonical_url TEXT NOT NULL,
            title TEXT,
            author TEXT,
            description TEXT,
            sitename TEXT,
            image TEXT,
            categories TEXT,             -- JSON list
            tags TEXT,                   -- JSON list
            published_at TEXT,           -- ISO 8601 UTC
            modified_at TEXT,            -- ISO 8601 UTC
            date_source TEXT,            -- json-ld | meta | text | news-sitemap | feed | url
            date_flags TEXT,             -- JSON list of rejected dates (future, before 1990)
            found_via TEXT,              -- feed | sitemap | news-sitemap | homepage
            language TEXT,
            language_confidence REAL,
            language_source TEXT,        -- detected | hint
            text TEXT NOT NULL,
            text_length INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            cluster_id INTEGER,
            duplicate_of INTEGER REFERENCES articles(id),
            removed_at TEXT,
            run_id TEXT
        );
        CREATE INDEX idx_articles_outlet_hash ON articles(outlet_id, content_hash);
        CREATE INDEX idx_articles_outlet_published ON articles(outlet_id, published_at);
        CREATE INDEX idx_articles_published ON articles(published_at);
        CREATE INDEX idx_articles_first_seen ON articles(first_seen_at);
        CREATE INDEX idx_articles_language ON articles(language);
        CREATE INDEX idx_articles_cluster ON articles(cluster_id);
        CREATE TABLE article_urls (
            url TEXT PRIMARY KEY,        -- canonical form (see crawlers/urls.py)
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,          -- requested | final | canonical | discovered
            found_via TEXT,
            first_seen_at TEXT NOT NULL
        );
        CREATE INDEX idx_article_urls_article ON article_urls(article_id);
        CREATE TABLE article_fetches (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            final_url TEXT NOT NULL,
            status INTEGER NOT NULL,
            headers TEXT,                -- JSON of the response headers kept
            fetched_at TEXT NOT NULL,
            encoding TEXT,
            hints TEXT,                  -- JSON: what the feed/sitemap said (title, author, dates)
            html_gz BLOB,                -- gzip of the raw body; NULL when keep_html = false
            html_size INTEGER,
            run_id TEXT
        );
        CREATE INDEX idx_article_fetches_article ON article_fetches(article_id);
        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,        -- one `newsmon crawl`; one row per outlet in it
            outlet_id TEXT NOT NULL REFERENCES outlets(id),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            duration REAL,
            status TEXT NOT NULL,        -- running | ok | partial | failed | interrupted
            finish_reason TEXT,
            pages INTEGER NOT NULL DEFAULT 0,
            articles_new INTEGER NOT NULL DEFAULT 0,
            articles_known INTEGER NOT NULL DEFAULT 0,
            duplicates INTEGER NOT NULL DEFAULT 0,
            no_text INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            errors TEXT,                 -- JSON {kind: count}: http_404, timeout, dns, refused, robots, ...
            discovered TEXT,             -- JSON {channel: links found}
            last_error TEXT,
            stats TEXT                   -- JSON of this outlet's newsmon/* counters
        );
        CREATE INDEX idx_crawl_runs_outlet ON crawl_runs(outlet_id, started_at);
        CREATE UNIQUE INDEX idx_crawl_runs_run_outlet ON crawl_runs(run_id, outlet_id);
        """
    )
    # FTS5 over title and text, kept in sync by triggers on insert, update and delete.
    # unicode61 with diacritics removed: one tokenizer for every language we watch.
    db["articles"].enable_fts(
        ["title", "text"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )
    # sqlite-utils' update trigger fires on every UPDATE; re-index only when title or text change,
    # not on each `last_seen_at` bump of a recrawl.
    db.executescript(
        """
        DROP TRIGGER articles_au;
        CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text)
            VALUES ('delete', old.rowid, old.title, old.text);
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        CREATE VIEW article_list AS
        SELECT a.id, a.outlet_id, o.name AS outlet, a.title, a.author, a.published_at,
               a.language, a.found_via, a.url, a.text_length, a.first_seen_at
        FROM articles a JOIN outlets o ON o.id = a.outlet_id;
        """
    )
