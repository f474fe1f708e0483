"""100 - analyse: page -> clean text and metadata (trafilatura), language (langdetect) and the
dedup keys (content hash, MinHash signature), in a worker process. A page without text is dropped.

`crawlers.analysis.analyse_page` does the work, off the reactor (`crawlers/workers.py`: one
process per core by default, `[crawl] workers`); this pipeline hands pages over, waits for a free
worker when all are busy (back-pressure) and counts the CPU of each step in `newsmon/time/extract`,
`time/language` and `time/fingerprint`, so the cost is visible per run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from crawlers.analysis import PageSettings, analyse_page
from crawlers.stats import count
from crawlers.workers import WorkerDied, default_workers, peak_rss_mib, release_pool, shared_pool

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from crawlers.items import PageItem
    from crawlers.outlets import Outlet
    from crawlers.workers import WorkerPool

logger = logging.getLogger(__name__)


class AnalysePipeline:
    def __init__(self, crawler: Crawler, workers: int):
        self.crawler = crawler
        self.workers = workers
        self.pool: WorkerPool | None = None
        self.settings: dict[str, PageSettings] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        workers = crawler.settings.getint("NEWSMON_WORKERS", -1)
        return cls(crawler, default_workers() if workers < 0 else workers)

    def open_spider(self) -> None:
        self.pool = shared_pool(self.workers)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("newsmon/workers/count", self.pool.workers)

    def close_spider(self) -> None:
        if self.pool is None:
            return
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value("newsmon/workers/waited", round(self.pool.waited, 3))
            stats.set_value("newsmon/workers/restarts", self.pool.restarts)
            # Each worker's own peak (pages it shares with the crawl process count in both).
            peaks = [peak_rss_mib(pid) for pid in self.pool.pids()]
            stats.set_value("newsmon/memory/workers_peak_rss_mib", round(sum(peaks), 1))
        self.pool = None
        release_pool()

    def page_settings(self, outlet: Outlet) -> PageSettings:
        settings = self.settings.get(outlet.id)
        if settings is None:
            settings = PageSettings(tuple(outlet.exclude_xpaths), outlet.timezone, outlet.language)
            self.settings[outlet.id] = settings
        return settings

    async def process_item(self, item: PageItem) -> PageItem:
        assert self.pool is not None, "open_spider() starts the pool"
        outlet = self.crawler.spider.outlets[item.outlet_id]  # type: ignore[union-attr]
        stats = self.crawler.stats
        try:
            result = await self.pool.run(analyse_page, item.body, item.content_type, item.final_url,
                                         self.page_settings(outlet), item.hints)
        except WorkerDied as exc:
            # Kept in the frontier: the next run tries the page again (up to the frontier's limit).
            item.retry = True
            logger.error("extraction failed outlet=%s url=%s: worker process died (%s)", item.outlet_id,
                         item.final_url, exc)
            count(stats, item.outlet_id, "errors/extraction")
            raise DropItem(f"extraction failed: {item.final_url}: {exc}", log_level="DEBUG") from exc
        for step, seconds in result.cpu.items():
            count(stats, item.outlet_id, f"time/{step}", seconds)
        if stats is not None and "extract" in result.cpu:
            stats.max_value("newsmon/time/extract_max", result.cpu["extract"])
        if result.error is not None:
            logger.error("extraction failed outlet=%s url=%s\n%s", item.outlet_id, item.final_url, result.error.rstrip())
            count(stats, item.outlet_id, "errors/extraction")
            raise DropItem(f"extraction failed: {item.final_url}", log_level="DEBUG")
        if result.mismatch:
            count(stats, item.outlet_id, "pages/charset_mismatch")
            logger.info("wrong charset outlet=%s url=%s (%s): decoded as %s", item.outlet_id, item.final_url,
                        result.mismatch, result.encoding)
            item.encoding = result.encoding
        if result.extraction is None:
            count(stats, item.outlet_id, "articles/no_text")
            logger.info("no article text outlet=%s url=%s", item.outlet_id, item.final_url)
            raise DropItem(f"no article text: {item.final_url}", log_level="DEBUG")
        item.extraction, item.language = result.extraction, result.language
        if result.language is not None and result.language.source == "hint":
            count(stats, item.outlet_id, "language/hint_used")
        item.content_hash, item.signature, item.shingles = result.content_hash, result.signature, result.shingles
        item.similarity_probe = result.probe
        return item
