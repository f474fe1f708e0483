"""robots.txt, with a fix for concurrent waiters (Scrapy 2.19).

Scrapy's RobotsTxtMiddleware awaits the one Deferred of a host's robots.txt from every request
that arrives while it is being fetched (`maybe_deferred_to_future(parser)`). `Deferred.asFuture`
adds a callback that returns None, so the first waiter gets the parser and every later one gets
None, which means "allow everything": a disallowed URL requested at the start of a crawl was
fetched (found by tests/test_crawl_behaviour.py). Each waiter here gets its own Deferred fed by
the shared one, as Scrapy did before it made process_request async (scrapy/scrapy#6802).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.http import Request
    from scrapy.robotstxt import RobotParser


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            mine: Deferred[RobotParser | None] = Deferred()

            def forward(result: RobotParser | None) -> RobotParser | None:
                mine.callback(result)
                return result  # the shared Deferred keeps its result for the next waiter

            pending.addCallback(forward)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)
