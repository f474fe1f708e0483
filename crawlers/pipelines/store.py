"""400 - store: one transaction per article (row, URLs, kept HTML). Counts new / duplicate.

A recheck of a stored article goes to storage.versions instead: a new version when the extracted
text or title changed, else only its next check.

A database that cannot be used (locked past the busy timeout, read-only, full) stops the crawl
(crawlers/extensions/runs.py, `database_failed`); the pages still in the pipelines are then dropped
without trying, each counted as a store error. A page that is not stored stays in the frontier.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from crawlers.extensions.runs import DATABASE_ERROR, database_failed
from crawlers.stats import count
from storage.articles import save_article
from storage.db import open_database
from storage.errors import StorageError
from storage.similarity import DEFAULT_THRESHOLD, SimilarityIndex
from storage.versions import apply_recheck

if TYPE_CHECKING:
    from typing import Self

    import sqlite_utils
    from scrapy.crawler import Crawler

    from crawlers.items import PageItem

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler, database: str, keep_html: bool, recheck: list[tuple[int, int]]):
        self.crawler = crawler
        self.database = database
        self.keep_html = keep_html
        self.recheck = recheck
        self.threshold = DEFAULT_THRESHOLD
        self.db: sqlite_utils.Database | None = None
        self.index_checked = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        recheck = [(int(a), int(e)) for a, e in s.getlist("NEWSMON_RECHECK")]
        pipeline = cls(crawler, s["NEWSMON_DATABASE"], s.getbool("NEWSMON_KEEP_HTML", True), recheck)
        pipeline.threshold = s.getfloat("NEWSMON_CLUSTER_THRESHOLD", DEFAULT_THRESHOLD)
        return pipeline

    def open_spider(self) -> None:
        self.db = open_database(self.database)

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()

    def process_item(self, item: PageItem) -> PageItem:
        stats = self.crawler.stats
        assert stats is not None
        started = time.perf_counter()
        assert self.db is not None, "open_spider() opens the database"
        problem = stats.get_value(DATABASE_ERROR)
        if problem:  # the crawl is stopping: don't wait the busy timeout again for each page
            item.retry = True
            count(stats, item.outlet_id, "errors/store")
            logger.debug("not stored outlet=%s url=%s: %s", item.outlet_id, item.final_url, problem)
            raise DropItem(f"not stored: {item.final_url}: {problem}", log_level="DEBUG")
        try:
            if not self.index_checked:
                # The index must have been built with the MinHash parameters of the workers that
                # computed the signatures: else every lookup would silently miss. Their probe is
                # checked, so this process never builds a hasher (datasketch and scipy: 0.5 s).
                # SimilarityIndexError (a StorageError) names what differs, and stops the crawl
                # (database_failed).
                SimilarityIndex(self.db).ensure_tables(item.similarity_probe or None)
                self.index_checked = True
            if item.recheck_of:
                outcome = apply_recheck(self.db, item.recheck_of, item.record, self.recheck, keep_html=self.keep_html,
                                        threshold=self.threshold)
            else:
                result = save_article(self.db, item.record, keep_html=self.keep_html, recheck=self.recheck,
                                      threshold=self.threshold)
        except (sqlite3.Error, StorageError) as exc:
            item.retry = True
            error = database_failed(self.crawler, exc, self.database) or exc
            logger.error("store failed outlet=%s url=%s error=%s", item.outlet_id, item.final_url, error)
            count(stats, item.outlet_id, "errors/store")
            stats.set_value(f"newsmon/outlet/{item.outlet_id}/last_error", f"store: {error}")
            raise DropItem(f"store failed: {item.final_url}: {error}", log_level="DEBUG") from exc
        finally:
            count(stats, item.outlet_id, "time/store", time.perf_counter() - started)
        if item.recheck_of:
            if outcome == "version":
                count(stats, item.outlet_id, "versions/new")
                logger.info("article changed outlet=%s article=%d url=%s", item.outlet_id, item.recheck_of, item.final_url)
            item.body = b""
            return item
        if result.outcome == "new":
            count(stats, item.outlet_id, "articles/new")
            # Logged after the commit: an article reported stored is in the database, even if the
            # process is killed right after (tests/test_faults.py relies on it).
            logger.info("article stored outlet=%s article=%d url=%s", item.outlet_id, result.article_id,
                        item.final_url)
        else:
            count(stats, item.outlet_id, "articles/duplicate")
            logger.info(
                "same article at another url outlet=%s url=%s article=%d via=%s",
                item.outlet_id, item.final_url, result.article_id, result.outcome,
            )
        item.body = b""  # the kept HTML is in the database now; don't hold it in memory
        return item
