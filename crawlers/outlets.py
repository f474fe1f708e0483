"""The crawl-side view of one configured outlet.

`monitor/config.py` validates the TOML and builds these; the crawl receives them as plain dicts
through the `NEWSMON_OUTLETS` setting (so a crawl can run in a child process, fed only settings).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    homepage: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    article_url_pattern: str = ""
    language: str | None = None
    timezone: str | None = None
    interval: int | None = None  # seconds
    cron: str | None = None
    max_depth: int = 1
    exclude_xpaths: tuple[str, ...] = ()
    #: Name of an outlet-specific spider (a spider's `name` in crawlers/spiders/); "" = generic.
    spider: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def hosts(self) -> frozenset[str]:
        """Hosts named by homepage, feeds and sitemaps: only these (exactly) are fetched."""
        urls = [u for u in (self.homepage, *self.feeds, *self.sitemaps) if u]
        return frozenset(h for h in (urlsplit(u).hostname for u in urls) if h)

    @cached_property
    def article_regex(self) -> re.Pattern[str] | None:
        return re.compile(self.article_url_pattern) if self.article_url_pattern else None

    def allows_host(self, host: str | None) -> bool:
        """True if `host` is one of the outlet's hosts, or `allowed_domains` (or a subdomain of one)."""
        if not host:
            return False
        host = host.lower().rstrip(".")
        if host in self.hosts:
            return True
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def allows_url(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and self.allows_host(parts.hostname)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outlet:
        data = dict(data)
        for key in ("feeds", "sitemaps", "allowed_domains", "exclude_xpaths"):
            data[key] = tuple(data.get(key) or ())
        return cls(**data)
