"""The item that flows through the pipelines: one fetched article page, enriched in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PageItem:
    outlet_id: str
    url: str  # the URL requested (canonical form)
    final_url: str  # after redirects
    status: int
    body: bytes = field(repr=False)
    content_type: str | None
    encoding: str | None  # as Scrapy decoded it (BOM, HTTP header, <meta>, guess)
    headers: dict[str, str] = field(repr=False)
    fetched_at: str
    found_via: str  # feed | sitemap | news-sitemap | homepage
    hints: dict[str, Any] = field(default_factory=dict, repr=False)  # what the feed/sitemap said of the page
    body_hash: str | None = None  # sha256 of the raw body
    recheck_of: int | None = None  # the stored article this page is a recheck of
    retry: bool = False  # set when storing failed: the URL stays in the frontier for the next run
    # Filled by the pipelines:
    extraction: Any = field(default=None, repr=False)  # crawlers.extraction.PageExtraction
    language: Any = field(default=None, repr=False)  # crawlers.language.LanguageResult
    content_hash: str | None = None  # of the extracted text
    signature: bytes | None = field(default=None, repr=False)  # MinHash values (None: text too short)
    shingles: int | None = None
    similarity_probe: str = ""  # of the hasher that computed `signature` (storage.similarity)
    record: Any = field(default=None, repr=False)  # storage.articles.ArticleRecord
