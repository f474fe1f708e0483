"""Retries with exponential backoff (Scrapy's RetryMiddleware retries at once).

`BackoffRetryMiddleware` marks each retry request with a delay: base * 2^(n-1) seconds, or the
server's Retry-After when longer, capped at NEWSMON_RETRY_BACKOFF_MAX. A Retry-After longer than
that cap is not retried in this run at all (the failed response goes on to the spider). `BackoffMiddleware`, early in
the chain, waits that long before the retry goes out, without blocking other downloads.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

DELAY_KEY = "newsmon_retry_delay"


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.base = settings.getfloat("NEWSMON_RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("NEWSMON_RETRY_BACKOFF_MAX", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        o = cls(crawler.settings)
        o.crawler = crawler
        return o

    def _delay_for(self, retry: Request, server_hint: float | None) -> float:
        attempt = max(1, int(retry.meta.get("retry_times", 1)))
        delay = self.base * 2 ** (attempt - 1)
        if server_hint is not None:
            delay = max(delay, server_hint)
        return min(delay, self.cap)

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            hint = retry_after_seconds(response.headers.get(b"Retry-After"))
            if hint is not None and hint > self.cap:
                # Waiting an hour would hold the run (and a slot) for nothing: give up in this run;
                # an article stays in the frontier and the next run asks again.
                logger.info("not retrying %s in this run: Retry-After %.0f s is over the %.0f s limit",
                            request.url, hint, self.cap)
                if self.crawler.stats is not None:
                    self.crawler.stats.inc_value("newsmon/retry/after_too_long")
                return response
            result.meta[DELAY_KEY] = self._delay_for(result, hint)
        return result

    def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            result.meta[DELAY_KEY] = self._delay_for(result, None)
        return result


class BackoffMiddleware:
    """Waits out the delay a retry request carries."""

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop(DELAY_KEY, 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
