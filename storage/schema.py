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


@migrations()
def m002_service(db: sqlite_utils.Database) -> None:
    """The service: incremental recrawl state, article versions, outlet health, alerts, schedule."""
    db.executescript(
        """
        -- Recheck schedule of each article (see storage/recheck.py) and when its text last changed.
        ALTER TABLE articles ADD COLUMN checked_at TEXT;      -- last fetch of the article page
        ALTER TABLE articles ADD COLUMN next_check_at TEXT;   -- NULL: never rechecked again
        ALTER TABLE articles ADD COLUMN changed_at TEXT;      -- when the current version was first seen
        CREATE INDEX idx_articles_outlet_first_seen ON articles(outlet_id, first_seen_at);
        CREATE INDEX idx_articles_recheck ON articles(outlet_id, next_check_at)
            WHERE next_check_at IS NOT NULL AND removed_at IS NULL;

        -- Earlier versions of an article: the row in `articles` always holds the newest one.
        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,    -- 1 = as first stored
            title TEXT,
            text TEXT NOT NULL,
            text_length INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            seen_from TEXT NOT NULL,     -- when this version was first seen
            replaced_at TEXT NOT NULL,   -- when the next version was first seen
            run_id TEXT,                 -- the run that found the next version
            UNIQUE (article_id, version)
        );

        -- Conditional-GET state of every URL fetched more than once: feeds, sitemaps, listing pages
        -- and articles. body_hash decides "changed" whatever the validators say.
        CREATE TABLE fetch_state (
            url TEXT PRIMARY KEY,        -- as requested (canonical form for articles)
            outlet_id TEXT NOT NULL,
            kind TEXT NOT NULL,          -- feed | sitemap | homepage | article
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,              -- sha256 of the last 200 body
            status INTEGER,              -- last HTTP status
            fetched_at TEXT NOT NULL,
            changed_at TEXT,             -- last time the body hash changed
            children TEXT                -- JSON list: sub-sitemaps / section pages to visit on a 304
        );
        CREATE INDEX idx_fetch_state_outlet ON fetch_state(outlet_id, kind);

        -- Article URLs discovered but not yet stored: fetched next run when this one did not get to
        -- them (cap reached, fetch failed, crawl stopped). Gone once the article is handled.
        CREATE TABLE frontier (
            url TEXT PRIMARY KEY,        -- canonical form
            outlet_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            hints TEXT,                  -- JSON: what the feed/sitemap said
            discovered_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_attempt_at TEXT,
            last_error TEXT
        );
        CREATE INDEX idx_frontier_outlet ON frontier(outlet_id, discovered_at);

        -- More figures per run. status gains 'timeout' (cut at the run's time limit) and
        -- 'crashed' (the crawl process died).
        ALTER TABLE crawl_runs ADD COLUMN not_modified INTEGER NOT NULL DEFAULT 0;  -- 304 or same body
        ALTER TABLE crawl_runs ADD COLUMN rechecked INTEGER NOT NULL DEFAULT 0;     -- article rechecks
        ALTER TABLE crawl_runs ADD COLUMN versions_new INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE crawl_runs ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;       -- 404/410 on recheck
        ALTER TABLE crawl_runs ADD COLUMN median_text_length INTEGER;  -- of this run's new articles
        ALTER TABLE crawl_runs ADD COLUMN share_dated REAL;            -- ... with a publication date
        ALTER TABLE crawl_runs ADD COLUMN share_authored REAL;         -- ... with an author
        ALTER TABLE crawl_runs ADD COLUMN share_language REAL;         -- ... in the outlet's language
        ALTER TABLE crawl_runs ADD COLUMN origin TEXT;                 -- crawl | service
        ALTER TABLE crawl_runs ADD COLUMN pid INTEGER;                 -- the crawling process

        -- Outlet health: the state `newsmon outlets` shows and alerts are sent on.
        CREATE TABLE outlet_health (
            outlet_id TEXT PRIMARY KEY REFERENCES outlets(id),
            state TEXT NOT NULL,         -- new | ok | degraded | failing
            reason TEXT,
            since TEXT NOT NULL,         -- when the outlet entered this state
            checked_at TEXT NOT NULL,
            last_alert_at TEXT,
            baseline TEXT                -- JSON: the rolling baseline the last run was compared with
        );
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            outlet_id TEXT NOT NULL,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,          -- change | reminder
            old_state TEXT,
            new_state TEXT NOT NULL,
            reason TEXT,
            delivered TEXT               -- JSON {log: true, webhook: "ok" | error, command: ...}
        );
        CREATE INDEX idx_alerts_outlet ON alerts(outlet_id, at);

        -- The service (`newsmon run`) writes its own row and each outlet's next run here, for
        -- `newsmon status`. Whether it still runs is told by its lock file, not by this row.
        CREATE TABLE service (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pid INTEGER NOT NULL,
            host TEXT,
            started_at TEXT NOT NULL,
            stopped_at TEXT,
            config_path TEXT,
            heartbeat_at TEXT
        );
        CREATE TABLE schedule (
            outlet_id TEXT PRIMARY KEY,
            trigger TEXT NOT NULL,       -- "every 30m" | "cron 0 * * * *"
            next_run_at TEXT,
            running_since TEXT,
            run_id TEXT,
            updated_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m003_clusters(db: sqlite_utils.Database) -> None:
    """Near-duplicate clusters: the MinHash LSH index (storage/similarity.py) and each article's
    similarity to the earliest article of its cluster."""
    from storage.similarity import SimilarityIndex

    SimilarityIndex(db).create_tables()  # the parameters: at the first article (ensure_tables)
    db.execute("ALTER TABLE articles ADD COLUMN similarity REAL")  # to its cluster's earliest article


@migrations()
def m004_article_filters(db: sqlite_utils.Database) -> None:
    """`article_filters`: the columns search and export filter on, one narrow row per article.

    At a million articles the filters could not be served from `articles`: its rows hold the
    text (4-6 KB, on overflow pages), so checking a full-text hit's language or date read a whole
    row, and the article date (`coalesce(published_at, first_seen_at)`) had no index. Here each
    article has a row of about 50 bytes, kept by triggers on `articles`, with an index per filter
    combination holding every filter column (covering: no row is read to check a filter):

    - `sort_date`: the article's date as the filters mean it, its publication date or, if the page
      gave none, when it was first seen;
    - `duplicate_of`: the cluster's earliest article, for one result per story.

    The backfill reads every article once (about 20 s per million articles); `articles` rows are
    not rewritten.
    """
    db.executescript(
        """
        CREATE TABLE article_filters (
            id INTEGER PRIMARY KEY,      -- articles.id
            outlet_id TEXT NOT NULL,
            language TEXT,
            sort_date TEXT NOT NULL,     -- coalesce(published_at, first_seen_at)
            duplicate_of INTEGER
        );
        INSERT INTO article_filters (id, outlet_id, language, sort_date, duplicate_of)
            SELECT id, outlet_id, language, coalesce(published_at, first_seen_at), duplicate_of FROM articles;
        CREATE INDEX idx_article_filters_date ON article_filters(sort_date);
        CREATE INDEX idx_article_filters_language ON article_filters(language, sort_date);
        CREATE INDEX idx_article_filters_outlet ON article_filters(outlet_id, sort_date, language);
        CREATE TRIGGER article_filters_ai AFTER INSERT ON articles BEGIN
          INSERT INTO article_filters (id, outlet_id, language, sort_date, duplicate_of)
            VALUES (new.id, new.outlet_id, new.language, coalesce(new.published_at, new.first_seen_at),
                    new.duplicate_of);
        END;
        CREATE TRIGGER article_filters_au
        AFTER UPDATE OF id, outlet_id, language, published_at, first_seen_at, duplicate_of ON articles BEGIN
          UPDATE article_filters SET id = new.id, outlet_id = new.outlet_id, language = new.language,
                 sort_date = coalesce(new.published_at, new.first_seen_at), duplicate_of = new.duplicate_of
           WHERE id = old.id;
        END;
        CREATE TRIGGER article_filters_ad AFTER DELETE ON articles BEGIN
          DELETE FROM article_filters WHERE id = old.id;
        END;
        -- idx_article_filters_language starts with the language.
        DROP INDEX IF EXISTS idx_articles_language;
        """
    )


@migrations()
def m005_fetch_state_body(db: sqlite_utils.Database) -> None:
    """`fetch_state.body`: the last body of a URL whose rules must be read again on a 304, kept only
    for robots.txt (a few KB per host), so a recrawl asks for it conditionally instead of
    downloading it every run."""
    db.execute("ALTER TABLE fetch_state ADD COLUMN body BLOB")
