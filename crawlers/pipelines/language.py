"""200 - language: langdetect on the extracted text, the outlet's hint only when unsure."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from crawlers.language import detect_language
from crawlers.stats import count

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from crawlers.items import PageItem


class LanguagePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        # langdetect loads its 55 language profiles on first use (~0.3 s): do it before the first
        # page, not in the middle of the crawl.
        detect_language("warm-up text for the language profiles, long enough to be detected")

    def process_item(self, item: PageItem) -> PageItem:
        outlet = self.crawler.spider.outlets[item.outlet_id]  # type: ignore[union-attr]
        started = time.perf_counter()
        item.language = detect_language(item.extraction.text, outlet.language)
        if item.language.source == "hint":
            count(self.crawler.stats, item.outlet_id, "language/hint_used")
        count(self.crawler.stats, item.outlet_id, "time/language", time.perf_counter() - started)
        return item
