"""OutletSpider: the one generic spider, driven by the outlets' config.

Every request carries its outlet's id in `meta["outlet"]`, so one spider serves all outlets of a
run with one global concurrency limit, and the host gate, stats and run records stay per outlet.
Seeds (feeds, sitemaps, homepage) go first; articles already stored are not requested again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip

from crawlers.discovery import (
    FEED,
    HOMEPAGE,
    SITEMAP,
    Link,
    is_article_url,
    is_listing,
    parse_feed,
    parse_sitemap,
)
from crawlers.items import PageItem
from crawlers.middlewares.hosts import OffsiteRequest
from crawlers.outlets import Outlet
from crawlers.stats import count
from crawlers.urls import canonical_url
from storage.articles import known_urls
from storage.db import open_database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import sqlite_utils
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

SEED_PRIORITY, SITEMAP_PRIORITY, LISTING_PRIORITY, ARTICLE_PRIORITY = 100, 90, 50, 0
MAX_SITEMAP_DEPTH = 3
KEPT_HEADERS = ("content-type", "content-language", "etag", "last-modified", "date", "cache-control")


class OutletSpider(Spider):
    """Crawls the outlets given in the NEWSMON_OUTLETS setting.

    Outlet-specific spiders subclass this and override the hooks `is_article`, `article_links`
    or `page_item` (see README, "Outlet-specific code").
    """

    name = "outlet"

    outlets: dict[str, Outlet]
    db: sqlite_utils.Database  # read-only use: which article URLs are already stored
    max_articles: int
    max_bytes: int
    seen: dict[str, set[str]]  # article URLs handled this run, per outlet
    requested: dict[str, int]  # article requests made this run, per outlet
    hints: dict[tuple[str, str], dict[str, Any]]  # what feeds/sitemaps said of each article URL
    links: LinkExtractor

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> OutletSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        # NEWSMON_OUTLETS holds every outlet of the run; the `outlets` spider argument (comma-separated
        # ids) picks this spider's share, so an outlet-specific spider runs beside the generic one.
        configured = [Outlet.from_dict(d) for d in settings.get("NEWSMON_OUTLETS") or []]
        wanted = set(filter(None, (kwargs.get("outlets") or "").split(",")))
        spider.outlets = {o.id: o for o in configured if not wanted or o.id in wanted}
        if not spider.outlets:
            raise ValueError(f"spider {cls.name!r}: no outlets to crawl (NEWSMON_OUTLETS, outlets={wanted})")
        spider.db = open_database(settings["NEWSMON_DATABASE"])
        spider.max_articles = settings.getint("NEWSMON_MAX_ARTICLES_PER_RUN", 0)
        spider.max_bytes = settings.getint("DOWNLOAD_MAXSIZE")
        spider.seen = defaultdict(set)
        spider.requested = defaultdict(int)
        spider.hints = {}
        spider.links = LinkExtractor(unique=True)
        crawler.signals.connect(spider._close_db, signal=signals.spider_closed)
        return spider

    def _close_db(self) -> None:
        self.db.close()

    def count(self, outlet_id: str, key: str, n: float = 1) -> None:
        count(self.crawler.stats, outlet_id, key, n)

    # -- seeds -------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for outlet in self.outlets.values():
            for url in outlet.feeds:
                yield self._seed(outlet, url, self.parse_feed, FEED)
            for url in outlet.sitemaps:
                yield self._seed(outlet, url, self.parse_sitemap, SITEMAP)
            if outlet.homepage:
                yield self._seed(outlet, outlet.homepage, self.parse_listing, HOMEPAGE)

    def _seed(self, outlet: Outlet, url: str, callback: Any, channel: str) -> Request:
        meta = _meta(outlet.id, channel, seed=True)
        return Request(url, callback, errback=self.on_error, priority=SEED_PRIORITY, dont_filter=True, meta=meta)

    def _received(self, response: Response) -> Outlet:
        outlet = self.outlets[response.meta["outlet"]]
        self.count(outlet.id, "pages")
        return outlet

    def _seed_result(self, response: Response, problem: tuple[str, str] | None = None) -> None:
        """Count a feed/sitemap/listing response as usable, or as an error (kind, detail)."""
        outlet_id = response.meta["outlet"]
        if response.meta.get("seed"):
            self.count(outlet_id, "seeds/failed" if problem else "seeds/ok")
        if problem:
            kind, detail = problem
            self.note_error(outlet_id, kind, f"{kind}: {detail}: {response.url}")

    # -- discovery ---------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Request]:
        outlet = self._received(response)
        result = parse_feed(response.body, response.url, _header(response, "content-type"))
        problem = None
        if result.malformed:
            logger.warning("unusable feed outlet=%s url=%s problem=%s", outlet.id, response.url, result.malformed)
            problem = ("malformed_feed", result.malformed)
        self._seed_result(response, problem)
        for link in result.links:
            yield from self.follow_article(outlet, link)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        outlet = self._received(response)
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.max_bytes)
            except Exception as exc:  # noqa: BLE001 - corrupt or oversized gzip: a broken sitemap
                logger.warning("unreadable gzip sitemap outlet=%s url=%s error=%s", outlet.id, response.url, exc)
                self._seed_result(response, ("malformed_sitemap", "bad gzip"))
                return
        result = parse_sitemap(body, response.url)
        problem = None
        if result.kind == "unknown":
            logger.warning("unusable sitemap outlet=%s url=%s", outlet.id, response.url)
            problem = ("malformed_sitemap", "not a sitemap")
        self._seed_result(response, problem)
        depth = response.meta.get("sitemap_depth", 0)
        for url in result.sitemaps:
            if depth + 1 > MAX_SITEMAP_DEPTH:
                logger.info("sitemap nesting too deep outlet=%s url=%s", outlet.id, url)
                break
            meta = _meta(outlet.id, SITEMAP, sitemap_depth=depth + 1)
            yield Request(url, self.parse_sitemap, errback=self.on_error, priority=SITEMAP_PRIORITY, meta=meta)
        for link in result.links:
            yield from self.follow_article(outlet, link)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        outlet = self._received(response)
        if not isinstance(response, TextResponse):
            self._seed_result(response, ("not_html", "listing page is not HTML"))
            return
        self._seed_result(response)
        depth = response.meta.get("listing_depth", 0)
        for url in self.article_links(response, outlet):
            if not outlet.allows_url(url):
                self.count(outlet.id, "links/offsite")
                continue
            if self.is_article(url, outlet, HOMEPAGE):
                if depth + 1 <= outlet.max_depth:
                    yield from self.follow_article(outlet, Link(url, HOMEPAGE))
            elif depth + 1 < outlet.max_depth and is_listing(url):
                meta = _meta(outlet.id, HOMEPAGE, listing_depth=depth + 1)
                yield Request(url, self.parse_listing, errback=self.on_error, priority=LISTING_PRIORITY, meta=meta)

    # Hooks for outlet-specific spiders ------------------------------------------------------

    def article_links(self, response: TextResponse, outlet: Outlet) -> list[str]:
        """Links on a listing page (homepage, section front) worth classifying."""
        return [link.url for link in self.links.extract_links(response)]

    def is_article(self, url: str, outlet: Outlet, channel: str) -> bool:
        return is_article_url(url, outlet, channel)

    def page_item(self, response: TextResponse, item: PageItem) -> PageItem:
        """Last chance to adjust an article page before the pipelines (e.g. add hints)."""
        return item

    # -- articles ----------------------------------------------------------------------------

    def follow_article(self, outlet: Outlet, link: Link) -> Iterator[Request]:
        url = canonical_url(link.url)
        if not outlet.allows_url(url):
            self.count(outlet.id, "links/offsite")
            return
        if not self.is_article(url, outlet, link.channel):
            self.count(outlet.id, "links/not_article")
            return
        self.count(outlet.id, f"discovered/{link.channel}")
        merged = self.hints.setdefault((outlet.id, url), {"channels": []})
        merged["channels"].append(link.channel)
        for key, value in link.hints.items():
            merged.setdefault(key, value)
        if url in self.seen[outlet.id]:
            return
        self.seen[outlet.id].add(url)
        if known_urls(self.db, [url]):
            self.count(outlet.id, "articles/known")
            return
        if self.max_articles and self.requested[outlet.id] >= self.max_articles:
            if self.requested[outlet.id] == self.max_articles:
                logger.info("max_articles_per_run reached outlet=%s cap=%d", outlet.id, self.max_articles)
                self.requested[outlet.id] += 1  # log once
            self.count(outlet.id, "articles/capped")
            return
        self.requested[outlet.id] += 1
        meta = _meta(outlet.id, link.channel, article_url=url)
        yield Request(url, self.parse_article, errback=self.on_error, priority=ARTICLE_PRIORITY, meta=meta)

    def parse_article(self, response: Response) -> Iterator[PageItem]:
        outlet = self._received(response)
        ctype = _header(response, "content-type") or ""
        if not isinstance(response, TextResponse) or ("html" not in ctype.lower() and ctype):
            self.count(outlet.id, "articles/not_html")
            return
        url = response.meta["article_url"]
        item = PageItem(
            outlet_id=outlet.id,
            url=url,
            final_url=canonical_url(response.url),
            status=response.status,
            body=response.body,
            content_type=ctype or None,
            encoding=response.encoding,
            headers={h: v for h in KEPT_HEADERS if (v := _header(response, h))},
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            found_via=response.meta["channel"],
            hints=self.hints.get((outlet.id, url), {}),
        )
        yield self.page_item(response, item)

    # -- failures ----------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        outlet_id = request.meta.get("outlet")
        if outlet_id not in self.outlets:
            return
        exc = failure.value
        seed = request.meta.get("seed")
        if isinstance(exc, OffsiteRequest):
            # Counted by the host gate. An article link leaving the outlet is routine; a feed,
            # sitemap or homepage that redirects off the outlet's hosts is a config problem.
            if not seed:
                return
            kind = "offsite_redirect"
        elif isinstance(exc, HttpError):
            self.count(outlet_id, "pages")
            kind = f"http_{exc.response.status}"
        elif isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
            self.count(outlet_id, "robots_denied")
            logger.info("forbidden by robots.txt outlet=%s url=%s", outlet_id, request.url)
            if not seed:
                return
            kind = "robots_denied"
        else:
            kind = _error_kind(exc)
        if seed:
            self.count(outlet_id, "seeds/failed")
        self.note_error(outlet_id, kind, f"{kind}: {request.url}")
        logger.warning("fetch failed outlet=%s url=%s kind=%s error=%s", outlet_id, request.url, kind, exc)

    def note_error(self, outlet_id: str, kind: str, message: str) -> None:
        self.count(outlet_id, f"errors/{kind}")
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(f"newsmon/outlet/{outlet_id}/last_error", message)


def _meta(outlet_id: str, channel: str, *, seed: bool = False, **extra: Any) -> dict[str, Any]:
    """A new request's meta: only our keys (copying response.meta would forward Scrapy's own)."""
    return {"outlet": outlet_id, "channel": channel, "seed": seed, "listing_depth": 0, "sitemap_depth": 0, **extra}


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _error_kind(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "DownloadCancelledError" and "maxsize" in str(exc).lower().replace(" ", ""):
        return "too_large"
    kinds = {
        "DownloadConnectionRefusedError": "refused",
        "ConnectionRefusedError": "refused",
        "CannotResolveHostError": "dns",
        "DNSLookupError": "dns",
        "DownloadTimeoutError": "timeout",
        "TimeoutError": "timeout",
        "TCPTimedOutError": "timeout",
        "UserTimeoutError": "timeout",
        "DownloadCancelledError": "cancelled",
        "DownloadFailedError": "download_failed",
        "ResponseDataLossError": "data_loss",
        "ResponseNeverReceived": "no_response",
        "ConnectionLost": "connection_lost",
        "ResponseFailed": "response_failed",
        "ConnectError": "connect",
    }
    return kinds.get(name, name)
