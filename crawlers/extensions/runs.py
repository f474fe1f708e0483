"""Writes one crawl_runs row per outlet: 'running' when the crawl opens, its figures when it closes.

Also the crawl's answer to a database it can no longer use (locked by another writer past the busy
timeout, read-only, disk full, I/O error, corrupt): `database_failed` notes the problem in the
crawl's stats, logs it once and closes the crawl. The links not stored stay in the frontier, so
the next run fetches them; monitor/runner.py turns the problem into the command's error.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from crawlers.stats import outlet_stats
from storage.articles import upsert_outlets
from storage.db import database_problem, open_database, problem_kind
from storage.errors import StorageError
from storage.runs import RunFigures, finish_run, start_runs
from storage.similarity import SimilarityIndexError

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: Stats keys set when the database became unusable: the plain message, and the finish reason.
DATABASE_ERROR = "newsmon/database_error"
DATABASE_REASON = "newsmon/database_reason"


def database_failed(crawler: Crawler, exc: BaseException, database: str) -> str | None:
    """If `exc` means the database cannot be used, stop the crawl; the plain message, else None.

    Stopping, not going on: every later write would fail the same way, and with a locked database
    each one would first wait the busy timeout in the reactor thread, holding up the whole crawl.
    The crawl closes with reason database_locked, database_read_only, database_full or
    database_error (its runs: 'interrupted'); the first problem is kept in the stats.
    """
    cause = exc.__cause__ if isinstance(exc, StorageError) and exc.__cause__ is not None else exc
    # An index built with other MinHash parameters: nothing can be stored until it is rebuilt.
    message = str(exc) if isinstance(exc, SimilarityIndexError) else database_problem(cause, database)
    if message is None:
        return None
    stats = crawler.stats
    assert stats is not None
    if stats.get_value(DATABASE_ERROR) is None:
        reason = _close_reason(cause, database)
        stats.set_value(DATABASE_ERROR, message)
        stats.set_value(DATABASE_REASON, reason)
        logger.error("the database cannot be used, stopping the crawl: %s", message)
        from twisted.internet import reactor

        # Later, not now: this may run inside the engine's own open or close sequence.
        reactor.callLater(0, _close_crawl, crawler, reason)  # type: ignore[attr-defined]
    return message


def _close_reason(exc: BaseException, database: str) -> str:
    kind = problem_kind(exc, database)
    return f"database_{kind}" if kind in ("locked", "read_only", "full") else "database_error"


def _close_crawl(crawler: Crawler, reason: str) -> None:
    engine = crawler.engine
    if engine is not None and engine.spider is not None:
        deferred_from_coro(engine.close_spider_async(reason=reason))


def figures_from_stats(stats: dict[str, Any], outlet_id: str, reason: str) -> RunFigures:
    """Turn one outlet's `newsmon/outlet/<id>/*` counters into its crawl_runs figures and status.

    failed: every seed (feed, sitemap, homepage) failed, so nothing could be discovered.
    partial: some seed or page failed. interrupted: the crawl was stopped before it finished.
    timeout: the run reached its time limit (CLOSESPIDER_TIMEOUT, set by the service).
    """
    s = outlet_stats(stats, outlet_id)
    errors = {k.split("/", 1)[1]: int(v) for k, v in s.items() if k.startswith("errors/")}
    discovered = {k.split("/", 1)[1]: int(v) for k, v in s.items() if k.startswith("discovered/")}
    seeds_ok, seeds_failed = s.get("seeds/ok", 0), s.get("seeds/failed", 0)
    if reason == "closespider_timeout":
        status = "timeout"
    elif reason not in ("finished", "closespider_itemcount", "closespider_pagecount"):
        status = "interrupted"
    elif seeds_failed and not seeds_ok:
        status = "failed"
    elif errors:
        status = "partial"
    else:
        status = "ok"
    return RunFigures(
        status=status,
        finish_reason=reason,
        pages=int(s.get("pages", 0)),
        articles_new=int(s.get("articles/new", 0)),
        articles_known=int(s.get("articles/known", 0)),
        duplicates=int(s.get("articles/duplicate", 0)),
        no_text=int(s.get("articles/no_text", 0)),
        failed=sum(errors.values()) + int(s.get("articles/no_text", 0)),
        errors=errors,
        discovered=discovered,
        last_error=s.get("last_error"),
        stats={k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items()},
        not_modified=int(s.get("not_modified", 0)),
        rechecked=int(s.get("rechecked", 0)),
        versions_new=int(s.get("versions/new", 0)),
        removed=int(s.get("removed", 0)),
    )


class RunRecorder:
    def __init__(self, crawler: Crawler, database: str, run_id: str):
        self.crawler = crawler
        self.database = database
        self.run_id = run_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        if not s.get("NEWSMON_DATABASE") or not s.get("NEWSMON_RUN_ID"):
            raise NotConfigured("RunRecorder needs NEWSMON_DATABASE and NEWSMON_RUN_ID")
        ext = cls(crawler, s["NEWSMON_DATABASE"], s["NEWSMON_RUN_ID"])
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        try:
            db = open_database(self.database)
            try:
                outlets = list(spider.outlets.values())
                upsert_outlets(db, [o.to_dict() for o in outlets])
                origin = self.crawler.settings.get("NEWSMON_ORIGIN", "crawl")
                start_runs(db, self.run_id, [o.id for o in outlets], origin=origin)
            finally:
                db.close()
        except (sqlite3.Error, StorageError) as exc:
            if database_failed(self.crawler, exc, self.database) is None:
                raise

    def spider_error(self, failure: Failure, response: Any, spider: Spider) -> None:
        """A database error in a spider callback (the frontier and fetch-state writes of
        crawlers/spiders/outlet.py): Scrapy logs it; a database that cannot be used stops the crawl."""
        if isinstance(failure.value, sqlite3.Error | StorageError):
            database_failed(self.crawler, failure.value, self.database)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        try:
            db = open_database(self.database)
        except StorageError as exc:
            self._not_recorded(exc)
            return
        try:
            for outlet in spider.outlets.values():
                fig = figures_from_stats(stats, outlet.id, reason)
                if stats.get(DATABASE_ERROR) and fig.last_error is None:
                    fig.last_error = stats[DATABASE_ERROR]
                try:
                    finish_run(db, self.run_id, outlet.id, fig)
                except sqlite3.Error as exc:
                    self._not_recorded(exc)
                    return  # the others would fail the same way, each after the busy timeout
                logger.info(
                    "run finished run=%s outlet=%s status=%s pages=%d not_modified=%d new=%d known=%d "
                    "duplicates=%d versions=%d removed=%d no_text=%d errors=%s",
                    self.run_id, outlet.id, fig.status, fig.pages, fig.not_modified, fig.articles_new,
                    fig.articles_known, fig.duplicates, fig.versions_new, fig.removed, fig.no_text, fig.errors or "{}",
                )
        finally:
            db.close()

    def _not_recorded(self, exc: BaseException) -> None:
        """The run's end could not be written: monitor/runner.py tries again after the crawl
        (record_unfinished); failing that, its rows stay 'running' until the next start closes them."""
        cause = exc.__cause__ if isinstance(exc, StorageError) and exc.__cause__ is not None else exc
        message = database_problem(cause, self.database) or str(exc)
        assert self.crawler.stats is not None
        if self.crawler.stats.get_value(DATABASE_ERROR) is None:
            self.crawler.stats.set_value(DATABASE_ERROR, message)
        logger.error("run end not recorded run=%s: %s (tried again once the crawl has stopped; else the next "
                     "crawl or service start closes it as interrupted)", self.run_id, message)
