"""Redirects: Scrapy's RedirectMiddleware, with loops told apart from long chains, and its
MetaRefreshMiddleware, without decoding pages that cannot hold a refresh.

Scrapy follows a loop (A -> B -> A) until REDIRECT_MAX_TIMES, or the duplicate filter silently
drops the step back to a URL already requested, so a loop was either lost without a trace or
reported as a long chain. Here a redirect to a URL already in its own chain stops at once as
`RedirectLoop`, and a chain past the limit is `TooManyRedirects`; the spider counts each as its
own error kind (`redirect_loop`, `too_many_redirects`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

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


#: Scrapy reads a meta refresh in the first 4,096 characters of a page: at most this many bytes
#: in any ASCII-compatible encoding (UTF-8 takes up to 4 bytes a character).
_REFRESH_WINDOW = 4 * 4096


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's, which decodes every HTML page whole (`response.text`) to look for
    `<meta http-equiv="refresh">` in its first 4,096 characters: 0.25 ms of the crawl process's
    CPU per 100 KB article, for a tag almost no article page has. A page whose first bytes do not
    contain "refresh" in any case cannot have one and is passed on undecoded; any other page (and
    any page in UTF-16 or UTF-32, whose bytes this test cannot read) goes through Scrapy's check.
    """

    def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        if isinstance(response, HtmlResponse):
            head = response.body[:_REFRESH_WINDOW]
            if b"\x00" not in head[:512] and b"refresh" not in head.lower():
                return response
        return super().process_response(request, response)
