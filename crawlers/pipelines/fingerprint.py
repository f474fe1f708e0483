"""300 - fingerprint: the record to store, with the keys deduplication and near-duplicate
clustering work on: canonical URL, content hash and MinHash signature (the last two computed with
the extraction, in a worker process: crawlers/analysis.py).

The page's rel=canonical / og:url counts only when it is on the outlet's own hosts: a page cannot
claim another site's article as itself.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from crawlers.stats import count
from crawlers.urls import canonical_url
from storage.articles import ArticleRecord

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from crawlers.items import PageItem
    from crawlers.outlets import Outlet


def article_record(item: PageItem, outlet: Outlet, run_id: str | None = None) -> ArticleRecord:
    ex, lang = item.extraction, item.language
    declared = ex.canonical_url
    canonical = canonical_url(declared) if declared and outlet.allows_url(declared) else item.final_url
    record = ArticleRecord(
        outlet_id=item.outlet_id, url=item.url, final_url=item.final_url, canonical_url=canonical,
        text=ex.text, content_hash=item.content_hash, found_via=item.found_via, fetched_at=item.fetched_at,
        status=item.status, title=ex.title, author=ex.author, description=ex.description,
        sitename=ex.sitename, image=ex.image, categories=ex.categories, tags=ex.tags,
        published_at=ex.published_at, modified_at=ex.modified_at, date_source=ex.date_source,
        date_flags=ex.date_flags, language=lang.code, language_confidence=lang.confidence,
        language_source=lang.source, headers=item.headers, hints=item.hints, encoding=item.encoding, html=item.body, run_id=run_id,
        body_hash=item.body_hash,
    )
    record.signature, record.shingles = item.signature, item.shingles
    return record


class FingerprintPipeline:
    def __init__(self, crawler: Crawler, run_id: str | None):
        self.crawler = crawler
        self.run_id = run_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, crawler.settings.get("NEWSMON_RUN_ID"))

    def process_item(self, item: PageItem) -> PageItem:
        outlet = self.crawler.spider.outlets[item.outlet_id]  # type: ignore[union-attr]
        started = time.perf_counter()
        item.record = article_record(item, outlet, self.run_id)
        count(self.crawler.stats, item.outlet_id, "time/fingerprint", time.perf_counter() - started)
        return item
