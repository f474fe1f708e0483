"""A feed, sitemap or homepage is fetched once per run, even when something links back to it.

Seeds are requested with `dont_filter` (each outlet's seeds must be fetched, whatever another
outlet or a stored list asks for), so Scrapy's duplicate filter never records them: a section
page linking back to the homepage, directly or through a redirect (`/fr` -> `/fr/`), fetched the
homepage a second time. This gate sits in the downloader middlewares, which redirects pass
through again, and drops a non-seed request for a URL that is one of the run's seeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from crawlers.urls import canonical_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler


class AlreadySeeded(IgnoreRequest):
    """A request for a URL that this run fetches as a seed."""


class SeedOnceMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if request.meta.get("seed") or "outlet" not in request.meta:
            return
        seeds = getattr(self.crawler.spider, "seed_urls", None)
        if seeds and canonical_url(request.url) in seeds:
            raise AlreadySeeded(f"fetched as a seed in this run: {request.url}")
