"""Redirects: Scrapy's RedirectMiddleware, with loops told apart from long chains.

Scrapy follows a loop (A -> B -> A) until REDIRECT_MAX_TIMES, or the duplicate filter silently
drops the step back to a URL already requested, so a loop was either lost without a trace or
reported as a long chain. Here a redirect to a URL already in its own chain stops at once as
`RedirectLoop`, and a chain past the limit is `TooManyRedirects`; the spider counts each as its
own error kind (`redirect_loop`, `too_many_redirects`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request

logger = logging.getLogger(__name__)


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already visited in the same chain."""


class TooManyRedirects(IgnoreRequest):
    """A redirect chain longer than REDIRECT_MAX_TIMES."""


class LoopAwareRedirectMiddleware(RedirectMiddleware):
    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            raise RedirectLoop(f"redirect loop: {' -> '.join([*chain, redirected.url])}")
        try:
            return super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            raise TooManyRedirects(
                f"more than {self.max_redirect_times} redirects: {chain[0]} -> ... -> {redirected.url}"
            ) from None
