"""robots.txt as RFC 9309 says, with a fix for concurrent waiters (Scrapy 2.19).

What a robots.txt answer means here (Scrapy allows everything whenever robots.txt cannot be read):

- 2xx: parsed leniently (Protego): lines that are not rules, binary junk included, are skipped and
  the readable rules apply;
- 4xx (404, 403, ...), or a redirect loop or chain: there are no rules, everything is allowed
  (RFC 9309 2.3.1.3 and 2.3.1.2);
- 304 to our conditional request: the copy kept from the last 2xx (`fetch_state.body`) applies;
- 5xx after the retries, or no answer at all (timeout, refused, reset, too large): the host is
  "unreachable" and is treated as disallowing everything for this run (RFC 9309 2.3.1.4: "the
  crawler MUST assume complete disallow"). The requests are dropped as `RobotsUnavailable`, which
  the spider counts as `robots_unavailable`; the next run asks again.

Concurrent waiters: Scrapy's middleware awaits the one Deferred of a host's robots.txt from every
request that arrives while it is being fetched. `Deferred.asFuture` adds a callback that returns
None, so the first waiter got the parser and every later one got None, "allow everything": a
disallowed URL requested at the start of a crawl was fetched (found by
tests/test_crawl_behaviour.py). Each waiter here gets its own Deferred fed by the shared one, as
Scrapy did before it made process_request async (scrapy/scrapy#6802).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawlers.http import validators
from crawlers.middlewares.redirect import RedirectLoop, TooManyRedirects
from storage.db import write_transaction
from storage.fetchstate import body_hash, conditional_headers, fetch_state, record_fetch

if TYPE_CHECKING:
    import sqlite_utils
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)


class RobotsUnavailable(IgnoreRequest):
    """The host's robots.txt could not be read (5xx, no answer): nothing is fetched from it.

    `cause` is the download error (refused, timeout, ...) when there was no answer at all, so the
    run reports an outlet that is down as down, not as a robots.txt problem.
    """

    def __init__(self, message: str, cause: BaseException | None = None):
        super().__init__(message)
        self.cause = cause


class _DisallowAll:
    """The parser of an unreachable robots.txt."""

    def __init__(self, reason: str, cause: BaseException | None = None):
        self.reason = reason
        self.cause = cause

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False

    def sitemaps(self) -> list[str]:
        return []


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, _DisallowAll):
            self._stats.inc_value("robotstxt/unavailable_denied")
            raise RobotsUnavailable(f"robots.txt unavailable ({rp.reason}): nothing is fetched from this host", rp.cause)
        super().process_request_2(rp, request)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            mine: Deferred[RobotParser | None] = Deferred()

            def forward(result: RobotParser | None) -> RobotParser | None:
                mine.callback(result)
                return result  # the shared Deferred keeps its result for the next waiter

            pending.addCallback(forward)
            return await maybe_deferred_to_future(mine)
        if netloc in self._parsers:
            return pending
        self._parsers[netloc] = Deferred()
        url = urlparse_cached(request)
        robots_url = f"{url.scheme}://{netloc}/robots.txt"
        # handle_httpstatus_all: a 4xx or 5xx robots.txt reaches _parse_robots with its status.
        robots_request = Request(robots_url, priority=self.DOWNLOAD_PRIORITY, callback=NO_CALLBACK,
                                 meta={"dont_obey_robotstxt": True, "handle_httpstatus_all": True})
        cached = self._cached(robots_url)
        if cached is not None:
            robots_request.headers.update(conditional_headers(cached))
        try:
            response = await self.crawler.engine.download_async(robots_request)
        except (RedirectLoop, TooManyRedirects) as exc:
            # RFC 9309 2.3.1.2: after too many redirects robots.txt MAY be taken as unavailable (4xx).
            logger.info("robots.txt redirects too often, everything is allowed: %s (%s)", robots_url, exc)
            self._settle(netloc, None)
        except Exception as exc:  # noqa: BLE001 - any other failure to get an answer means "unreachable"
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
            self._unreachable(netloc, robots_url, f"{type(exc).__name__}: {exc}".rstrip(": "), exc)
        else:
            if response.status == 304 and cached is not None:
                self._stats.inc_value("robotstxt/not_modified")
                self._remember(robots_url, request, response, None)
                response = response.replace(status=200, body=cached["body"])
            elif 200 <= response.status < 300:
                self._remember(robots_url, request, response, response.body)
            await self._parse_robots(response, netloc, request)
        self._stats.inc_value("robotstxt/request_count")
        return await self.robot_parser(request)

    # -- the stored copy: asked for with conditional GET (RFC 9309 2.4 lets a crawler cache it) --

    def _db(self) -> sqlite_utils.Database | None:
        return getattr(self.crawler.spider, "db", None)

    def _cached(self, url: str) -> dict[str, Any] | None:
        db = self._db()
        try:
            state = fetch_state(db, url) if db is not None else None
        except sqlite3.Error as exc:
            logger.debug("robots.txt cache not read: %s", exc)
            return None
        return state if state and state.get("body") is not None and state.get("status") in (200, 304) else None

    def _remember(self, url: str, request: Request, response: Response, body: bytes | None) -> None:
        """Keep a robots.txt (`body`; None: a 304) with its validators for the next run's request."""
        db = self._db()
        if db is None:
            return
        try:
            with write_transaction(db):
                record_fetch(db, url, request.meta.get("outlet") or "", "robots", status=response.status,
                             headers=validators(response), digest=body_hash(body) if body is not None else None,
                             body=body)
        except sqlite3.Error as exc:  # the next run downloads it again, that is all
            logger.debug("robots.txt not kept: %s", exc)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            self._unreachable(netloc, response.url, f"HTTP {response.status}")
        elif response.status >= 400:
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            logger.debug("robots.txt answered %d, everything is allowed: %s", response.status, response.url)
            self._settle(netloc, None)
        else:
            await super()._parse_robots(response, netloc, request)

    def _unreachable(self, netloc: str, url: str, reason: str, cause: BaseException | None = None) -> None:
        logger.warning("robots.txt unavailable (%s), nothing is fetched from %s this run: %s", reason, netloc, url)
        self._settle(netloc, _DisallowAll(reason, cause))  # type: ignore[arg-type]

    def _settle(self, netloc: str, parser: RobotParser | None) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)
