"""Reading Scrapy responses the way newsmon stores them: header values as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.http import Response


def header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def validators(response: Response) -> dict[str, str]:
    """The response's ETag and Last-Modified, for the next conditional request."""
    return {h: v for h in ("etag", "last-modified") if (v := header(response, h))}
