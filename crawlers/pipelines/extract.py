"""100 - extract: page -> clean text and metadata (trafilatura). A page without text is dropped.

Extraction is the CPU-heavy step and runs in the reactor thread for now; it is one call to
`crawlers.extraction.extract_page` (pure, picklable) so it can move to a process pool. Its time is
counted in `newsmon/time/extract` so the cost is visible per run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from crawlers.extraction import decode_page, extract_for_outlet, warm_up
from crawlers.stats import count

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from crawlers.items import PageItem

logger = logging.getLogger(__name__)



class ExtractPipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        warm_up()

    async def process_item(self, item: PageItem) -> PageItem:
        # Let the reactor run (downloads, timers) before each page. This does not bound a stall to
        # one extraction: asyncio runs every ready callback in one loop pass, so a few pages can
        # be extracted back to back (measured: up to ~100 ms, bench/README.md). A process pool
        # is the real fix (the throughput issue).
        await asyncio.sleep(0)
        outlet = self.crawler.spider.outlets[item.outlet_id]  # type: ignore[union-attr]
        started = time.perf_counter()
        try:
            decoded = decode_page(item.body, item.content_type)
            if decoded.mismatch:
                count(self.crawler.stats, item.outlet_id, "pages/charset_mismatch")
                logger.info("wrong charset outlet=%s url=%s (%s): decoded as %s", item.outlet_id, item.final_url,
                            decoded.mismatch, decoded.encoding)
                item.encoding = decoded.encoding
            extraction = extract_for_outlet(decoded.text, item.final_url, outlet, item.hints)
        except Exception as exc:  # noqa: BLE001 - one bad page must never stop the crawl
            logger.exception("extraction failed outlet=%s url=%s", item.outlet_id, item.final_url)
            count(self.crawler.stats, item.outlet_id, "errors/extraction")
            raise DropItem(f"extraction failed: {item.final_url}: {exc}", log_level="DEBUG") from exc
        finally:
            elapsed = time.perf_counter() - started
            count(self.crawler.stats, item.outlet_id, "time/extract", elapsed)
            if self.crawler.stats is not None:
                self.crawler.stats.max_value("newsmon/time/extract_max", elapsed)
        if extraction is None:
            count(self.crawler.stats, item.outlet_id, "articles/no_text")
            logger.info("no article text outlet=%s url=%s", item.outlet_id, item.final_url)
            raise DropItem(f"no article text: {item.final_url}", log_level="DEBUG")
        item.extraction = extraction
        return item
