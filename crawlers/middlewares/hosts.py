"""The host gate: a request is fetched only if its host is one its outlet's config names.

Applies to every request, including redirects (RedirectMiddleware sends the new request back
through the downloader middlewares), so a redirect off the outlet's hosts is not followed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from crawlers.urls import host_of

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class OffsiteRequest(IgnoreRequest):
    """Raised for a request to a host its outlet does not name."""


class OutletHostsMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self._logged: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        outlet_id = request.meta.get("outlet")
        spider = self.crawler.spider
        outlet = getattr(spider, "outlets", {}).get(outlet_id)
        if outlet is None or outlet.allows_url(request.url):
            return
        host = host_of(request.url)
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("newsmon/offsite/requests")
        stats.inc_value(f"newsmon/outlet/{outlet_id}/offsite")
        if (outlet_id, host) not in self._logged:
            self._logged.add((outlet_id, host))
            logger.info("offsite request dropped outlet=%s host=%s url=%s", outlet_id, host, request.url)
        raise OffsiteRequest(f"host {host!r} is not one of outlet {outlet_id!r}'s hosts: {request.url}")
