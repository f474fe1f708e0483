"""An outlet-specific spider used by tests/test_crawl_behaviour.py (named by import path in a config)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawlers.spiders.outlet import OutletSpider

if TYPE_CHECKING:
    from scrapy.http import TextResponse

    from crawlers.items import PageItem
    from crawlers.outlets import Outlet


class OnlyHydrogenSpider(OutletSpider):
    """Takes only the hydrogen-ferry article of the zeitung outlet, and credits every page's author."""

    name = "only-hydrogen"

    def is_article(self, url: str, outlet: Outlet, channel: str) -> bool:
        return "wasserstoff" in url

    def page_item(self, response: TextResponse, item: PageItem) -> PageItem:
        item.hints["title"] = item.hints.get("title") or "set by the outlet spider"
        return item


class BrokenListingSpider(OutletSpider):
    """An outlet-specific spider with a bug in a hook: the run must not look 'ok'."""

    name = "broken-listing"

    def article_links(self, response: TextResponse, outlet: Outlet) -> list[str]:
        raise ValueError("this layout changed")
