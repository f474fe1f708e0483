"""OutletSpider: the one generic spider, driven by the outlets' config.

Every request carries its outlet's id in `meta["outlet"]`, so one spider serves all outlets of a
run with one global concurrency limit, and the host gate, stats and run records stay per outlet.

Each run: seeds (feeds, sitemaps, homepage) first, with conditional GET; a seed that answers 304
or the same body as last time is not parsed (its sub-sitemaps and section pages are still visited,
from the stored list). New article links go to the frontier (storage/frontier.py) in the same
transaction as the seed's new state, so none is lost when the run does not get to it; the run
also takes what earlier runs left there. Articles already stored are not requested again, except
the ones due for a recheck (storage/recheck.py), fetched with conditional GET.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip

from crawlers.dates import resolve_dates
from crawlers.discovery import (
    ENTITIES_REFUSED,
    FEED,
    HOMEPAGE,
    SITEMAP,
    Link,
    is_article_url,
    is_listing,
    parse_feed,
    parse_sitemap,
)
from crawlers.extensions.runs import database_failed
from crawlers.extraction import looks_binary
from crawlers.http import header, validators
from crawlers.items import PageItem
from crawlers.middlewares.hosts import OffsiteRequest
from crawlers.middlewares.redirect import RedirectLoop, TooManyRedirects
from crawlers.middlewares.robots import RobotsUnavailable
from crawlers.middlewares.seeds import AlreadySeeded
from crawlers.outlets import Outlet
from crawlers.stats import count
from crawlers.urls import canonical_url
from storage import frontier
from storage.articles import fill_missing_dates, known_urls
from storage.db import open_database, write_transaction
from storage.fetchstate import body_hash, conditional_headers, fetch_state, record_fetch
from storage.recheck import changed_after, due_rechecks, mark_removed, record_check, stored_since

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import sqlite_utils
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

SEED_PRIORITY, SITEMAP_PRIORITY, LISTING_PRIORITY, ARTICLE_PRIORITY, RECHECK_PRIORITY = 100, 90, 50, 0, -10
RECHECK = "recheck"
#: Links taken from the frontier per outlet and run when no max_articles_per_run caps them.
FRONTIER_BATCH = 5000
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
    rechecking: dict[str, set[str]]  # stored articles fetched again this run, per outlet
    requested: dict[str, int]  # article requests made this run, per outlet
    hints: dict[tuple[str, str], dict[str, Any]]  # what feeds/sitemaps said of each article URL
    links: LinkExtractor
    recheck_schedule: list[tuple[int, int]]
    recheck_max: int
    # Filled by follow_article, written to the frontier by the callback that found them.
    new_links: list[tuple[str, str, str, dict[str, Any]]]  # (outlet, url, channel, hints)
    handled_links: list[str]
    built: set[tuple[str, str]]  # (outlet, url) of article pages already handed to the pipelines
    late_hints: set[tuple[str, str]]  # ... and of stored ones, for which a dated hint came later
    seed_urls: set[str]  # canonical URLs of this run's feeds, sitemaps and homepages

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
        spider.rechecking = defaultdict(set)
        spider.requested = defaultdict(int)
        spider.hints = {}
        spider.links = LinkExtractor(unique=True)
        spider.recheck_schedule = [tuple(t) for t in settings.getlist("NEWSMON_RECHECK")]
        spider.recheck_max = settings.getint("NEWSMON_RECHECK_MAX", 0)
        spider.new_links, spider.handled_links = [], []
        spider.built, spider.late_hints = set(), set()
        spider.seed_urls = set()
        crawler.signals.connect(spider._close_db, signal=signals.spider_closed)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider._spider_error, signal=signals.spider_error)
        return spider

    def _close_db(self) -> None:
        try:
            self.save_links()  # handled links not yet written
            self._apply_late_hints()
        finally:
            self.db.close()

    def _apply_late_hints(self) -> None:
        """A feed or news sitemap dated an article after its page was fetched (or in an earlier run):
        give the stored article that date if it has none. All items are stored when the spider closes."""
        fills = []
        for outlet_id, url in self.late_hints:
            hints = self.hints.get((outlet_id, url)) or {}
            dates = resolve_dates(None, "", hints=hints, tz=self.outlets[outlet_id].timezone)
            if dates.published_at:
                fills.append((url, dates.published_at, dates.date_source))
        if fills:
            with write_transaction(self.db):
                filled = fill_missing_dates(self.db, fills)
            if filled:
                logger.info("dated %d stored articles from feed/sitemap entries seen after their pages", filled)

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
        for outlet in self.outlets.values():
            for request in self._left_over(outlet):
                yield request
            for request in self._rechecks(outlet):
                yield request

    def _seed(self, outlet: Outlet, url: str, callback: Any, channel: str) -> Request:
        # Seeds skip the duplicate filter (dont_filter), which therefore never records them:
        # crawlers/middlewares/seeds.py drops later requests for them (links, redirects).
        self.seed_urls.add(canonical_url(url))
        meta = _meta(outlet.id, channel, seed=True)
        request = Request(url, callback, errback=self.on_error, priority=SEED_PRIORITY, dont_filter=True, meta=meta)
        return self.conditional(request)

    def conditional(self, request: Request, also_handle: tuple[int, ...] = ()) -> Request:
        """Add If-None-Match / If-Modified-Since from the URL's stored state; let a 304 through."""
        state = fetch_state(self.db, request.url)
        request.headers.update(conditional_headers(state))
        request.meta["state_url"] = request.url
        request.meta["last_hash"] = state["body_hash"] if state else None
        request.meta["children"] = state["children"] if state else []
        request.meta["handle_httpstatus_list"] = [304, *also_handle]
        return request

    def _left_over(self, outlet: Outlet) -> Iterator[Request]:
        """Article links earlier runs found but did not store (cap, failure, crash)."""
        limit = self.max_articles or FRONTIER_BATCH
        requests = []
        pending = frontier.pending_links(self.db, outlet.id, limit)
        for url, channel, hints in pending:
            requests.extend(self.follow_article(outlet, Link(url, channel, hints)))
            if url not in self.seen[outlet.id]:  # no longer an article of the outlet (its config changed)
                self.handled_links.append(url)
        # follow_article queued them as new links: they are in the frontier already.
        taken = {url for url, _, _ in pending}
        self.new_links = [link for link in self.new_links if link[1] not in taken]
        self.count(outlet.id, "frontier/taken", len(requests))
        self.save_links()
        return iter(requests)

    def _rechecks(self, outlet: Outlet) -> Iterator[Request]:
        """Stored articles due for a recheck, with conditional GET."""
        for row in due_rechecks(self.db, outlet.id, self.recheck_max):
            if row["url"] not in self.seen[outlet.id] and row["url"] not in self.rechecking[outlet.id]:
                self.seen[outlet.id].add(row["url"])
                self.rechecking[outlet.id].add(row["url"])
                yield self.recheck_request(outlet, row["url"], row["id"])

    def recheck_request(self, outlet: Outlet, url: str, article_id: int) -> Request:
        meta = _meta(outlet.id, RECHECK, article_url=url, recheck=article_id)
        request = Request(url, self.parse_recheck, errback=self.on_error, priority=RECHECK_PRIORITY,
                          dont_filter=True, meta=meta)
        return self.conditional(request, also_handle=(404, 410))

    def _unchanged(self, response: Response) -> bool:
        """A conditional request answered 304, or with the same body as last time: skip parsing."""
        if response.status == 304:
            self.count(response.meta["outlet"], "not_modified")
            self.count(response.meta["outlet"], "not_modified/304")
            return True
        digest = body_hash(response.body)
        response.meta["body_hash"] = digest
        if digest == response.meta.get("last_hash"):
            self.count(response.meta["outlet"], "not_modified")
            self.count(response.meta["outlet"], "not_modified/same_body")
            return True
        return False

    def save_links(self, response: Response | None = None, kind: str = "", children: list[str] | None = None) -> None:
        """In one transaction: the article links just found go to the frontier, handled ones leave
        it, and the seed `response` (if any) gets its new conditional-GET state."""
        if not (self.new_links or self.handled_links or response is not None):
            return
        new, handled = self.new_links, self.handled_links
        self.new_links, self.handled_links = [], []
        try:
            with write_transaction(self.db):
                for outlet_id in {o for o, *_ in new}:
                    frontier.add_links(self.db, outlet_id, [(u, c, h) for o, u, c, h in new if o == outlet_id])
                frontier.done(self.db, handled)
                if response is not None:
                    record_fetch(
                        self.db, response.meta["state_url"], response.meta["outlet"], kind, status=response.status,
                        headers=validators(response), digest=response.meta.get("body_hash"), children=children,
                    )
        except sqlite3.Error as exc:
            # Not written: keep the links for the next save (the one at close included). The seed's
            # new state was not recorded either, so the next run parses it again in any case.
            self.new_links[:0], self.handled_links[:0] = new, handled
            if database_failed(self.crawler, exc, self.settings["NEWSMON_DATABASE"]) is None:
                raise

    def _visit_children(self, response: Response, kind: str) -> Iterator[Request]:
        """An unchanged seed: record the fetch, then visit its sub-sitemaps / section pages as last time."""
        self.save_links(response, kind)
        yield from self._children(response, kind, response.meta.get("children") or [])

    def _children(self, response: Response, kind: str, urls: list[str]) -> Iterator[Request]:
        """Conditional requests for the sub-sitemaps (kind SITEMAP) or section pages of `response`."""
        outlet_id = response.meta["outlet"]
        for url in urls:
            if kind == SITEMAP:
                chain = [*response.meta.get("sitemap_chain", ()), response.url]
                if url in chain:
                    continue  # a loop stored before loops were refused
                meta = _meta(outlet_id, SITEMAP, sitemap_depth=response.meta.get("sitemap_depth", 0) + 1,
                             sitemap_chain=chain)
                request = Request(url, self.parse_sitemap, errback=self.on_error, priority=SITEMAP_PRIORITY, meta=meta)
            else:
                meta = _meta(outlet_id, HOMEPAGE, listing_depth=response.meta.get("listing_depth", 0) + 1)
                request = Request(url, self.parse_listing, errback=self.on_error, priority=LISTING_PRIORITY, meta=meta)
            yield self.conditional(request)

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

    def _spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        """A bug in a callback (ours or an outlet-specific spider's): counted, so the run is not 'ok'."""
        outlet_id = response.meta.get("outlet")
        if spider is self and outlet_id in self.outlets:
            self.note_error(outlet_id, "spider_error", f"spider_error: {failure.value!r}: {response.url}")

    # -- discovery ---------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Request]:
        outlet = self._received(response)
        if self._unchanged(response):
            self._seed_result(response)
            yield from self._visit_children(response, FEED)
            return
        result = parse_feed(response.body, response.url, header(response, "content-type"))
        problem = None
        if result.refused:
            logger.warning("refused feed outlet=%s url=%s problem=%s", outlet.id, response.url, result.malformed)
            problem = ("xml_entities", result.malformed)
        elif result.malformed:
            logger.warning("unusable feed outlet=%s url=%s problem=%s", outlet.id, response.url, result.malformed)
            problem = ("malformed_feed", result.malformed)
        elif result.damaged:
            logger.warning("broken feed, %d entries read outlet=%s url=%s problem=%s", len(result.links), outlet.id,
                           response.url, result.damaged)
            self.count(outlet.id, "feeds/damaged")
        self._seed_result(response, problem)
        requests = [r for link in result.links for r in self.follow_article(outlet, link)]
        self.save_links(response, FEED, [])
        yield from requests

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        outlet = self._received(response)
        if self._unchanged(response):
            self._seed_result(response)
            yield from self._visit_children(response, SITEMAP)
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.max_bytes)
            except Exception as exc:  # noqa: BLE001 - corrupt or oversized gzip: a broken sitemap
                logger.warning("unreadable gzip sitemap outlet=%s url=%s error=%s", outlet.id, response.url, exc)
                too_large = "exceeded the specified maximum" in str(exc)  # Scrapy's _DecompressionMaxSizeExceeded
                self._seed_result(response, ("too_large", "inflates past max_page_bytes") if too_large
                                  else ("malformed_sitemap", "bad gzip"))
                return
        result = parse_sitemap(body, response.url)
        problem = None
        if result.kind == "refused":
            logger.warning("refused sitemap outlet=%s url=%s problem=%s", outlet.id, response.url, ENTITIES_REFUSED)
            problem = ("xml_entities", ENTITIES_REFUSED)
        elif result.kind == "unknown":
            logger.warning("unusable sitemap outlet=%s url=%s", outlet.id, response.url)
            problem = ("malformed_sitemap", "empty" if not body.strip() else "not a sitemap")
        elif not result.sitemaps and not result.links:
            logger.info("empty sitemap outlet=%s url=%s", outlet.id, response.url)
            self.count(outlet.id, "sitemaps/empty")
        self._seed_result(response, problem)
        depth = response.meta.get("sitemap_depth", 0)
        children = []
        chain = {*response.meta.get("sitemap_chain", ()), response.url}
        for url in result.sitemaps:
            if url in chain:
                logger.warning("sitemap loop outlet=%s url=%s lists %s", outlet.id, response.url, url)
                self.note_error(outlet.id, "sitemap_loop", f"sitemap_loop: {response.url} lists {url}")
                continue
            if depth + 1 > MAX_SITEMAP_DEPTH:
                logger.info("sitemap nesting too deep outlet=%s url=%s", outlet.id, url)
                break
            children.append(url)
        requests = [r for link in result.links for r in self.follow_article(outlet, link)]
        self.save_links(response, SITEMAP, children)
        yield from self._children(response, SITEMAP, children)
        yield from requests

    def parse_listing(self, response: Response) -> Iterator[Request]:
        outlet = self._received(response)
        if self._unchanged(response):
            self._seed_result(response)
            yield from self._visit_children(response, HOMEPAGE)
            return
        if not isinstance(response, TextResponse):
            self._seed_result(response, ("not_html", "listing page is not HTML"))
            return
        self._seed_result(response)
        depth = response.meta.get("listing_depth", 0)
        requests, children = [], []
        for url in self.article_links(response, outlet):
            if not outlet.allows_url(url):
                self.count(outlet.id, "links/offsite")
                continue
            if self.is_article(url, outlet, HOMEPAGE):
                if depth + 1 <= outlet.max_depth:
                    requests.extend(self.follow_article(outlet, Link(url, HOMEPAGE)))
            elif depth + 1 < outlet.max_depth and is_listing(url):
                children.append(url)
        self.save_links(response, HOMEPAGE, children)
        yield from self._children(response, HOMEPAGE, children)
        yield from requests

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
            if link.hints and (outlet.id, url) in self.built:
                self.late_hints.add((outlet.id, url))
            # Seen first through a channel without a modification date (the feed), now with one.
            yield from self._announced_edit(outlet, url, link)
            return
        self.seen[outlet.id].add(url)
        if known_urls(self.db, [url]):
            self.count(outlet.id, "articles/known")
            self.handled_links.append(url)
            if link.hints:
                self.late_hints.add((outlet.id, url))
            yield from self._announced_edit(outlet, url, link)
            return
        self.new_links.append((outlet.id, url, link.channel, merged))
        if self.max_articles and self.requested[outlet.id] >= self.max_articles:
            if self.requested[outlet.id] == self.max_articles:
                logger.info("max_articles_per_run reached outlet=%s cap=%d", outlet.id, self.max_articles)
                self.requested[outlet.id] += 1  # log once
            self.count(outlet.id, "articles/capped")
            return
        self.requested[outlet.id] += 1
        meta = _meta(outlet.id, link.channel, article_url=url)
        yield Request(url, self.parse_article, errback=self.on_error, priority=ARTICLE_PRIORITY, meta=meta)

    def _announced_edit(self, outlet: Outlet, url: str, link: Link) -> Iterator[Request]:
        """The feed or sitemap says a stored page changed after we fetched it: check it now (a
        conditional GET), not when its age-based recheck falls due. Once per page and run."""
        claimed = link.hints.get("lastmod") or link.hints.get("feed_updated_at")
        if not claimed or url in self.rechecking[outlet.id]:
            return
        stored = stored_since(self.db, url)
        if stored is not None and changed_after(claimed, stored[1]):
            self.rechecking[outlet.id].add(url)
            self.count(outlet.id, "rechecked/announced")
            yield self.recheck_request(outlet, url, stored[0])

    def parse_article(self, response: Response) -> Iterator[PageItem]:
        outlet = self._received(response)
        ctype = header(response, "content-type") or ""
        binary = looks_binary(response.body, ctype)
        if binary or not isinstance(response, TextResponse) or ("html" not in ctype.lower() and ctype):
            self.count(outlet.id, "articles/not_html")
            if binary:
                self.note_error(outlet.id, "binary", f"binary: a {ctype or 'untyped'} body that is not text: {response.url}")
                logger.warning("binary body outlet=%s url=%s content_type=%s", outlet.id, response.url, ctype)
            if response.meta.get("recheck"):
                record_check(self.db, response.meta["recheck"], self.recheck_schedule)
            else:
                self.handled_links.append(response.meta["article_url"])
                self.save_links()
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
            headers={h: v for h in KEPT_HEADERS if (v := header(response, h))},
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            found_via=response.meta["channel"],
            hints=self.hints.get((outlet.id, url), {}),
            body_hash=response.meta.get("body_hash") or body_hash(response.body),
            recheck_of=response.meta.get("recheck"),
        )
        self.built.add((outlet.id, url))
        yield self.page_item(response, item)

    def parse_recheck(self, response: Response) -> Iterator[PageItem]:
        """A stored article fetched again: unchanged (304, same bytes), removed (404/410) or to extract."""
        outlet = self._received(response)
        article_id = response.meta["recheck"]
        self.count(outlet.id, "rechecked")
        if response.status in (404, 410):
            if mark_removed(self.db, article_id, response.status):
                self.count(outlet.id, "removed")
                logger.info("article removed outlet=%s article=%d status=%d url=%s", outlet.id, article_id,
                            response.status, response.url)
            return
        if self._unchanged(response):
            record_check(self.db, article_id, self.recheck_schedule, url=response.meta["state_url"],
                         outlet_id=outlet.id, status=response.status, headers=validators(response))
            return
        yield from self.parse_article(response)

    def _item_dropped(self, item: Any, response: Response, exception: BaseException, spider: Spider) -> None:
        """A page dropped by a pipeline (no text, extraction error) is handled: it leaves the frontier;
        a dropped recheck keeps the stored text and gets its next check. A failed store stays."""
        if not isinstance(item, PageItem) or spider is not self or item.retry:
            return
        if item.recheck_of:
            record_check(self.db, item.recheck_of, self.recheck_schedule)
        else:
            self.handled_links.append(item.url)
            self.save_links()

    # -- failures ----------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        outlet_id = request.meta.get("outlet")
        if outlet_id not in self.outlets:
            return
        exc = failure.value
        seed = request.meta.get("seed")
        if isinstance(exc, AlreadySeeded):
            self.count(outlet_id, "links/seed_again")
            return
        if isinstance(exc, OffsiteRequest):
            # Counted by the host gate. An article link leaving the outlet is routine; a feed,
            # sitemap or homepage that redirects off the outlet's hosts is a config problem.
            if not seed:
                if request.meta.get("article_url"):
                    self.handled_links.append(request.meta["article_url"])
                return
            kind = "offsite_redirect"
        elif isinstance(exc, HttpError):
            self.count(outlet_id, "pages")
            kind = f"http_{exc.response.status}"
        elif isinstance(exc, RobotsUnavailable):
            # The host is unreachable (robots.txt refused, timed out) or robots.txt answers 5xx.
            self.count(outlet_id, "robots_denied")
            kind = _error_kind(exc.cause) if exc.cause is not None else "robots_unavailable"
        elif isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
            self.count(outlet_id, "robots_denied")
            logger.info("forbidden by robots.txt outlet=%s url=%s", outlet_id, request.url)
            if not seed:
                if request.meta.get("article_url"):
                    self.handled_links.append(request.meta["article_url"])
                return
            kind = "robots_denied"
        else:
            kind = _error_kind(exc)
        if seed:
            self.count(outlet_id, "seeds/failed")
        self.note_error(outlet_id, kind, f"{kind}: {request.url}")
        logger.warning("fetch failed outlet=%s url=%s kind=%s error=%s", outlet_id, request.url, kind, exc)
        self._article_failed(request, kind)

    def _article_failed(self, request: Request, kind: str) -> None:
        """A new article's fetch failed: gone for good (404, 410) or tried again next run."""
        url = request.meta.get("article_url")
        if not url or request.meta.get("recheck"):
            return  # a failed recheck stays due and is tried again next run
        if kind in ("http_404", "http_410"):
            self.handled_links.append(url)
            self.save_links()
            return
        with write_transaction(self.db):
            frontier.failed(self.db, url, kind)

    def note_error(self, outlet_id: str, kind: str, message: str) -> None:
        self.count(outlet_id, f"errors/{kind}")
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(f"newsmon/outlet/{outlet_id}/last_error", message)


def _meta(outlet_id: str, channel: str, *, seed: bool = False, **extra: Any) -> dict[str, Any]:
    """A new request's meta: only our keys (copying response.meta would forward Scrapy's own)."""
    return {"outlet": outlet_id, "channel": channel, "seed": seed, "listing_depth": 0, "sitemap_depth": 0, **extra}


def _error_kind(exc: BaseException) -> str:
    name = type(exc).__name__
    if isinstance(exc, RedirectLoop):
        return "redirect_loop"
    if isinstance(exc, TooManyRedirects):
        return "too_many_redirects"
    if isinstance(exc, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in str(exc):
        return "too_large"  # HttpCompressionMiddleware: the body inflates past the limit (a gzip bomb)
    kinds = {
        # Scrapy's HTTP/1.1 handler cancels a body that grows past DOWNLOAD_MAXSIZE with a bare
        # CancelledError (and one whose Content-Length is over it with a message): nothing else
        # cancels a download in flight (timeouts are DownloadTimeoutError).
        "DownloadCancelledError": "too_large",
        "DownloadConnectionRefusedError": "refused",
        "ConnectionRefusedError": "refused",
        "CannotResolveHostError": "dns",
        "DNSLookupError": "dns",
        "DownloadTimeoutError": "timeout",
        "TimeoutError": "timeout",
        "TCPTimedOutError": "timeout",
        "UserTimeoutError": "timeout",
        "DownloadFailedError": "download_failed",
        "ResponseDataLossError": "data_loss",
        "ResponseNeverReceived": "no_response",
        "ConnectionLost": "connection_lost",
        "ResponseFailed": "response_failed",
        "ConnectError": "connect",
    }
    return kinds.get(name, name)
